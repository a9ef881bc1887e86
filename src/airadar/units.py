"""Unit conversions. Inside airadar every quantity is SI (s, bytes, W, J, FLOP/s, USD);
catalog files use datasheet units and are converted here, in one place."""

from __future__ import annotations

TERA = 1e12
GIGA = 1e9
MEGA = 1e6
KILO = 1e3
GIB = 1024**3
HOURS_PER_MONTH = 730.0  # 8760 h / 12, the convention cloud price sheets use
HOURS_PER_YEAR = 8760.0
SECONDS_PER_HOUR = 3600.0
J_PER_KWH = 3.6e6


def tflops_to_flops(tflops: float) -> float:
    return tflops * TERA


def gb_to_bytes(gb: float) -> float:
    """Decimal gigabytes (datasheets) to bytes."""
    return gb * GIGA


def gbps_to_bytes_per_s(gb_per_s: float) -> float:
    """Decimal GB/s (datasheets) to bytes/s."""
    return gb_per_s * GIGA


def joules_to_kwh(energy_j: float) -> float:
    return energy_j / J_PER_KWH


# Bytes per element of each numeric format airadar knows.
BYTES_PER_ELEMENT: dict[str, float] = {
    "fp32": 4.0,
    "tf32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "fp6": 0.75,
    "fp4": 0.5,
    "int4": 0.5,
}
