"""Bad scenario files and plan flags: one 'error:' line naming the field, the documented exit
code (2 bad input, 3 nothing feasible), no traceback, bounded memory; and a property test
over scenario numbers and flags."""

from __future__ import annotations

import copy
import math
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, run_cli

BASE: dict[str, Any] = {
    "name": "bad-inputs", "model": "llama-3.1-8b",
    "workload": {"peak_rps": 5, "average_rps": 2, "input_tokens": 800, "output_tokens": 200,
                 "slo": {"ttft_p99_ms": 2000, "tpot_p99_ms": 80},
                 "data": {"data_class": "internal", "users_in": "US"}},
    "candidates": {"hardware": ["h100-sxm", "l40s", "rtx-4090"],
                   "sites": ["aws-us-east-1", "onprem-us-tx"], "precisions": ["fp8"],
                   "max_devices_per_replica": 2},
}


def _scenario(tmp: Path, **over: Any) -> Path:
    d = copy.deepcopy(BASE)
    for k, v in over.items():
        cur = d
        parts = k.split(".")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        cur[parts[-1]] = v
    p = tmp / "s.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def _one_line(r: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert r.returncode == code, r.stderr + r.stdout[-500:]
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error:") and "internal error" not in lines[0], lines[0]
    for n in needles:
        assert n in lines[0], lines[0]


SCENARIO_CASES = [
    ({"workload.peak_rps": 1e12}, 2, ["workload.peak_rps", "1000000"]),
    ({"workload.peak_rps": math.inf}, 2, ["workload.peak_rps", "finite"]),
    ({"workload.peak_rps": math.nan}, 2, ["workload.peak_rps"]),
    ({"workload.peak_rps": -5}, 2, ["workload.peak_rps", "greater than 0"]),
    ({"workload.input_tokens": math.inf}, 2, ["workload.input_tokens", "finite"]),
    ({"workload.input_tokens": 1e7}, 2, ["workload.input_tokens", "context"]),
    ({"workload.output_tokens": -1}, 2, ["workload.output_tokens"]),
    ({"workload.users": 10**15}, 2, ["workload.users"]),
    ({"workload.daily_curve": [2] * 24}, 2, ["workload.daily_curve"]),
    ({"financial.price_overrides": {"aws-us-east-1/h100-sxm": -3}}, 2,
     ["financial.price_overrides", "greater than 0"]),
    ({"financial.price_overrides": {"nowhere/h100-sxm": 3}}, 2,
     ["financial.price_overrides[nowhere/h100-sxm]", "unknown site"]),
    ({"financial.price_overrides": {"aws-us-east-1/h100": 3}}, 2,
     ["financial.price_overrides", "aws-us-east-1/h100-sxm"]),
    ({"financial.egress_gb_per_request": math.inf}, 2, ["financial.egress_gb_per_request"]),
    ({"candidates.hardware": ["h999"]}, 2, ["unknown hardware 'h999'"]),
    ({"candidates.sites": ["mars-1"]}, 2, ["unknown site 'mars-1'"]),
    ({"candidates.stack": "foo"}, 2, ["candidates.stack", "foo"]),
    ({"model": "llama-9"}, 2, ["unknown model 'llama-9'"]),
    ({"workload.slo.tpot_p99_ms": 0.001}, 3, ["slo", "> limit 0.001 ms"]),
    ({"workload.request_classes": [{"name": "a", "input_tokens": 100, "share": 1.0}]}, 2,
     ["request_classes", "mean input"]),
]


@pytest.mark.parametrize(("over", "code", "needles"), SCENARIO_CASES,
                         ids=[next(iter(c[0])) + str(i) for i, c in enumerate(SCENARIO_CASES)])
def test_bad_scenario_value_is_one_line(tmp_path: Path, over: dict[str, Any], code: int,
                                        needles: list[str]) -> None:
    """Each bad or impossible value gets one line naming the field and its exit code."""
    _one_line(run_cli("plan", str(_scenario(tmp_path, **over))), code, *needles)


@pytest.mark.parametrize(("text", "needle"), [
    ("name: x\nmodel: llama-3.1-8b\nworkload: {peak_rps: 1\n", "malformed YAML"),
    ("name: x\nname: y\nmodel: llama-3.1-8b\nworkload: {peak_rps: 1, input_tokens: 9}\n",
     "name: duplicate key"),
    ("", "a scenario is a YAML mapping"),
    ("- 1\n- 2\n", "a scenario is a YAML mapping"),
])
def test_malformed_scenario_files(tmp_path: Path, text: str, needle: str) -> None:
    """Malformed YAML, duplicate keys and non-mappings are one line each."""
    p = tmp_path / "s.yaml"
    p.write_text(text)
    _one_line(run_cli("plan", str(p)), 2, needle)


def test_binary_scenario_file(tmp_path: Path) -> None:
    """A binary file is refused as unreadable YAML, not a crash."""
    p = tmp_path / "s.yaml"
    p.write_bytes(bytes(range(256)) * 8)
    _one_line(run_cli("plan", str(p)), 2, "YAML")


@pytest.mark.parametrize(("flags", "needle"), [
    (["--top", "-5"], "--top"),
    (["--top", "0"], "--top"),
    (["--json", "--csv"], "one output format"),
])
def test_bad_plan_flags(tmp_path: Path, flags: list[str], needle: str) -> None:
    """Out-of-range or conflicting flags are refused before planning."""
    _one_line(run_cli("plan", str(_scenario(tmp_path)), *flags), 2, needle)


def test_out_at_an_existing_file(tmp_path: Path) -> None:
    """--out naming a file (not a folder) is refused before planning."""
    f = tmp_path / "afile"
    f.write_text("x")
    _one_line(run_cli("plan", str(_scenario(tmp_path)), "--out", str(f)), 2, "--out",
              "existing file")


@pytest.mark.parametrize(("args", "needle"), [
    (["--replicas", "100000000"], "replicas"),
    (["--max-batch", "0"], "--max-batch"),
    (["--timeline-every", "-1"], "--timeline-every"),
    (["--trace-out", "/nonexistent-dir/t.csv"], "--trace-out"),
])
def test_bad_simulate_flags(args: list[str], needle: str) -> None:
    """Simulator flags out of range are one line, before any work (no 100M-replica fleet)."""
    _one_line(run_cli("simulate", "-m", "llama-3.1-8b", "-H", "h100", "--rate", "1",
                      "--requests", "50", *args), 2, needle)


def test_simulate_with_every_request_dropped_is_not_success() -> None:
    """120k-token prompts (within the context) fit no KV cache of one L4: exit 3 with the
    reason, not exit 0 with every request silently dropped."""
    _one_line(run_cli("simulate", "-m", "llama-3.1-8b", "-H", "l4", "--rate", "1",
                      "--requests", "10", "--input-tokens", "120000", "-o", "100"), 3,
              "every one of the 10 requests was dropped")


@pytest.mark.parametrize("args", [
    ["estimate", "-m", "llama-3.1-8b", "-H", "h100", "-i", "200000"],
    ["simulate", "-m", "llama-3.1-8b", "-H", "h100", "--rate", "1", "--requests", "10",
     "--input-tokens", "10000000"],
])
def test_input_longer_than_the_context_is_bad_input(args: list[str]) -> None:
    """A request longer than the model's context is exit 2 naming --input-tokens and the
    context (estimate used to answer for 200k tokens, simulate to drop 10M-token prompts)."""
    _one_line(run_cli(*args), 2, "--input-tokens", "context of 131,072 tokens")


def test_out_in_a_place_that_cannot_be_written(tmp_path: Path) -> None:
    """--out where no folder can be made (under /proc) is refused, naming --out."""
    _one_line(run_cli("plan", str(_scenario(tmp_path)), "--out", "/proc/airadar-report"), 2,
              "--out", "a folder you can write")


def test_estimate_unknown_stack() -> None:
    """--stack foo names the known stack families instead of silently using peak figures."""
    _one_line(run_cli("estimate", "-m", "llama-3.1-8b", "-H", "h100", "--stack", "foo"), 2,
              "stack", "vllm")


def _limited_run(args: list[str]) -> subprocess.CompletedProcess[str]:
    """The CLI with its address space capped at 4 GiB: work that does not fit fails."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    return subprocess.run([sys.executable, "-m", "airadar", *args], capture_output=True,
                          text=True, timeout=300, preexec_fn=cap)


numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([0, -1, 1e-9, 1e6, 1e12, 1e300]),
                    st.integers(min_value=-10, max_value=10**13))


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(peak=numbers, inp=numbers, users=st.one_of(st.none(), numbers),
       price=numbers, top=st.integers(min_value=-3, max_value=3000))
def test_any_numbers_give_a_clear_exit(tmp_path_factory: pytest.TempPathFactory, peak: Any,
                                       inp: Any, users: Any, price: Any, top: int) -> None:
    """Whatever numbers a scenario and --top hold: exit 0, 2 or 3, never an internal error,
    a traceback or a memory kill (4 GiB address-space cap)."""
    tmp = tmp_path_factory.mktemp("prop")
    over: dict[str, Any] = {"workload.peak_rps": peak, "workload.average_rps": None,
                            "workload.input_tokens": inp,
                            "financial.price_overrides": {"onprem-us-tx/h100-sxm": price}}
    if users is not None:
        over["workload.users"] = users
    r = _limited_run(["plan", str(_scenario(tmp, **over)), "--top", str(top)])
    assert r.returncode in (0, 2, 3), r.stderr[-800:]
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr


def test_every_example_plans_with_out(tmp_path: Path) -> None:
    """Every shipped example writes its report (the on-device one used to raise KeyError)."""
    for ex in sorted((ROOT / "examples").glob("*.yaml")):
        r = run_cli("plan", str(ex), "--out", str(tmp_path / ex.stem))
        assert r.returncode == 0, (ex.name, r.stderr)
        assert (tmp_path / ex.stem / "index.html").stat().st_size > 10_000
        assert r.stdout.splitlines()[1].startswith("Recommended:"), ex.name


@pytest.mark.parametrize(("make", "args", "needle"), [
    (lambda d: (d / "m.json").write_bytes(bytes(range(256)) * 4),
     ["estimate", "-m", "{d}/m.json", "-H", "h100"], "UTF-8"),
    (lambda d: (d / "m.json").write_bytes(bytes(range(256)) * 4),
     ["catalog", "add-model", "{d}/m.json"], "UTF-8"),
    (lambda d: (d / "t.csv").write_bytes(bytes(range(256)) * 4),
     ["simulate", "-m", "llama-3.1-8b", "-H", "h100", "--trace", "{d}/t.csv"], "binary"),
    (lambda d: (d / "e.onnx").write_bytes(b""), ["graph", "{d}/e.onnx", "-H", "h100"],
     "at least one operator"),
    (lambda d: None, ["results", "list", "--store", "{d}/typo.sqlite"], "existing result store"),
])
def test_binary_empty_and_missing_files(tmp_path: Path, make: Any, args: list[str],
                                        needle: str) -> None:
    """Binary files, an empty .onnx and a mistyped store path are one line each (and the
    mistyped store is not created)."""
    make(tmp_path)
    _one_line(run_cli(*[a.format(d=tmp_path) for a in args]), 2, needle)
    assert not (tmp_path / "typo.sqlite").exists()


def test_validate_and_calibrate_with_no_usable_row(tmp_path: Path) -> None:
    """A measurement file whose rows map to nothing: validate and calibrate exit 3 naming the
    skip reasons (calibrate used to raise KeyError, validate to print null medians as success)."""
    header = ("id,source,hardware,device_count,stack,model,precision,scenario,input_tokens,"
              "output_tokens,batch_or_concurrency,metric,value,unit,notes\n")
    f = tmp_path / "g.csv"
    f.write_text(header + "1,x,foo,1,vllm,bar,fp16,Offline,1,1,1,tokens_per_s,abc,tok/s,\n")
    _one_line(run_cli("validate", str(f)), 3, "no row", "unknown hardware 'foo'")
    assert run_cli("validate", str(f), "--json").returncode == 3
    _one_line(run_cli("calibrate", "--from-csv", str(f), "--out", str(tmp_path / "p.yaml")), 3,
              "nothing to fit")
    assert not (tmp_path / "p.yaml").exists()


@pytest.mark.parametrize("content, needle", [
    (b"a,b\n1,2,3,4\n", "the columns of calibration.csv"),
    (bytes(range(256)) * 8, "a UTF-8 CSV file"),
])
def test_calibrate_from_a_ragged_or_binary_csv_is_one_line(tmp_path: Path, content: bytes,
                                                           needle: str) -> None:
    """Garbage to calibrate --from-csv: one line naming what a calibration file is; no
    profiles file written."""
    f = tmp_path / "g.csv"
    f.write_bytes(content)
    _one_line(run_cli("calibrate", "--from-csv", str(f), "--out", str(tmp_path / "p.yaml")), 2,
              needle)
    assert not (tmp_path / "p.yaml").exists()
