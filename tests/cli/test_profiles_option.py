"""``--profiles FILE``: plan and estimate take a profiles file (what ``calibrate --out``
writes, e.g. fitted on this host's own bench and load-test runs) over the shipped ones, label
what it drives "measured", and refuse a malformed one in one line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, run_cli


def test_estimate_uses_a_measured_profile_file(tmp_path: Path) -> None:
    """calibrate --from-store --out writes the host's profiles to a file of its own; estimate
    without --profiles does not see them, with --profiles they drive the figures."""
    out = tmp_path / "host-profiles.yaml"
    r = run_cli("calibrate", "--from-store", str(ROOT / "data/host/host_runs.sqlite"),
                "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    key = json.loads(r.stdout)["stacks"]["llama.cpp"]["key"]
    hw_id = key.split("/")[-1]
    args = ("estimate", "-m", "smollm2-135m", "-H", hw_id, "--stack", "llama.cpp",
            "--precision", "int4/fp32/fp16", "-i", "128", "-o", "16", "--mode", "single-stream",
            "--json")
    before = run_cli(*args)
    after = run_cli(*args, "--profiles", str(out))
    assert before.returncode == 0 and after.returncode == 0, before.stderr + after.stderr
    b, a = json.loads(before.stdout), json.loads(after.stdout)
    assert b["provenance"]["kind"] != "measured"
    assert a["provenance"]["kind"] == "measured"
    assert a["provenance"]["profile"].startswith(key)
    # the measured profile (data/host: about 7 ms per token in-process for SmolLM2 on this
    # host) moves the decode step away from the datasheet-only figure
    assert a["tpot_s"]["p50"] != pytest.approx(b["tpot_s"]["p50"], rel=0.05)


def test_plan_labels_rows_driven_by_a_profiles_file(tmp_path: Path) -> None:
    """A team's own profile for the hardware of the ranked #1 changes that row's label to
    measured and its capacity; rows on other hardware keep theirs."""
    sc = str(ROOT / "examples/hospital-rag.yaml")
    base = json.loads(run_cli("plan", sc, "--json", "--all").stdout)
    top = base["ranked"][0]
    key = top["perf_provenance"].split(" / ")[1]
    f = tmp_path / "team.yaml"
    f.write_text(yaml.safe_dump({"profiles": {
        f"{key.split('@')[0]}/{top['hardware']}": {
            "ce_prefill": 0.2, "ce_decode": 0.2, "me": 0.3, "provenance": "measured",
            "fitted": ["ce_prefill", "ce_decode", "me"],
            "fitted_on": "our own load tests (example)"}}}))
    r = run_cli("plan", sc, "--json", "--all", "--profiles", str(f))
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["ranked"]
    mine = [x for x in rows if x["hardware"] == top["hardware"]
            and x["precision"] == top["precision"]]
    assert mine and all(x["perf_provenance"].startswith("measured / ") for x in mine)
    same = [x for x in mine if x["label"] == top["label"]]
    assert not same or same[0]["capacity_rps"] != pytest.approx(top["capacity_rps"], rel=0.02)
    others = [x for x in rows if x["hardware"] != top["hardware"]]
    assert others and not any(x["perf_provenance"].startswith("measured") for x in others)


@pytest.mark.parametrize("content, needle", [
    ("profiles: {}", "non-empty 'profiles' mapping"),
    ("profiles: {'gpu/vllm': {ce_prefil: 0.5}}", "ce_prefil"),
    ("profiles: {'gpu/vllm': {me: -1}}", "a finite number >= 0"),
    ("profiles: {'gpu/vllm': {me: .inf}}", "a finite number >= 0"),
    ("[1, 2", "malformed YAML at line"),
    ("[1, 2]", "non-empty 'profiles' mapping"),
])
def test_a_bad_profiles_file_is_one_line(tmp_path: Path, content: str, needle: str) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(content)
    r = run_cli("estimate", "-m", "llama-3.1-8b", "-H", "h100", "--profiles", str(f))
    assert r.returncode == 2, r.stdout
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_missing_profiles_file_is_refused() -> None:
    r = run_cli("plan", str(ROOT / "examples/hospital-rag.yaml"), "--profiles", "/no/such.yaml")
    assert r.returncode == 2 and "--profiles" in r.stderr


def test_owned_hardware_without_a_power_figure_is_rejected_with_the_reason(
        tmp_path: Path) -> None:
    """This host's measured hardware row has no TDP (RAPL unreadable): at an owned site its
    energy cannot be priced, so the plan names that instead of ranking it at NaN $/h."""
    assert run_cli("calibrate", "--from-store", str(ROOT / "data/host/host_runs.sqlite"),
                   "--out", str(tmp_path / "p.yaml")).returncode == 0
    host = yaml.safe_load(Path(os.environ["AIRADAR_HOME"], "hardware",
                               "host.yaml").read_text())[0]
    assert "tdp_w" not in (host.get("power") or {})
    sc = tmp_path / "host.yaml"
    sc.write_text(yaml.safe_dump({
        "name": "SmolLM2 on this machine", "model": "smollm2-135m",
        "workload": {"peak_rps": 0.2, "input_tokens": 32, "output_tokens": 16,
                     "slo": {"ttft_p99_ms": 3000, "tpot_p99_ms": 100}},
        "candidates": {"hardware": [host["id"]], "precisions": ["int4"],
                       "site_kinds": ["onprem"], "onprem_setting": "lab"},
        "financial": {"purchase_usd_per_device": 1500}}))
    r = run_cli("plan", str(sc))
    assert r.returncode == 3, r.stdout + r.stderr
    assert "no power figure" in r.stderr and "nan" not in r.stderr.lower()


def test_simulate_takes_the_profiles_file_too(tmp_path: Path) -> None:
    """simulate's step times follow a --profiles file: a slower decode profile for the H100
    lengthens the simulated TPOT."""
    args = ("simulate", "-m", "llama-3.1-8b", "-H", "h100", "--stack", "vllm", "--rate", "2",
            "--requests", "200", "-i", "256", "-o", "64", "--json")
    base = run_cli(*args)
    f = tmp_path / "slow.yaml"
    f.write_text(yaml.safe_dump({"profiles": {"gpu/vllm/h100-sxm": {
        "me": 0.1, "ce_decode": 0.05, "provenance": "measured", "fitted": ["me", "ce_decode"]}}}))
    slow = run_cli(*args, "--profiles", str(f))
    assert base.returncode == 0 and slow.returncode == 0, base.stderr + slow.stderr
    b, s = json.loads(base.stdout), json.loads(slow.stdout)
    assert s["tpot_s"]["p50"] > 2 * b["tpot_s"]["p50"]
