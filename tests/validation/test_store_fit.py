"""Calibrating this machine's profile from its own stored measurements."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

pytest.importorskip("torch")
pytest.importorskip("sqlalchemy")


def test_calibrate_from_store_reports_cross_validated_error(tmp_path: Path) -> None:
    """The shipped host store fits a profile, writes a measured hardware row, and reports
    leave-one-model-out errors for TTFT and the decode step."""
    home = tmp_path / "home"
    r = run_cli("calibrate", "--from-store", str(ROOT / "data" / "host" / "host_runs.sqlite"),
                "--json", home=home)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert set(res["stacks"]) == {"pytorch", "llama.cpp"}
    for stack, prec in (("pytorch", "fp32"), ("llama.cpp", "int4")):
        st = res["stacks"][stack]
        cv = st["cross_validated"]
        assert len(cv["held_out_models"]) >= 5
        assert 0 <= cv["ttft_median_ape"] < 1 and 0 <= cv["tpot_median_ape"] < 2
        host = (home / "hardware" / "host.yaml").read_text()
        assert "measured by airadar host micro-benchmark" in host
        hw_id = st["key"].split("/")[-1]
        e = run_cli("estimate", "-m", "smollm2-135m", "-H", hw_id, "--stack", stack,
                    "--precision", prec, "--mode", "single-stream", "--json", home=home)
        assert e.returncode == 0, e.stderr
        prov = json.loads(e.stdout)["provenance"]
        assert prov["kind"] == "measured"
        # the fit assumed GEMMs by phase, no tail or front-end factors: none of those may come
        # from the MLPerf-fitted class profiles above it (cpu/*: gemm_m_half 1.0, */*:
        # overlap_p 1.2), or the estimate would not be the model that was fitted
        inherited = prov["profile_inherited_fields"]
        for f in ("gemm_m_half", "overlap_p", "ttft_k", "ttft_tail", "tpot_tail"):
            assert not inherited.get(f, "").startswith(("cpu/*", "*/*")), (f, inherited)


def test_from_store_and_from_csv_are_exclusive() -> None:
    """Exactly one source of measurements."""
    r = run_cli("calibrate")
    assert r.returncode == 2 and "exactly one" in r.stderr


def test_host_micro_benchmarks_are_stored_and_used(tmp_path: Path) -> None:
    """bench-host keeps the machine's measured figures in the store; calibration takes their
    median (the figures from the time of the campaign, not of the calibration)."""
    from airadar.bench import host
    from airadar.bench.store import Store

    db = tmp_path / "h.sqlite"
    for _ in range(2):
        r = run_cli("bench-host", "--seconds", "0.2", "--store", str(db), "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["peak_flops_fp32"] > 1e9
    st = Store(f"sqlite:///{db}")
    runs = [x["settings"] for x in st.list_runs()]
    m = host.stored_measurement(st)
    assert m is not None and m["stored_runs"] == 2
    assert min(x["mem_bandwidth_bytes_per_s"] for x in runs) <= m["mem_bandwidth_bytes_per_s"] \
        <= max(x["mem_bandwidth_bytes_per_s"] for x in runs)
    bad = run_cli("bench-host", "--seconds", "0", "--store", str(db))
    assert bad.returncode == 2 and "--seconds" in bad.stderr
