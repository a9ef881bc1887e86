"""Every command turns bad input into one 'error:' line and a non-zero exit, never a
traceback (run through the real entry point in a subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

CASES = [
    (["estimate", "-m", "llama-9", "-H", "h100"], 2, "unknown model"),
    (["estimate", "-m", "llama-3.1-8b", "-H", "h999"], 2, "unknown hardware"),
    (["estimate", "-m", "llama-3.1-8b", "-H", "h100", "-n", "0"], 2, "count"),
    (["estimate", "-m", "llama-3.1-8b", "-H", "h100", "-i", "-3"], 2, "input_tokens"),
    (["estimate", "-m", "llama-3.1-8b", "-H", "h100", "--mode", "fast"], 2, "--mode"),
    (["estimate", "-m", "llama-3.1-8b", "-H", "h100", "--precision", "fp7"], 2, "precision"),
    (["estimate", "-m", "llama-3.1-405b", "-H", "l4"], 3, "does not fit"),
    (["estimate", "-m", "llama-3.1-8b", "-H", "h100", "--bogus"], 2, "bogus"),
    (["validate", "/nonexistent.csv"], 2, "FILE"),
    (["plan", str(ROOT / "examples" / "eu-support-chat.yaml"), "--eur-usd", "-1"], 2, "eur_usd"),
    (["plan", str(ROOT / "examples" / "eu-support-chat.yaml"), "--max-price-age-days", "0"], 2,
     "max_price_age_days"),
    (["catalog", "prices", "--kind", "beer"], 2, "--kind"),
    (["catalog", "prices", "--gpu", "h999"], 2, "unknown hardware"),
]


@pytest.mark.parametrize(("args", "code", "needle"), CASES)
def test_bad_input_is_one_line(args: list[str], code: int, needle: str) -> None:
    """One line on stderr naming the problem, the documented exit code, no traceback."""
    r = run_cli(*args)
    assert r.returncode == code, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error:") and needle in lines[0]
    assert "Traceback" not in r.stderr


def test_malformed_config_json(tmp_path: Path) -> None:
    """A malformed config.json passed as the model is one clear line."""
    cfg = tmp_path / "config.json"
    cfg.write_text("{oops")
    r = run_cli("estimate", "-m", str(cfg), "-H", "h100")
    assert r.returncode == 2 and "valid JSON" in r.stderr and "Traceback" not in r.stderr


def test_estimate_json_contract() -> None:
    """`estimate --json`, in the full DESIGN.md command shape with aliases for M and H, prints
    every contract field: throughput, ttft_s/tpot_s (p50 <= p99), max_batch, memory_bytes,
    bottleneck, interval (low <= throughput <= high) and provenance."""
    r = run_cli("estimate", "--model", "Llama-3.1-8B-Instruct",
                "--hardware", "NVIDIA H100-SXM-80GB", "--count", "2", "--precision", "fp8",
                "--input-tokens", "1000", "--output-tokens", "200", "--mode", "server",
                "--ttft-p99-ms", "2000", "--tpot-p99-ms", "100", "--stack", "vllm", "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert (obj["model"], obj["hardware"], obj["count"], obj["precision"], obj["mode"]) == (
        "llama-3.1-8b", "h100-sxm", 2, "fp8", "server")
    thr = obj["throughput_output_tokens_per_s"]
    assert thr > 0
    for k in ("ttft_s", "tpot_s"):
        assert 0 < obj[k]["p50"] <= obj[k]["p99"], k
    assert isinstance(obj["max_batch"], int) and obj["max_batch"] >= 1
    assert 0 < obj["memory_bytes"] <= obj["memory_capacity_bytes"]
    assert obj["bottleneck"] in {"compute", "memory", "interconnect", "overhead"}
    assert 0 < obj["interval"]["low"] <= thr <= obj["interval"]["high"]
    assert obj["provenance"]["kind"] in {"spec", "calibrated", "measured", "simulated"}
    assert obj["provenance"]["model_source"] and obj["provenance"]["hardware_sources"]["compute"]


def test_add_model_then_estimate(tmp_path: Path) -> None:
    """A config.json added with `catalog add-model` is usable by id."""
    cfg = tmp_path / "tiny-llm" / "config.json"
    cfg.parent.mkdir()
    cfg.write_text(json.dumps({"model_type": "llama", "hidden_size": 512,
                               "num_hidden_layers": 4, "num_attention_heads": 8,
                               "intermediate_size": 1024, "vocab_size": 1000}))
    home = tmp_path / "home"
    r = run_cli("catalog", "add-model", str(cfg), home=home)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("added tiny-llm:") and (home / "models" / "tiny-llm.yaml").is_file()
    r = run_cli("estimate", "-m", "tiny-llm", "-H", "l4", "--json", home=home)
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["model"] == "tiny-llm" and obj["throughput_output_tokens_per_s"] > 0
    assert obj["provenance"]["model_source"] == "user config.json (user-supplied)"
