"""Predicted vs measured for load tests, and load-test runs as calibration points."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytest.importorskip("httpx")
pytest.importorskip("sqlalchemy")

DEP = "hardware=h100,count=1,precision=bf16,stack=vllm,model=llama-3.1-8b,max_batch=8"


def test_deployment_gives_predicted_vs_measured(scripted, tmp_path: Path) -> None:
    """--deployment runs the simulator on the same requests; each row's error is
    predicted / measured - 1."""
    s = scripted("--ttft-ms", "20", "--itl-ms", "10")
    r = run_cli("loadtest", "--url", s.url, "--model", "m", "--rate", "5", "-n", "10", "-o", "6",
                "--deployment", DEP, "--store", str(tmp_path / "lt.sqlite"), "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["predicted"]["requests"] == 10
    assert res["predicted"]["provenance"]["kind"] == "simulated"
    rows = {x["metric"]: x for x in res["predicted_vs_measured"]}
    assert set(rows) >= {"TTFT p50", "TPOT p99", "E2E p90", "throughput"}
    t = rows["TTFT p50"]
    assert t["measured"] == res["ttft_s"]["p50"]
    assert t["error"] == pytest.approx(t["predicted"] / t["measured"] - 1)


def test_deployment_is_parsed_and_checked() -> None:
    """--deployment takes simulate's terms; a bad count or a missing hardware is a SpecError."""
    from airadar.errors import SpecError
    from airadar.validation.loadtest_predict import parse_deployment

    with pytest.raises(SpecError, match="count"):
        parse_deployment("hardware=h100,count=zero", default_model="m")
    with pytest.raises(SpecError, match="hardware"):
        parse_deployment("precision=fp8", default_model="m")
    d = parse_deployment("hardware=h100,count=2,stack=vllm", default_model="llama-3.1-8b")
    assert (d.hardware, d.count, d.model, d.precision) == ("h100", 2, "llama-3.1-8b", "bf16")


def test_closed_loop_single_client_runs_become_calibration_points(scripted,
                                                                  tmp_path: Path) -> None:
    """calibrate --from-store reads a closed-loop, one-client load test with a deployment as a
    batch-1 point (median TTFT and TPOT); open-loop runs and runs without one are skipped."""
    from airadar.bench.store import Store
    from airadar.validation.store_fit import points_from_store

    s = scripted("--ttft-ms", "30", "--itl-ms", "10")
    db = tmp_path / "lt.sqlite"
    dep = "hardware=h100,precision=int4/fp32/fp16,stack=llama.cpp,model=smollm2-135m"
    for args in (("-c", "1", "--deployment", dep), ("--rate", "5", "--deployment", dep),
                 ("-c", "1")):
        r = run_cli("loadtest", "--url", s.url, "--model", "m", "-n", "6", "-o", "5", "-i", "20",
                    "--store", str(db), "--json", *args)
        assert r.returncode == 0, r.stderr
    pts = points_from_store(Store(f"sqlite:///{db}"), tmp_path)
    assert len(pts) == 1
    p = pts[0]
    assert (p.source, p.stack, p.precision, p.batch, p.output_tokens) == (
        "loadtest", "llama.cpp", "int4/fp32/fp16", 1, 5)
    assert p.model.id == "smollm2-135m" and p.input_tokens == 20
    assert p.ttft_s == pytest.approx(0.030, abs=0.015)
    assert p.tpot_s == pytest.approx(0.010, abs=0.004)
