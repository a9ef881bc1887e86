"""Predicted vs measured for load tests, and load-test runs as calibration points."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytest.importorskip("aiohttp")
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
        "loadtest", "llama.cpp-server", "int4/fp32/fp16", 1, 5)
    assert p.model.id == "smollm2-135m" and p.input_tokens == 20
    assert p.ttft_s == pytest.approx(0.030, abs=0.015)
    assert p.tpot_s == pytest.approx(0.010, abs=0.004)


def test_calibrate_from_store_fits_a_served_stack_and_the_prediction_follows(
        scripted, tmp_path: Path) -> None:
    """Load tests of an endpoint fit the served stack's front end (per request, per streamed
    token) on top of the engine profile fitted from the bench runs in the same store; the
    prediction for the endpoint then matches it, while the engine alone is far too fast.

    The scripted server answers with TTFT 300 ms and 40 ms per token whatever the prompt:
    the measured SmolLM2 llama.cpp engine on this host (data/host/host_runs.sqlite: about
    0.33 s TTFT for 128 tokens and 7 ms per token in-process) cannot explain that, the front
    end's two overheads can."""
    import shutil

    import yaml

    db = tmp_path / "store.sqlite"
    shutil.copy(Path(__file__).resolve().parents[2] / "data/host/host_runs.sqlite", db)
    s = scripted("--ttft-ms", "300", "--itl-ms", "40")
    dep = ("hardware=host-amd-epyc,precision=int4/fp32/fp16,stack=llama.cpp,"
           "model=smollm2-135m,max_batch=1")
    for words in ("16", "32", "48"):
        r = run_cli("loadtest", "--url", s.url, "--model", "m", "-c", "1", "-n", "4", "-o", "8",
                    "-i", words, "--deployment", dep, "--store", str(db), "--json")
        assert r.returncode in (0, 2), r.stderr  # 2: host-amd-epyc unknown before calibrating
    r = run_cli("calibrate", "--from-store", str(db), "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    served = res["stacks"]["llama.cpp-server"]
    assert served["points_by_source"] == {"loadtest": 3}
    assert served["served_on"] == "llama.cpp"
    # the engine alone misses the endpoint's TPOT by far; the fitted front end explains it
    assert served["spec_only"]["tpot_median_ape"] > 0.5
    assert served["fitted_in_sample"]["tpot_median_ape"] < 0.10
    assert served["fitted_in_sample"]["ttft_median_ape"] < 0.15
    assert served["cross_validated"]["tpot_median_ape"] < 0.15
    prof = served["profile"]
    assert 0.02 < prof["ovh_token_s"] < 0.045  # 40 ms per token less the engine's decode step
    assert 0.1 < prof["ovh_request_s"] < 0.35
    home = Path(os.environ["AIRADAR_HOME"])
    row = yaml.safe_load((home / "profiles.yaml").read_text())["profiles"][
        served["key"]]
    # three prompt lengths: the prefill efficiency behind the server is fitted too
    assert set(row) == {"ovh_request_s", "ovh_token_s", "ce_prefill", "mem_reserve", "sigma_log",
                        "provenance", "fitted_on", "fitted"}
    assert row["fitted"] == ["ovh_request_s", "ovh_token_s", "ce_prefill"]
    assert row["provenance"] == "measured"
    # the endpoint's prediction now uses the served profile and lands near the measurement
    r = run_cli("loadtest", "--url", s.url, "--model", "m", "-c", "1", "-n", "4", "-o", "8",
                "-i", "32", "--deployment", dep, "--store", str(db), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["predicted"]["profile"] == served["key"]
    rows = {x["metric"]: x for x in out["predicted_vs_measured"]}
    assert abs(rows["TPOT p50"]["error"]) < 0.15
    assert abs(rows["TTFT p50"]["error"]) < 0.25
