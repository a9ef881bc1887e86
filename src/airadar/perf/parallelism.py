"""Parallel layouts and their communication cost.

Tensor parallelism (Megatron-LM, Shoeybi et al. 2019, arXiv:1909.08053, Sec. 3): two
all-reduces of the activations per layer per step. A ring all-reduce moves
2 (t-1)/t x message bytes over each link (Patarasuk & Yuan 2009). Pipeline parallelism
passes activations between stages point-to-point once per stage boundary per step. Expert
parallelism is modelled as tensor parallelism over the expert weights (their all-to-all moves
the same activation volume as the all-reduce). Beyond the scale-up domain (NVLink, Infinity
Fabric, ICI) traffic goes over the scale-out network."""

from __future__ import annotations

from dataclasses import dataclass

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


def link_bandwidth(hw: HardwareSpec, group: int) -> float:
    """Per-device one-way bandwidth available to a group of ``group`` devices."""
    if group <= 1:
        return float("inf")
    if group <= hw.scale_up_max_devices and hw.scale_up_bandwidth_bytes_per_s > 0:
        return hw.scale_up_bandwidth_bytes_per_s
    return max(hw.scale_out_bandwidth_bytes_per_s, 1e8)


def allreduce_time_s(*, message_bytes: float, group: int, bandwidth_bytes_per_s: float,
                     latency_s: float = COLLECTIVE_LATENCY_S) -> float:
    """Ring all-reduce time for one message across ``group`` devices."""
    if group <= 1:
        return 0.0
    return 2.0 * (group - 1) / group * message_bytes / bandwidth_bytes_per_s + latency_s


def tp_comm_time_s(*, hw: HardwareSpec, tp: int, tokens: float, hidden: int, layers: int,
                   act_bytes: float) -> float:
    """Two all-reduces per layer of ``tokens x hidden`` activations."""
    if tp <= 1:
        return 0.0
    bw = link_bandwidth(hw, tp)
    one = allreduce_time_s(message_bytes=tokens * hidden * act_bytes, group=tp,
                           bandwidth_bytes_per_s=bw)
    return 2.0 * layers * one


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
