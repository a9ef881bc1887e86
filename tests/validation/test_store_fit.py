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
    cv = res["cross_validated"]
    assert len(cv["held_out_models"]) >= 5
    assert 0 <= cv["ttft_median_ape"] < 1 and 0 <= cv["tpot_median_ape"] < 2
    host = (home / "hardware" / "host.yaml").read_text()
    assert "measured by airadar host micro-benchmark" in host
    hw_id = res["key"].split("/")[-1]
    e = run_cli("estimate", "-m", "smollm2-135m", "-H", hw_id, "--stack", "pytorch",
                "--precision", "fp32", "--mode", "single-stream", "--json", home=home)
    assert e.returncode == 0, e.stderr
    assert json.loads(e.stdout)["provenance"]["kind"] == "calibrated"


def test_from_store_and_from_csv_are_exclusive() -> None:
    """Exactly one source of measurements."""
    r = run_cli("calibrate")
    assert r.returncode == 2 and "exactly one" in r.stderr
