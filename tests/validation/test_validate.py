"""`airadar validate` on the shared calibration rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from airadar.validation.rows import map_rows, read_rows
from tests.conftest import CALIBRATION, run_cli


def test_at_least_90pct_of_llm_throughput_rows_map() -> None:
    """Foundation target: >= 90% of LLM Offline/Server throughput rows are scored."""
    rows = read_rows(CALIBRATION)
    llm_thr = [r for r in rows if r["unit"] == "tokens/s" and "total token" not in r["metric"]]
    queries, _, why = map_rows(llm_thr)
    assert len(queries) / len(llm_thr) >= 0.9, why


def test_validate_json_contract(tmp_path: Path) -> None:
    """DESIGN.md contract fields, on a 40-row slice; skipped rows carry a reason."""
    with CALIBRATION.open() as fh:
        rows = list(csv.DictReader(fh))
    sl = rows[:30] + [r for r in rows if "Stable-Diffusion" in r["model"]][:2] + rows[-8:]
    f = tmp_path / "slice.csv"
    with f.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(sl)
    r = run_cli("validate", str(f), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for k in ("rows_total", "rows_scored", "rows_skipped", "median_ape", "within_25pct", "rows",
              "groups"):
        assert k in out
    assert out["rows_total"] == len(sl)
    assert out["rows_scored"] + sum(out["rows_skipped"].values()) == len(sl)
    assert "diffusion model (not modelled)" in out["rows_skipped"]
    assert {"id", "predicted", "measured", "ape"} <= set(out["rows"][0])


def test_missing_column_is_named(tmp_path: Path) -> None:
    """A CSV without the calibration columns fails with one line naming the column."""
    f = tmp_path / "bad.csv"
    f.write_text("a,b\n1,2\n")
    r = run_cli("validate", str(f))
    assert r.returncode == 2 and "column" in r.stderr and "Traceback" not in r.stderr


def test_rows_of_a_submitter_engine_are_scored_under_its_own_profile() -> None:
    """MLPerf v5.1 MI300X/MI325X rows run "Mango LLMBoost" (calibration.csv V01051 onward):
    a stack family airadar has no engine model of, but a fitted profile (gpu/mango). Its rows
    are scored (under that profile where no profile of the device itself is more specific),
    not skipped as an unknown stack (they were, silently, so
    the profile was never fitted); a stack with neither is still refused."""
    from airadar.errors import SpecError
    from airadar.perf.profiles import check_stack
    from airadar.validation.score import score

    rows = [r for r in read_rows(CALIBRATION) if r["stack"].startswith("Mango LLMBoost")
            and r["unit"] == "tokens/s" and "total token" not in r["metric"]]
    assert len(rows) >= 10
    queries, _, _ = map_rows(rows)
    scored, skipped = score(queries, profiles=None)
    assert len(scored) == len(queries) == len(rows), skipped
    assert any(s.profile.startswith("gpu/mango") for s in scored)
    try:
        check_stack("foo 1.0")
    except SpecError as e:
        assert "mango" in str(e) and "vllm" in str(e)
    else:
        raise AssertionError("an unknown stack was accepted")


def test_scoring_in_processes_gives_the_same_predictions() -> None:
    """Scoring in worker processes (validate and calibrate use the usable CPUs) gives exactly the
    predictions and skip reasons of scoring in this process: rows of one measured run stay in
    one worker and share its simulated run. 60 Server/latency rows of MLPerf v5.1 (H200,
    Llama 2 70B) plus their Offline rows."""
    from airadar.validation import score as score_mod

    rows = [r for r in read_rows(CALIBRATION) if "llama2-70b" in r["scenario"]
            and "H200-SXM" in r["hardware"] and "v5.1" in r["source"]]
    queries, _, _ = map_rows(rows)
    sim = [q for q in queries if q.mode in ("server", "rate")]
    assert len(sim) >= score_mod.PARALLEL_MIN_SIMULATED
    one, skip1 = score_mod.score(queries, workers=1)
    two, skip2 = score_mod.score(queries, workers=2)
    assert skip1 == skip2
    assert [(s.query.id, s.predicted, s.profile) for s in one] == \
        [(s.query.id, s.predicted, s.profile) for s in two]
