"""Power and energy of a deployment.

Power model: P = idle + (TDP - idle) x load x activity(bottleneck), per device, plus a host
overhead per device; facility power = IT power x PUE. The activity factor says how much of
the TDP headroom a phase draws when the device is busy: compute-bound work runs the matrix
units flat out (1.0); memory-bound decode leaves them mostly waiting (airadar assumption
0.7); interconnect- or overhead-bound steps less (0.6). These factors are airadar
assumptions, labelled as such in every output, until measured (``airadar bench`` with NVML or
RAPL replaces them on a machine where counters are readable)."""

from __future__ import annotations

from airadar.errors import SpecError
from airadar.units import HOURS_PER_YEAR, g_to_kg

ACTIVITY = {"compute": 1.0, "memory": 0.7, "interconnect": 0.6, "overhead": 0.6}


def device_power_w(*, tdp_w: float, idle_w: float, load: float, bottleneck: str) -> float:
    """Average power of one device at ``load`` (fraction of time busy)."""
    if not 0 <= load <= 1:
        raise SpecError("load", load, "0 <= load <= 1")
    if idle_w > tdp_w:
        raise SpecError("idle_w", idle_w, f"<= TDP ({tdp_w} W)")
    return idle_w + (tdp_w - idle_w) * load * ACTIVITY.get(bottleneck, 1.0)


def energy_per_token_j(*, it_power_w: float, pue: float, tokens_per_s: float) -> float:
    """Facility energy per output token while serving at ``tokens_per_s``."""
    if tokens_per_s <= 0:
        return float("inf")
    return it_power_w * pue / tokens_per_s


def operational_kgco2e(*, energy_kwh: float, grid_gco2_per_kwh: float) -> float:
    return g_to_kg(energy_kwh * grid_gco2_per_kwh)


def embodied_kgco2e_per_hour(*, embodied_kgco2e: float, life_years: float) -> float:
    """Manufacturing emissions spread evenly over the hardware's life."""
    if life_years <= 0:
        raise SpecError("life_years", life_years, "> 0")
    return embodied_kgco2e / (life_years * HOURS_PER_YEAR)
