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
J_PER_WH = 3600.0
MS_PER_S = 1e3
W_PER_KW = 1e3  # also kWh per MWh
G_PER_KG = 1e3
KG_PER_TONNE = 1e3
# The constants above also scale numpy arrays (``it_w / W_PER_KW``); the functions below
# are for scalars.


def ms_to_s(ms: float) -> float:
    return ms / MS_PER_S


def s_to_ms(s: float) -> float:
    return s * MS_PER_S


def mj_to_j(energy_mj: float) -> float:
    """Millijoules (NVML's energy counter) to joules."""
    return energy_mj / 1e3


def w_to_kw(power_w: float) -> float:
    return power_w / W_PER_KW


def g_to_kg(mass_g: float) -> float:
    return mass_g / G_PER_KG


def kg_to_tonnes(mass_kg: float) -> float:
    return mass_kg / KG_PER_TONNE


def per_mwh_to_per_kwh(price_per_mwh: float) -> float:
    """A price per MWh (wholesale and Eurostat tariffs) to the same price per kWh."""
    return price_per_mwh / W_PER_KW


def ms_over_limit(got_s: float, limit_s: float) -> str:
    """"80.3 ms > limit 80.0 ms": both in ms with the fewest decimals (1 to 3) that show the
    figure above its limit; the one rounding of a latency rejection everywhere it is shown."""
    got, lim = s_to_ms(got_s), s_to_ms(limit_s)
    nd = 1
    while nd < 3 and (round(got, nd) <= round(lim, nd) or round(lim, nd) == 0):
        nd += 1
    return f"{got:,.{nd}f} ms > limit {lim:,.{nd}f} ms"


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


# Bytes per element of each numeric format airadar knows (the element alone).
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

# Bytes per element of the block scales a stored tensor (weights, KV cache) of a block-scaled
# format carries beside its elements. FP4 is NVFP4: 16 E2M1 values share one FP8 (E4M3)
# scale, 4.5 bits per value (NVIDIA, "Introducing NVFP4 for Efficient and Accurate
# Low-Precision Inference", technical blog, June 2025; the per-tensor FP32 scale is
# negligible). MXFP4 (OCP Microscaling Formats spec v1.0: 32 values per E8M0 scale, 4.25 bits)
# is counted at the same 4.5 bits, 6% heavy. Activations passed between layers and GPUs are
# counted without scales.
BLOCK_SCALE_BYTES_PER_ELEMENT: dict[str, float] = {"fp4": 1.0 / 16}


def stored_bytes_per_element(fmt: str) -> float:
    """Bytes one element of a stored tensor in ``fmt`` takes, its block scales included."""
    return BYTES_PER_ELEMENT[fmt] + BLOCK_SCALE_BYTES_PER_ELEMENT.get(fmt, 0.0)
