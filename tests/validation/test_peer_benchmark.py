"""The row selection of ``benchmarks/peer_aiconfigurator.py --deepseek`` (no peer needed)."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

from airadar.catalog import resolve
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


class _FakePeer:
    """Stands in for aiconfigurator: records the experiment, answers one configuration."""

    version = "0.12.0"

    def __init__(self) -> None:
        self.asked: list[dict] = []

    def backend_version(self, system: str) -> str:
        return "1.3.0rc20"

    def best(self, exp: dict):  # type: ignore[no-untyped-def]
        self.asked.append(exp)
        return ({"tokens/s": 80_000.0, "bs": 512, "tpot": 69.5,
                 "parallel": "tp1pp1dp8etp1ep8", "version": "1.3.0rc20"}, 0.5, "")


def test_deepseek_peer_asks_one_8_gpu_instance_and_scales_per_gpu() -> None:
    bench = _bench()
    rows = [r for r in bench.deepseek_rows(ROOT / "data" / "calibration.csv")
            if r["id"] in ("V00933", "V01402")]
    queries, _, _ = map_rows(rows)
    peer = _FakePeer()
    res = {q.id: bench.deepseek_peer(peer, q) for q in queries}
    # 80,000 tokens/s on 8 GPUs = 10,000 per GPU; GB200 NVL72 (V01402) has 72 of them
    assert res["V00933"]["predicted"] == 80_000.0
    assert res["V01402"]["predicted"] == 720_000.0
    exp = peer.asked[0]
    assert exp["total_gpus"] == 8 and exp["agg_moe_ep_candidates"] == [8]
    assert exp["gemm_quant_mode"] == exp["moe_quant_mode"] == "nvfp4"
    assert exp["isl"] == 800 and exp["system_name"] in ("b200_sxm", "gb200")
    # a GPU the peer has no system for is a reason, not a number
    other = dataclasses.replace(queries[0], hw=resolve.hardware("mi300x"))
    assert "no mi300x system" in bench.deepseek_peer(peer, other)["error"]
    assert len(peer.asked) == 2
