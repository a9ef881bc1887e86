"""Variants of an ONNX graph made with ONNX Runtime's quantizer and onnx: dynamic and
static INT8, magnitude and 2:4 pruning of the weight matrices."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airadar.errors import BackendError

if TYPE_CHECKING:
    from airadar.bench.backends.onnx_backend import OnnxRunner


@contextlib.contextmanager
def _ort_quiet() -> Any:
    import logging
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # ORT's quantizer logs advice on the root logger
    try:
        yield
    finally:
        root.setLevel(level)


def quantize_dynamic_int8(path: Path, out: Path) -> Path:
    """ONNX Runtime dynamic INT8 quantization (weights int8, activations quantized on the fly)."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        raise BackendError("quantization needs ONNX Runtime: pip install 'airadar[onnx]'") from None
    try:
        with _ort_quiet():
            quantize_dynamic(str(path), str(out), weight_type=QuantType.QInt8)
    except Exception as exc:  # noqa: BLE001
        raise BackendError(f"cannot quantize {path}: {str(exc).splitlines()[0][:160]}") from None
    return out


def quantize_static_int8(path: Path, out: Path, ref: OnnxRunner, samples: int = 16,
                         feeds: list[dict[str, Any]] | None = None) -> Path:
    """ONNX Runtime static INT8: QDQ, MatMul/Gemm only (quantizing every op, Softmax and
    LayerNorm included, cut all-MiniLM-L6-v2's embedding cosine to 0.42 here), weights per
    channel, activation ranges calibrated with MinMax on ``feeds`` (real text, when the
    model's tokenizer is known) or on ``samples`` seeded random inputs."""
    try:
        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    except ImportError:
        raise BackendError("quantization needs ONNX Runtime: pip install 'airadar[onnx]'") from None

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.i = 0

        def get_next(self) -> dict[str, Any] | None:
            if self.i >= (len(feeds) if feeds else samples):
                return None
            self.i += 1
            return feeds[self.i - 1] if feeds else ref.feed(1, seed=1000 + self.i)

    try:
        with _ort_quiet():
            quantize_static(str(path), str(out), Reader(), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            per_channel=True, op_types_to_quantize=["MatMul", "Gemm"])
    except Exception as exc:  # noqa: BLE001
        raise BackendError(f"cannot quantize {path}: {str(exc).splitlines()[0][:160]}") from None
    return out


def prune_onnx(path: Path, out: Path, variant: str) -> Path:
    """Prune the weight matrices (2-D float initializers feeding MatMul/Gemm as B)."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise BackendError("pruning ONNX models needs onnx: pip install 'airadar[onnx]'") from None
    from airadar.bench.variants import prune

    m = onnx.load(str(path))
    weights = {n.input[1] for n in m.graph.node if n.op_type in ("MatMul", "Gemm")
               and len(n.input) > 1}
    trans_b = {n.input[1] for n in m.graph.node if n.op_type == "Gemm"
               and any(a.name == "transB" and a.i == 1 for a in n.attribute)}
    count = 0
    for init in m.graph.initializer:
        if init.name not in weights:
            continue
        w = numpy_helper.to_array(init)
        if w.ndim != 2 or w.dtype.kind != "f":
            continue
        axis = 1 if init.name in trans_b else 0  # MatMul B is [in, out]: reduce over axis 0
        if variant == "prune-2:4" and w.shape[axis] % 4:
            continue
        init.CopyFrom(numpy_helper.from_array(prune(w, variant, reduction_axis=axis), init.name))
        count += 1
    if count == 0:
        raise BackendError(f"{path.name} has no float weight matrices to prune")
    onnx.save(m, str(out))
    return out

