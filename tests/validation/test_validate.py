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
