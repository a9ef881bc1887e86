"""A generic graph estimate for any ONNX model: per-node FLOPs and bytes from shape
inference, a roofline per node, summed over the graph (Williams et al. 2009). ``onnx`` is an
optional dependency (``pip install 'airadar[onnx]'``), imported only here and only when used.

Counting conventions: MatMul/Gemm 2*M*N*K; Conv 2 * N * C_out * H_out * W_out * (C_in / groups)
* kH * kW; elementwise and normalisation ops one FLOP per output element (five for Softmax,
GELU, LayerNorm); bytes = inputs + outputs + weights each read or written once."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airadar.errors import SpecError
from airadar.perf.profiles import EfficiencyProfile
from airadar.specs.hardware import HardwareSpec

_ONNX_BYTES = {1: 4, 2: 1, 3: 1, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 16: 2, 17: 1, 18: 1}
_HEAVY = {"Softmax": 5, "Gelu": 8, "LayerNormalization": 5, "Erf": 5, "Tanh": 4, "Sigmoid": 4,
          "BatchNormalization": 2, "InstanceNormalization": 5}
_FREE = {"Reshape", "Shape", "Gather", "Unsqueeze", "Squeeze", "Constant", "Transpose", "Flatten",
         "Identity", "Cast", "Concat", "Slice", "ConstantOfShape", "Expand", "Range"}


@dataclass(frozen=True, kw_only=True)
class NodeCost:
    name: str
    op: str
    flops: float
    bytes: float


@dataclass(frozen=True, kw_only=True)
class GraphEstimate:
    batch: int
    latency_s: float
    throughput_samples_per_s: float
    flops: float
    bytes: float
    compute_bound_nodes: int
    memory_bound_nodes: int
    top_nodes: list[dict[str, Any]]


def _load(path: str | Path, batch: int) -> Any:
    try:
        import onnx
        from onnx import shape_inference
    except ImportError:
        raise SpecError("onnx", "not installed", "pip install 'airadar[onnx]'") from None
    p = Path(path)
    if not p.is_file():
        raise SpecError("model", str(p), "an existing .onnx file")
    try:
        m = onnx.load(str(p))
    except Exception as exc:  # noqa: BLE001 - onnx raises several types for corrupt files
        raise SpecError("model", str(p), f"a valid ONNX file ({type(exc).__name__})") from None
    for inp in m.graph.input:
        dims = inp.type.tensor_type.shape.dim
        if dims and (not dims[0].HasField("dim_value") or dims[0].dim_value in (0, 1)):
            dims[0].dim_value = batch
        for d in dims[1:]:
            if not d.HasField("dim_value"):
                d.dim_value = 128  # sequence length of dynamic axes: airadar default
    try:
        return shape_inference.infer_shapes(m)
    except Exception as exc:  # noqa: BLE001
        raise SpecError("model", str(p), f"an ONNX graph shape inference accepts ({exc})") from None


def _shapes(m: Any) -> dict[str, tuple[list[int], int]]:
    out: dict[str, tuple[list[int], int]] = {}
    for vi in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output):
        tt = vi.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else 1 for d in tt.shape.dim]
        out[vi.name] = (dims, tt.elem_type)
    for init in m.graph.initializer:
        out[init.name] = (list(init.dims), init.data_type)
    return out


def node_costs(path: str | Path, *, batch: int = 1) -> list[NodeCost]:
    m = _load(path, batch)
    shp = _shapes(m)
    init = {i.name for i in m.graph.initializer}

    def numel(name: str) -> int:
        return math.prod(shp[name][0]) if name in shp else 0

    def nbytes(name: str) -> float:
        if name not in shp:
            return 0.0
        dims, et = shp[name]
        return float(math.prod(dims) * _ONNX_BYTES.get(et, 4))

    out: list[NodeCost] = []
    for node in m.graph.node:
        op = node.op_type
        o = node.output[0] if node.output else ""
        flops = 0.0
        if op in ("MatMul", "Gemm", "MatMulInteger", "QLinearMatMul"):
            a = node.input[0 if op != "QLinearMatMul" else 0]
            b = node.input[1 if op != "QLinearMatMul" else 3]
            if a in shp and b in shp:
                ka = shp[a][0][-1] if shp[a][0] else 1
                if op == "Gemm" and any(at.name == "transA" and at.i for at in node.attribute):
                    ka = shp[a][0][0]
                flops = 2.0 * numel(o) * ka
        elif op in ("Conv", "ConvInteger", "QLinearConv"):
            w = node.input[1 if op != "QLinearConv" else 3]
            if w in shp and o in shp:
                wd = shp[w][0]  # C_out, C_in/groups, kH, kW
                flops = 2.0 * numel(o) * math.prod(wd[1:])
        elif op in _FREE:
            flops = 0.0
        else:
            flops = float(numel(o)) * _HEAVY.get(op, 1)
        nb = sum(nbytes(x) for x in node.input if x) + sum(nbytes(x) for x in node.output if x)
        if op in _FREE and not any(x in init for x in node.input):
            nb = 0.0  # views and metadata: no real traffic
        out.append(NodeCost(name=node.name or op, op=op, flops=flops, bytes=nb))
    return out


def estimate_graph(path: str | Path, *, hw: HardwareSpec, profile: EfficiencyProfile,
                   batch: int = 1, dtype: str = "fp32") -> GraphEstimate:
    """Latency and throughput of one forward pass of ``batch`` samples on one device."""
    if batch < 1:
        raise SpecError("batch", batch, "an integer >= 1")
    peak = hw.peak_flops(dtype)
    if peak is None:
        raise SpecError("precision", dtype, f"a format {hw.id} supports")
    bw = hw.main_memory.bandwidth_bytes_per_s
    nodes = node_costs(path, batch=batch)
    total = 0.0
    cb = mb = 0
    per = []
    for nc in nodes:
        c = nc.flops / (peak * profile.ce_other)
        mm = nc.bytes / (bw * profile.me)
        t = max(c, mm) + (profile.ovh_other_layer_s if nc.flops or nc.bytes else 0.0)
        total += t
        if nc.flops or nc.bytes:
            cb += c >= mm
            mb += c < mm
        per.append((t, nc))
    if total <= 0:
        raise SpecError("model", str(path), "an ONNX graph with at least one operator that "
                        "computes or moves data")
    per.sort(key=lambda x: -x[0])
    top = [{"node": nc.name, "op": nc.op, "time_s": t, "flops": nc.flops, "bytes": nc.bytes}
           for t, nc in per[:8]]
    return GraphEstimate(batch=batch, latency_s=total, throughput_samples_per_s=batch / total,
                         flops=sum(n.flops for n in nodes), bytes=sum(n.bytes for n in nodes),
                         compute_bound_nodes=cb, memory_bound_nodes=mb, top_nodes=top)
