"""Total cost of ownership: owned hardware (on-premise, colocation, edge) and cloud rental,
as pure keyword-only functions returning a per-hour breakdown by component.

Owned hardware (standard engineering-economics annualisation, e.g. Newnan, Eschenbach &
Lavelle, "Engineering Economic Analysis", capital recovery factor):
    capital per year = (P - R / (1 + r)^n) x CRF(r, n),  CRF = r (1 + r)^n / ((1 + r)^n - 1)
    (with r = 0: (P - R) / n, straight-line)
where P is the purchase (servers + network share + installation), R the residual value at
the end of n years, r the discount rate. Energy = average IT power x PUE x tariff.
Colocation charges its $/kW-month on the provisioned IT power (CBRE's asking-rate basis).
Cloud: price per device-hour x devices (+ egress where data leaves).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from airadar.errors import SpecError
from airadar.units import HOURS_PER_MONTH, HOURS_PER_YEAR, MEGA, SECONDS_PER_HOUR, W_PER_KW, w_to_kw


def _nonneg(name: str, v: float) -> None:
    if v < 0 or v != v:
        raise SpecError(name, v, "a number >= 0")


@dataclass(frozen=True, kw_only=True)
class CostBreakdown:
    """USD per hour by component; the total is their sum."""

    components: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def usd_per_hour(self) -> float:
        return sum(self.components.values())

    @property
    def usd_per_month(self) -> float:
        return self.usd_per_hour * HOURS_PER_MONTH

    def tco_usd(self, years: float) -> float:
        return self.usd_per_hour * HOURS_PER_YEAR * years


def capital_recovery_factor(*, rate: float, years: float) -> float:
    """CRF(r, n) = r (1+r)^n / ((1+r)^n - 1); 1/n when r = 0."""
    if years <= 0:
        raise SpecError("amortization_years", years, "a number > 0")
    _nonneg("discount_rate", rate)
    if rate == 0:
        return 1.0 / years
    g = (1.0 + rate) ** years
    return rate * g / (g - 1.0)


def annual_capital_usd(*, purchase_usd: float, years: float, rate: float = 0.0,
                       residual_fraction: float = 0.0) -> float:
    """Equivalent annual cost of a purchase with a residual value at the end of ``years``."""
    _nonneg("purchase_usd", purchase_usd)
    if not 0 <= residual_fraction < 1:
        raise SpecError("residual_fraction", residual_fraction, "0 <= value < 1")
    residual_pv = purchase_usd * residual_fraction / (1.0 + rate) ** years
    return (purchase_usd - residual_pv) * capital_recovery_factor(rate=rate, years=years)


def energy_cost_usd_per_hour(*, it_power_w: float, pue: float, tariff_usd_per_kwh: float) -> float:
    """Facility energy: IT power x PUE x tariff."""
    _nonneg("it_power_w", it_power_w)
    _nonneg("electricity_usd_per_kwh", tariff_usd_per_kwh)
    if pue < 1:
        raise SpecError("pue", pue, "a number >= 1")
    return w_to_kw(it_power_w) * pue * tariff_usd_per_kwh


def owned_cost(*, purchase_usd: float, years: float, it_power_avg_w: float,
               it_power_provisioned_w: float, pue: float, tariff_usd_per_kwh: float,
               discount_rate: float = 0.0, residual_fraction: float = 0.0,
               network_share_fraction: float = 0.0, installation_usd: float = 0.0,
               maintenance_fraction_per_year: float = 0.0, software_usd_per_year: float = 0.0,
               staff_usd_per_year: float = 0.0, colo_usd_per_kw_month: float = 0.0) -> CostBreakdown:
    """Per-hour cost of owned hardware, broken down by component."""
    for n, v in (("years", years), ("installation_usd", installation_usd),
                 ("network_share_fraction", network_share_fraction),
                 ("maintenance_fraction_per_year", maintenance_fraction_per_year),
                 ("software_usd_per_year", software_usd_per_year),
                 ("staff_usd_per_year", staff_usd_per_year),
                 ("colo_usd_per_kw_month", colo_usd_per_kw_month)):
        _nonneg(n, v)
    hw = annual_capital_usd(purchase_usd=purchase_usd, years=years, rate=discount_rate,
                            residual_fraction=residual_fraction) / HOURS_PER_YEAR
    net = annual_capital_usd(purchase_usd=purchase_usd * network_share_fraction, years=years,
                             rate=discount_rate) / HOURS_PER_YEAR
    inst = annual_capital_usd(purchase_usd=installation_usd, years=years,
                              rate=discount_rate) / HOURS_PER_YEAR
    comp = {
        "hardware": hw,
        "network": net,
        "installation": inst,
        "energy": energy_cost_usd_per_hour(it_power_w=it_power_avg_w, pue=pue,
                                           tariff_usd_per_kwh=tariff_usd_per_kwh),
        "maintenance": purchase_usd * maintenance_fraction_per_year / HOURS_PER_YEAR,
        "software": software_usd_per_year / HOURS_PER_YEAR,
        "staff": staff_usd_per_year / HOURS_PER_YEAR,
        "colocation": colo_usd_per_kw_month * it_power_provisioned_w / W_PER_KW / HOURS_PER_MONTH,
    }
    return CostBreakdown(components={k: v for k, v in comp.items() if v})


def cloud_cost(*, usd_per_device_hour: float, devices: int, egress_usd_per_gb: float = 0.0,
               egress_gb_per_hour: float = 0.0) -> CostBreakdown:
    """Per-hour cost of rented devices (+ egress for data leaving the provider)."""
    _nonneg("usd_per_device_hour", usd_per_device_hour)
    _nonneg("egress_gb_per_hour", egress_gb_per_hour)
    comp = {"rental": usd_per_device_hour * devices,
            "egress": egress_usd_per_gb * egress_gb_per_hour}
    return CostBreakdown(components={k: v for k, v in comp.items() if v})


def usd_per_million_tokens(*, usd_per_hour: float, tokens_per_s: float,
                           utilization: float) -> float:
    """Cost of one million output tokens when the deployment is busy ``utilization`` of the time
    (owned or reserved capacity costs the same per hour whether busy or idle)."""
    if not 0 < utilization <= 1:
        raise SpecError("utilization", utilization, "0 < utilization <= 1")
    if tokens_per_s <= 0:
        return float("inf")
    return usd_per_hour / (tokens_per_s * SECONDS_PER_HOUR * utilization) * MEGA


def break_even_utilization(*, owned_fixed_usd_per_hour: float, owned_variable_usd_per_busy_hour: float,
                           cloud_usd_per_busy_hour: float) -> float | None:
    """Utilization above which owning is cheaper than renting on demand for the busy hours only:
    fixed + u x variable = u x cloud  =>  u* = fixed / (cloud - variable). None if never."""
    margin = cloud_usd_per_busy_hour - owned_variable_usd_per_busy_hour
    if margin <= 0:
        return None
    u = owned_fixed_usd_per_hour / margin
    return u if u <= 1 else None
