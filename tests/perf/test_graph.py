"""The ONNX graph estimate: FLOPs by hand on a generated graph, and bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from airadar.catalog import resolve
from airadar.errors import SpecError
from airadar.perf.graph import estimate_graph, node_costs
from airadar.perf.profiles import SPEC_ONLY
from tests.conftest import run_cli

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _model(path: Path) -> Path:
    """x[B,64] -> Gemm(64x128) -> Relu -> MatMul(128x10): FLOPs per sample 2*64*128 + 128 +
    2*128*10 = 19,072."""
    rng = np.random.default_rng(0)
    w1 = numpy_helper.from_array(rng.standard_normal((64, 128)).astype(np.float32), "w1")
    b1 = numpy_helper.from_array(np.zeros(128, np.float32), "b1")
    w2 = numpy_helper.from_array(rng.standard_normal((128, 10)).astype(np.float32), "w2")
    g = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1"),
         helper.make_node("Relu", ["h"], ["r"], name="relu"),
         helper.make_node("MatMul", ["r", "w2"], ["y"], name="fc2")],
        "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 10])],
        initializer=[w1, b1, w2])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 9  # readable by every supported ONNX Runtime
    onnx.save(m, str(path))
    return path


def test_flops_match_hand_count(tmp_path: Path) -> None:
    """Gemm + Relu + MatMul FLOPs are counted exactly for batch 8."""
    nodes = node_costs(_model(tmp_path / "m.onnx"), batch=8)
    assert sum(n.flops for n in nodes) == pytest.approx(8 * (2 * 64 * 128 + 128 + 2 * 128 * 10))


def test_batch_sweep_raises_throughput_on_a_memory_bound_graph(tmp_path: Path) -> None:
    """Weights are read once per pass: a bigger batch amortises them (samples/s rises)."""
    f = _model(tmp_path / "m.onnx")
    hw = resolve.hardware("xeon-8592plus")
    a = estimate_graph(f, hw=hw, profile=SPEC_ONLY, batch=1)
    b = estimate_graph(f, hw=hw, profile=SPEC_ONLY, batch=64)
    assert b.throughput_samples_per_s > a.throughput_samples_per_s
    assert a.memory_bound_nodes >= 1


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    """A missing or corrupt .onnx file is one clear error."""
    with pytest.raises(SpecError, match="existing"):
        node_costs(tmp_path / "none.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(SpecError, match="valid ONNX"):
        node_costs(bad)
    r = run_cli("graph", str(bad), "-H", "h100")
    assert r.returncode == 2 and "valid ONNX" in r.stderr and "Traceback" not in r.stderr
