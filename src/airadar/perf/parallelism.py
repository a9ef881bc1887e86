"""Parallel layouts and their communication cost.

Tensor parallelism (Megatron-LM, Shoeybi et al. 2019, arXiv:1909.08053, Sec. 3): two
all-reduces of the activations per layer per step. Inside a scale-up domain an all-reduce
takes the time measured for its message size and group on that GPU (``catalog/data/
comm_kernels.yaml``, TensorRT-LLM's all-reduce kernels timed by aiconfigurator, made by
``scripts/fit_comm_kernels.py``): a few microseconds for small messages, 2-4x a datasheet-rate
ring for 0.1-10 MB. A device without a table takes the reference GPU's measured curve with the
message rescaled by the ratio of the two catalog link bandwidths (so it keeps the curve's
shape and its own link rate); a group size without a table, the nearest measured group's
curve with the message rescaled by the ring's 2 (t-1)/t (Patarasuk & Yuan 2009). Over the
scale-out network it is a ring at the catalog's rate plus a fixed latency. Pipeline parallelism
passes activations between stages point-to-point once per stage boundary per step. Expert
parallelism is modelled as tensor parallelism over the expert weights (their all-to-all moves
the same activation volume as the all-reduce). Beyond the scale-up domain (NVLink, Infinity
Fabric, ICI) traffic goes over the scale-out network."""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from airadar.catalog.loader import DATA, read_yaml
from airadar.catalog.resolve import hardware
from airadar.specs.hardware import HardwareSpec

#: fixed latency of one collective (launch + synchronisation); NCCL tests on NVLink report
#: a few microseconds for small all-reduces (NVIDIA nccl-tests README, all_reduce_perf).
COLLECTIVE_LATENCY_S = 5e-6


@dataclass(frozen=True, kw_only=True)
class Layout:
    tp: int = 1
    pp: int = 1
    replicas: int = 1

    @property
    def devices_per_replica(self) -> int:
        return self.tp * self.pp

    @property
    def devices(self) -> int:
        return self.tp * self.pp * self.replicas

    @property
    def label(self) -> str:
        return f"TP{self.tp}xPP{self.pp}x{self.replicas}"


def in_scale_up(hw: HardwareSpec, group: int) -> bool:
    """Whether ``group`` devices fit one scale-up domain (NVLink, Infinity Fabric, ICI)."""
    return group <= hw.scale_up_max_devices and hw.scale_up_bandwidth_bytes_per_s > 0


def link_bandwidth(hw: HardwareSpec, group: int) -> float:
    """Per-device one-way bandwidth available to a group of ``group`` devices."""
    if group <= 1:
        return float("inf")
    if in_scale_up(hw, group):
        return hw.scale_up_bandwidth_bytes_per_s
    return max(hw.scale_out_bandwidth_bytes_per_s, 1e8)


def _ring(group: int) -> float:
    return 2.0 * (group - 1) / group


def ring_allreduce_time_s(*, message_bytes: float, group: int, bandwidth_bytes_per_s: float,
                          latency_s: float = COLLECTIVE_LATENCY_S) -> float:
    """Ring all-reduce time for one message across ``group`` devices at a given link rate."""
    if group <= 1:
        return 0.0
    return _ring(group) * message_bytes / bandwidth_bytes_per_s + latency_s


@lru_cache(maxsize=1)
def _comm_tables() -> dict[str, Any]:
    return read_yaml(DATA / "comm_kernels.yaml", "all-reduce timings")


Curve = tuple[tuple[float, ...], tuple[float, ...]]


@lru_cache(maxsize=64)
def _curve(hw_id: str, group: int) -> tuple[Curve, int] | None:
    """(log bytes, log seconds) of the measured group nearest ``group`` (the largest one not
    above it, else the smallest), and that group's size; times made non-decreasing."""
    row = _comm_tables()["hardware"].get(hw_id)
    if not row:
        return None
    groups = sorted(int(g) for g in row["groups"])
    below = [g for g in groups if g <= group]
    g0 = below[-1] if below else groups[0]
    pts = row["groups"][g0]
    # a larger message never takes less time (the tables carry a few percent of noise)
    ts = list(itertools.accumulate((t for _, t in pts), max))
    return (tuple(math.log(b) for b, _ in pts), tuple(math.log(t) for t in ts)), g0


def _interp(curve: Curve, message_bytes: float) -> float:
    """Log-log interpolation; flat below the smallest message, constant bandwidth above the
    largest."""
    xs, ys = curve
    x = math.log(max(message_bytes, 1.0))
    if x <= xs[0]:
        return math.exp(ys[0])
    if x >= xs[-1]:
        return math.exp(ys[-1] + x - xs[-1])
    i = bisect.bisect_right(xs, x)
    f = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
    return math.exp(ys[i - 1] + f * (ys[i] - ys[i - 1]))


@lru_cache(maxsize=16)
def _reference_bandwidth(group: int) -> float:
    return link_bandwidth(hardware(_comm_tables()["reference"]), group)


def allreduce_source(hw: HardwareSpec, group: int) -> str:
    """Where the all-reduce time of ``group`` devices of ``hw`` comes from."""
    if group <= 1:
        return "none (one device)"
    if not in_scale_up(hw, group):
        return "ring over the scale-out network at the catalog rate"
    t = _comm_tables()
    own = _curve(hw.id, group)
    if own is not None:
        return f"measured ({own[1]} GPUs): {t['hardware'][hw.id]['source']}"
    ref = t["reference"]
    return f"{ref}'s measured curve rescaled to this link: {t['hardware'][ref]['source']}"


def allreduce_time_s(*, hw: HardwareSpec, group: int, message_bytes: float) -> float:
    """Time of one all-reduce of ``message_bytes`` across ``group`` devices of ``hw`` (see the
    module docstring for where each figure comes from)."""
    if group <= 1:
        return 0.0
    bw = link_bandwidth(hw, group)
    if not in_scale_up(hw, group):
        return ring_allreduce_time_s(message_bytes=message_bytes, group=group,
                                     bandwidth_bytes_per_s=bw)
    own = _curve(hw.id, group)
    scale = 1.0
    if own is None:
        ref_id = _comm_tables()["reference"]
        own = _curve(ref_id, group)
        assert own is not None, f"comm_kernels.yaml has no table for its reference {ref_id}"
        scale = _reference_bandwidth(group) / bw
    curve, g0 = own
    return _interp(curve, message_bytes * scale * _ring(group) / _ring(g0))


def tp_comm_time_s(*, hw: HardwareSpec, tp: int, tokens: float, hidden: int, layers: int,
                   act_bytes: float) -> float:
    """Two all-reduces per layer of ``tokens x hidden`` activations."""
    if tp <= 1:
        return 0.0
    return 2.0 * layers * allreduce_time_s(hw=hw, group=tp, message_bytes=tokens * hidden * act_bytes)


def pp_comm_time_s(*, hw: HardwareSpec, pp: int, tokens: float, hidden: int,
                   act_bytes: float) -> float:
    if pp <= 1:
        return 0.0
    bw = link_bandwidth(hw, pp)
    return (pp - 1) * (tokens * hidden * act_bytes / bw + COLLECTIVE_LATENCY_S)


def layouts_for(count: int, *, max_tp: int = 64) -> list[Layout]:
    """Every (tp, pp, replicas) with tp, pp powers of two and tp x pp x replicas == count."""
    out = []
    tp = 1
    while tp <= min(count, max_tp):
        pp = 1
        while tp * pp <= count:
            if count % (tp * pp) == 0:
                out.append(Layout(tp=tp, pp=pp, replicas=count // (tp * pp)))
            pp *= 2
        tp *= 2
    return out
