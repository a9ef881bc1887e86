"""Hardware as data: one :class:`HardwareSpec` per catalog row.

Peak FLOP/s are per device, per numeric format, dense and (where the vendor publishes it)
with 2:4 structured sparsity. Memory is a list of tiers (capacity, bandwidth) so HBM,
on-chip SRAM, LPDDR and host DRAM are all expressible."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from airadar.specs.base import Frozen, Sourced

HardwareClass = Literal["gpu", "cpu", "tpu", "wafer", "lpu", "npu", "fpga", "edge", "asic"]
HARDWARE_CLASSES: tuple[str, ...] = ("gpu", "cpu", "tpu", "wafer", "lpu", "npu", "fpga", "edge",
                                     "asic")


class MemoryTier(Frozen):
    name: str
    capacity_bytes: float = Field(gt=0)
    bandwidth_bytes_per_s: float = Field(gt=0)
    #: per device (False) or shared by all devices of a system such as a wafer (True)
    on_chip: bool = False


class HardwareSpec(Frozen):
    id: str
    name: str
    vendor: str
    hw_class: HardwareClass
    form_factor: str
    aliases: tuple[str, ...] = ()
    peak_flops_dense: dict[str, float]
    peak_flops_sparse: dict[str, float] = Field(default_factory=dict)
    memory_tiers: tuple[MemoryTier, ...]
    scale_up_bandwidth_bytes_per_s: float = Field(default=0.0, ge=0)
    scale_up_max_devices: int = Field(default=1, ge=1)
    scale_out_bandwidth_bytes_per_s: float = Field(default=0.0, ge=0)
    tdp_w: float | None = Field(default=None, gt=0)
    idle_w: float | None = Field(default=None, ge=0)
    #: how many devices one chassis/server/board carries in the product form sold
    devices_per_server: int = Field(default=1, ge=1)
    #: physical cores (CPUs; the compute source names them)
    cores: int | None = Field(default=None, ge=1)
    embodied_kgco2e: float | None = Field(default=None, ge=0)
    sources: dict[str, Sourced]
    derived: dict[str, str] = Field(default_factory=dict)

    @field_validator("peak_flops_dense", "peak_flops_sparse")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if x <= 0:
                raise ValueError(f"peak FLOP/s for {k} must be > 0")
        return v

    @model_validator(mode="after")
    def _has_sources(self) -> HardwareSpec:
        for group in ("compute", "memory", "power"):
            if group not in self.sources:
                raise ValueError(f"{self.id}: missing source for figure group {group!r}")
        if not self.memory_tiers:
            raise ValueError(f"{self.id}: at least one memory tier is required")
        return self

    # ---- derived views ---------------------------------------------------------------
    @property
    def main_memory(self) -> MemoryTier:
        """The tier weights live in by default: the fastest off-chip tier (GH200/GB200: the
        HBM, not the larger LPDDR5X reached over NVLink-C2C), else the first."""
        off = [t for t in self.memory_tiers if not t.on_chip]
        return max(off, key=lambda t: t.bandwidth_bytes_per_s) if off else self.memory_tiers[0]

    @property
    def fast_memory(self) -> MemoryTier:
        """The highest-bandwidth tier."""
        return max(self.memory_tiers, key=lambda t: t.bandwidth_bytes_per_s)

    def peak_flops(self, dtype: str, *, sparse: bool = False) -> float | None:
        """Peak FLOP/s for the format; falls back to the next wider format the device has.

        A narrow format the device lacks (fp8 on an A100, fp4 on an H100) runs at a wider
        format it has: weights stay narrow in memory and are upcast for the matrix units
        (weight-only quantization). A request never falls back to a narrower format."""
        table = self.peak_flops_sparse if sparse else self.peak_flops_dense
        order = {
            "fp4": ["fp4", "fp8", "bf16", "fp16"],
            "int4": ["int4", "int8", "bf16", "fp16"],
            "fp6": ["fp6", "fp8", "bf16", "fp16"],
            "fp8": ["fp8", "bf16", "fp16"],
            "int8": ["int8", "bf16", "fp16"],
            "bf16": ["bf16", "fp16"],
            "fp16": ["fp16", "bf16"],
            "fp32": ["fp32", "tf32"],
        }.get(dtype, [dtype])
        for d in order:
            if d in table:
                return table[d]
        return None

    def supports_native(self, dtype: str) -> bool:
        return dtype in self.peak_flops_dense
