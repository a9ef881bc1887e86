"""The backend registry (``airadar.bench.backends``) and where a failed quality check puts
the blame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from airadar.bench import backends
from airadar.errors import BackendError, SpecError


def test_backends_are_registered_on_import() -> None:
    """Importing the package registers every backend; an unknown one names the known ones."""
    assert backends.names() == ["llamacpp", "onnxruntime", "torch"]
    with pytest.raises(SpecError, match="llamacpp, onnxruntime, torch"):
        backends.get("tensorrt")


def _graph(path: Path, outputs: int = 10, reshape_to: int | None = None) -> Path:
    """x[B,64] -> MatMul(64 x ``outputs``); with ``reshape_to``, the output is first reshaped to
    [reshape_to, -1], which fails at run time when the element count does not divide."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((64, outputs))
                                .astype(np.float32), "w")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y" if reshape_to is None else "m"])]
    inits = [w]
    if reshape_to is not None:
        inits.append(numpy_helper.from_array(np.array([reshape_to, -1], np.int64), "s"))
        nodes.append(helper.make_node("Reshape", ["m", "s"], ["y"]))
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                     ["batch", 64])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 9
    onnx.save(m, str(path))
    return path


def _static_int8_makes(monkeypatch: pytest.MonkeyPatch, made: Path) -> None:
    """Replace the static-int8 quantizer with one that writes ``made`` (a broken variant)."""
    from airadar.bench.backends import onnx_variants

    def fake(path: Path, out: Path, ref: object, samples: int = 16, feeds: object = None) -> Path:
        out.write_bytes(made.read_bytes())
        return out

    monkeypatch.setattr(onnx_variants, "quantize_static_int8", fake)


def test_a_static_int8_variant_that_fails_to_run_is_blamed_not_reference(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No --reference given: a variant that ONNX Runtime cannot run is a BackendError about
    the variant, never an error about the --reference flag."""
    pytest.importorskip("onnxruntime")
    given = _graph(tmp_path / "given.onnx")
    _static_int8_makes(monkeypatch, _graph(tmp_path / "broken.onnx", reshape_to=7))
    with pytest.raises(BackendError) as info:
        backends.get("onnxruntime").prepare(str(given), threads=1,
                                            settings={"variant": "int8-static"})
    assert "cannot run given.int8-static.onnx" in str(info.value)
    assert "--reference" not in str(info.value)


def test_a_variant_with_another_output_shape_is_blamed_not_reference(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No --reference given: a variant whose output shape changed says so, naming both shapes."""
    pytest.importorskip("onnxruntime")
    given = _graph(tmp_path / "given.onnx")
    _static_int8_makes(monkeypatch, _graph(tmp_path / "five.onnx", outputs=5))
    with pytest.raises(BackendError, match=r"shape \[32, 5\], the model as given \[32, 10\]"):
        backends.get("onnxruntime").prepare(str(given), threads=1,
                                            settings={"variant": "int8-static"})


def test_a_reference_with_another_output_shape_is_blamed_on_the_flag(tmp_path: Path) -> None:
    """A --reference whose output differs in shape from the measured model's is bad input
    naming --reference and both shapes."""
    pytest.importorskip("onnxruntime")
    given = _graph(tmp_path / "given.onnx")
    other = _graph(tmp_path / "other.onnx", outputs=5)
    with pytest.raises(SpecError, match=r"--reference.*shape \[32, 10\].*gives \[32, 5\]"):
        backends.get("onnxruntime").prepare(str(given), threads=1,
                                            settings={"variant": "fp32", "reference": str(other)})
