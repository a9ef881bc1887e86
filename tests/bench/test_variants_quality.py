"""Pruning masks, the perplexity arithmetic and the ONNX variants (static int8, pruned)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from airadar.bench import quality, variants
from airadar.errors import SpecError
from tests.conftest import run_cli

#: minutes on 2 cores (real Ray cluster / real model runs / a calibration fit): `-m "not slow"` skips them
pytestmark = pytest.mark.slow


def test_magnitude_mask_zeroes_the_smallest_half() -> None:
    w = np.arange(1, 17, dtype=np.float32).reshape(4, 4) * np.where(np.arange(16) % 2, -1, 1
                                                                      ).reshape(4, 4)
    p = variants.prune(w, "prune-magnitude", reduction_axis=1)
    assert (p == 0).sum() == 8
    assert set(np.abs(p[p != 0]).tolist()) == set(range(9, 17))


def test_two_four_keeps_the_two_largest_of_every_four_along_the_reduction_axis() -> None:
    w = np.array([[1.0, -4.0, 3.0, 2.0, 0.5, 0.1, -0.2, 0.3]])
    p = variants.prune(w, "prune-2:4", reduction_axis=1)
    assert p.tolist() == [[0.0, -4.0, 3.0, 0.0, 0.5, 0.0, 0.0, 0.3]]
    rng = np.random.default_rng(1)
    big = rng.standard_normal((8, 64))
    q = variants.prune(big, "prune-2:4", reduction_axis=0)  # groups run down the columns
    assert ((q.reshape(2, 4, 64) != 0).sum(axis=1) == 2).all()
    with pytest.raises(SpecError, match="multiple of 4"):
        variants.prune(np.ones((3, 6)), "prune-2:4", reduction_axis=1)


def test_uniform_logits_give_perplexity_equal_to_the_vocabulary() -> None:
    """PPL of a model that knows nothing is exactly the vocabulary size."""
    vocab = 50
    toks = list(np.random.default_rng(0).integers(0, vocab, 600))
    res = quality.perplexity(toks, lambda w: np.zeros((len(w), vocab)), window=100)
    assert res["tokens_scored"] == 6 * 99
    assert res["perplexity"] == pytest.approx(vocab, rel=1e-9)


def test_perfect_logits_give_perplexity_one() -> None:
    toks = list(range(1, 301))

    def oracle(w: list[int]) -> np.ndarray:
        lg = np.full((len(w), 400), -1e4)
        for i in range(len(w) - 1):
            lg[i, w[i + 1]] = 0.0
        return lg

    assert quality.perplexity(toks, oracle, window=100)["perplexity"] == pytest.approx(1.0)


def test_corpus_ships_with_its_source() -> None:
    src = quality.corpus_source()
    assert len(quality.corpus()) > 15_000
    assert "PSF" in src["license"] and src["source"] and src["as_of"]


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    pytest.importorskip("onnxruntime")
    from tests.perf.test_graph import _model
    return _model(tmp_path / "tiny.onnx")


@pytest.mark.parametrize("variant", ["int8-static", "prune-magnitude", "prune-2:4"])
def test_onnx_variants_run_and_measure_quality(variant: str, tmp_path: Path, tiny: Path) -> None:
    pytest.importorskip("sqlalchemy")
    r = run_cli("bench", "-b", "onnxruntime", "-m", str(tiny), "--variant", variant,
                "--min-count", "3", "--min-duration", "0.05", "--store", str(tmp_path / "v.db"),
                "--json")
    assert r.returncode == 0, r.stderr
    q = json.loads(r.stdout)["settings"]["quality"]
    assert 0.3 < q["cosine"] < 1.0  # changed, measurably, but recognisable


def test_pruned_onnx_has_half_its_weights_zero(tmp_path: Path, tiny: Path) -> None:
    import onnx
    from onnx import numpy_helper

    from airadar.bench.backends.onnx_variants import prune_onnx

    out = prune_onnx(tiny, tmp_path / "p.onnx", "prune-2:4")
    w = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(out)).graph.initializer}
    assert (w["w1"] == 0).mean() == 0.5 and (w["w2"] == 0).mean() == 0.5
    assert (w["b1"] == 0).all()  # biases untouched (they were zero already) and not counted
    # MatMul B is [in, out]: the 2-of-4 groups run along the input axis
    assert ((w["w2"].reshape(32, 4, 10) != 0).sum(axis=1) == 2).all()
