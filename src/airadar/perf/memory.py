"""Memory: where weights and KV cache live, how many sequences fit, and how long it takes
to read a given number of bytes from the tiers they occupy.

Placement rule: fill the fastest tier first (on-chip SRAM on Groq/Cerebras/speedAI, HBM on
GPUs), spill to the next (GH200 LPDDR5X via NVLink-C2C, Cerebras MemoryX). Read time is the
sum over tiers of bytes_in_tier / bandwidth_of_tier (tiers are read one after the other)."""

from __future__ import annotations

from dataclasses import dataclass

from airadar.specs.hardware import HardwareSpec, MemoryTier
from airadar.specs.model import ModelSpec
from airadar.specs.precision import Precision, Sparsity


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Bytes per tier for one device, fastest tier first."""

    tiers: tuple[tuple[MemoryTier, float], ...]
    overflow_bytes: float

    def read_time_s(self, *, memory_efficiency: float) -> float:
        return sum(b / (t.bandwidth_bytes_per_s * memory_efficiency) for t, b in self.tiers)

    @property
    def total_bytes(self) -> float:
        return sum(b for _, b in self.tiers)


def weight_bytes(*, model: ModelSpec, precision: Precision, sparsity: Sparsity) -> float:
    """Stored weight bytes. 2:4 sparsity stores half the values plus 2-bit metadata per kept
    value; unstructured sparsity is stored dense by the serving stacks airadar models, so it
    saves no memory unless a sparse format is used (not assumed)."""
    b = model.params_total * precision.weight_bytes
    if sparsity.kind == "2:4":
        b = b * 0.5 + model.params_total * 0.5 * 2 / 8
    return b


def kv_bytes_per_token(*, model: ModelSpec, precision: Precision, context: float) -> float:
    return model.kv_elements_per_token(context) * precision.kv_bytes


def usable_bytes(hw: HardwareSpec, *, reserve: float) -> float:
    """Capacity of all tiers usable for weights + KV, per device."""
    return sum(t.capacity_bytes for t in hw.memory_tiers) * (1.0 - reserve)


def place(hw: HardwareSpec, *, nbytes: float, reserve: float) -> Placement:
    """Place ``nbytes`` on one device's tiers, fastest first."""
    left = nbytes
    out: list[tuple[MemoryTier, float]] = []
    for t in sorted(hw.memory_tiers, key=lambda t: -t.bandwidth_bytes_per_s):
        if left <= 0:
            break
        cap = t.capacity_bytes * (1.0 - reserve)
        take = min(left, cap)
        if take > 0:
            out.append((t, take))
            left -= take
    return Placement(tiers=tuple(out), overflow_bytes=max(left, 0.0))


def kv_capacity_bytes(*, hw: HardwareSpec, devices: int, weights_total_bytes: float,
                      reserve: float, of_free: bool = False) -> float:
    """KV-cache bytes a replica of ``devices`` can hold beside its weights (<= 0: the weights
    do not fit). The runtime keeps ``reserve`` of the memory: of the whole device
    (``of_free=False``: vLLM's ``gpu_memory_utilization`` bounds weights + KV together) or of
    what the weights leave free (``of_free=True``: TensorRT-LLM's
    ``kv_cache_free_gpu_mem_fraction`` sizes the KV cache from the memory free after loading
    the engine)."""
    total = sum(t.capacity_bytes for t in hw.memory_tiers) * devices
    if of_free:
        return (total - weights_total_bytes) * (1.0 - reserve)
    return total * (1.0 - reserve) - weights_total_bytes


def memory_shortfall_bytes(*, hw: HardwareSpec, devices: int, weights_total_bytes: float,
                           kv_bytes: float, reserve: float, of_free: bool = False) -> float:
    """Device memory missing for the weights plus ``kv_bytes`` of KV cache (<= 0: they fit),
    under the same reserve rule as :func:`kv_capacity_bytes`."""
    short = kv_bytes - kv_capacity_bytes(hw=hw, devices=devices,
                                         weights_total_bytes=weights_total_bytes,
                                         reserve=reserve, of_free=of_free)
    # on the free-memory rule the runtime keeps ``reserve`` of every byte added
    return short / (1.0 - reserve) if of_free else short


def max_sequences(*, hw: HardwareSpec, devices: int, weights_total_bytes: float,
                  kv_per_seq_bytes: float, reserve: float, of_free: bool = False) -> int:
    """Largest number of sequences whose KV cache fits beside the weights on ``devices``."""
    free = kv_capacity_bytes(hw=hw, devices=devices, weights_total_bytes=weights_total_bytes,
                             reserve=reserve, of_free=of_free)
    if free <= 0 or kv_per_seq_bytes <= 0:
        return 0
    return int(free // kv_per_seq_bytes)
