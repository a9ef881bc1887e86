"""`airadar validate` on the shared calibration rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

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


def test_runs_under_latency_limits_are_scored_on_the_server_layout() -> None:
    """`validate` scores what `estimate --mode server` answers: an MLPerf v5.1 Interactive run
    (Llama 2 70B on 8x H200 SXM, FP8, TTFT p99 <= 450 ms and TPOT p99 <= 40 ms; calibration.csv
    V01465, 23,080 tokens/s) is predicted on the layout the server-mode screen chooses under
    those limits and simulated there, as `estimate --mode server` does; its Offline twin
    (V01470) on the offline layout. They differ: one GPU per replica gives the most tokens at
    no limit, a wider tensor-parallel group the most within 40 ms per token."""
    from airadar.perf import estimate as est_mod
    from airadar.perf.profiles import select_profile
    from airadar.sim import operating
    from airadar.validation import score as score_mod

    rows = {r["id"]: r for r in read_rows(CALIBRATION)}
    inter, off = (q for q in map_rows([rows["V01465"], rows["V01470"]])[0])
    assert inter.scenario.startswith("MLPerf Interactive") and off.mode == "offline"
    assert (inter.ttft_slo_s, inter.tpot_slo_s) == (0.45, 0.04)
    prof = select_profile(inter.hw, inter.precision, inter.stack)
    prof = score_mod.stack_profile(inter, prof)
    kw = dict(model=inter.model, hw=inter.hw, count=inter.count, precision=inter.precision,
              input_tokens=inter.input_tokens, output_tokens=inter.output_tokens,
              stack=inter.stack, profile=prof)
    est = est_mod.estimate(**kw, mode="server", ttft_p99_s=0.45, tpot_p99_s=0.04)
    dep, replicas = score_mod._llm_dep(inter, prof)
    assert (dep.tp, dep.pp, replicas) == (est.layout.tp, est.layout.pp, est.layout.replicas)
    odep, oreplicas = score_mod._llm_dep(off, prof)
    offline = est_mod.estimate(**{**kw, "input_tokens": off.input_tokens,
                                  "output_tokens": off.output_tokens}, mode="offline")
    assert (odep.tp, oreplicas) == (offline.layout.tp, offline.layout.replicas)
    assert (dep.tp, dep.pp) != (odep.tp, odep.pp)
    sim = operating.simulated_server(est, model=inter.model, hw=inter.hw,
                                     precision=inter.precision, sparsity=score_mod.DENSE,
                                     profile=prof, ttft_p99_s=0.45, tpot_p99_s=0.04)
    assert score_mod.predict(inter, prof) == pytest.approx(sim.throughput_output_tokens_per_s,
                                                           rel=0.02)


def test_latency_rows_of_a_limited_run_are_predicted_at_its_operating_point() -> None:
    """An MLPerf Interactive run is measured at the highest rate its submitter found within
    the limits (calibration.csv V01465: Llama 2 70B, 8x H200 SXM, FP8; p99 TTFT <= 450 ms,
    p99 TPOT <= 40 ms; V01466: TTFT p99 431.5 ms measured during it at 79.16 requests/s).
    `validate` predicts that TTFT p99 at the simulator's own operating point under the same
    limits, which is what `estimate --mode server` shows; the run's throughput row and its
    latency rows share one capacity search; ``latency_at="rate"`` simulates at the measured
    rate instead, a different figure."""
    from airadar.perf import estimate as est_mod
    from airadar.perf.profiles import select_profile
    from airadar.sim import operating
    from airadar.validation import score as score_mod

    rows = {r["id"]: r for r in read_rows(CALIBRATION)}
    inter, ttft = map_rows([rows["V01465"], rows["V01466"]])[0]
    assert ttft.target == "ttft_p99" and ttft.rate_rps and score_mod.under_limits(ttft)
    assert ttft.measured == pytest.approx(0.4315, rel=1e-3)
    prof = select_profile(inter.hw, inter.precision, inter.stack)
    prof = score_mod.stack_profile(inter, prof)
    est = est_mod.estimate(model=inter.model, hw=inter.hw, count=inter.count,
                           precision=inter.precision, input_tokens=inter.input_tokens,
                           output_tokens=inter.output_tokens, stack=inter.stack, profile=prof,
                           mode="server", ttft_p99_s=0.45, tpot_p99_s=0.04)
    sim = operating.simulated_server(est, model=inter.model, hw=inter.hw,
                                     precision=inter.precision, sparsity=score_mod.DENSE,
                                     profile=prof, ttft_p99_s=0.45, tpot_p99_s=0.04)
    memo: dict = {}
    at_op = score_mod.predict(ttft, prof, memo=memo)
    assert at_op == pytest.approx(sim.ttft_p99_s, rel=0.02)
    assert at_op <= 0.45  # the operating point meets the limit it was searched under
    score_mod.predict(inter, prof, memo=memo)
    assert len([k for k in memo if k[0] == "capacity"]) == 1
    at_rate = score_mod.predict(ttft, prof, latency_at="rate")
    assert abs(at_rate / at_op - 1) > 0.02


def test_validate_refuses_an_unknown_latency_point(tmp_path: Path) -> None:
    r = run_cli("validate", str(CALIBRATION), "--latency-at", "median")
    assert r.returncode != 0 and "--latency-at" in r.stderr and "Traceback" not in r.stderr


def test_runs_that_differ_only_in_their_limits_get_their_own_layouts() -> None:
    """The rows of one measured run share its layout (one memo per chunk of rows), but the
    layout is keyed on the run's limits: the same Interactive run (calibration.csv V01465)
    without TTFT/TPOT limits is an at-rate run on the offline layout, even after the limited
    one filled the memo."""
    import dataclasses

    from airadar.perf.profiles import select_profile
    from airadar.validation import score as score_mod

    rows = {r["id"]: r for r in read_rows(CALIBRATION)}
    (inter,) = map_rows([rows["V01466"]])[0]  # a TTFT p99 row measured during that run
    assert inter.mode == "rate" and inter.tpot_slo_s == 0.04
    free = dataclasses.replace(inter, ttft_slo_s=None, tpot_slo_s=None)
    prof = select_profile(inter.hw, inter.precision, inter.stack)
    memo: dict = {}
    limited = score_mod._layout(inter, prof, memo)
    unlimited = score_mod._layout(free, prof, memo)
    assert (unlimited[0].tp, unlimited[1]) == (score_mod._llm_offline_dep(free, prof)[0].tp,
                                               score_mod._llm_offline_dep(free, prof)[1])
    assert (limited[0].tp, limited[0].pp) != (unlimited[0].tp, unlimited[0].pp)
    assert len([k for k in memo if k[0] == "layout"]) == 2
