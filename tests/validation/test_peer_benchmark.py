"""The row selection of ``benchmarks/peer_aiconfigurator.py --deepseek`` (no peer needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from airadar.validation.rows import map_rows

ROOT = Path(__file__).resolve().parents[2]


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "peer_aiconfigurator", ROOT / "benchmarks" / "peer_aiconfigurator.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_deepseek_rows_are_the_v51_offline_rows_the_peer_has_systems_for() -> None:
    bench = _bench()
    rows = bench.deepseek_rows(ROOT / "data" / "calibration.csv")
    # MLPerf Inference v5.1 closed, deepseek-r1 Offline: five 8x B200 systems (V00933 NVIDIA
    # 30,493.3 tokens/s ...), one GB200 NVL72 and two GB300 systems
    assert {r["id"] for r in rows} == {"V00933", "V01006", "V01097", "V01138", "V01350",
                                       "V01402", "V01419", "V01713"}
    queries, skipped, _ = map_rows(rows)
    assert not skipped and len(queries) == 8
    assert {q.hw.id for q in queries} <= set(bench.DEEPSEEK_SYSTEMS)
    assert all(q.model.id == "deepseek-r1" and q.precision.weights == "fp4" for q in queries)
    v = next(r for r in rows if r["id"] == "V00933")
    assert float(v["value"]) == 30493.3
