"""The cost, energy and carbon of one deployment (hardware x count at a site), from a perf
estimate and the site's sourced figures. Every output carries where its inputs came from."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from airadar.catalog.sites import default
from airadar.cost import energy as en
from airadar.cost import fleet, pricing, tco
from airadar.cost.pricing import CostUnavailable
from airadar.errors import SpecError
from airadar.specs.financial import Financials
from airadar.specs.hardware import HardwareSpec
from airadar.specs.site import Site, SourcedValue
from airadar.units import HOURS_PER_MONTH, HOURS_PER_YEAR, J_PER_WH, W_PER_KW, w_to_kw


@dataclass(frozen=True, kw_only=True)
class DeploymentCost:
    site: str
    hardware: str
    devices: int
    billed_devices: int
    breakdown: tco.CostBreakdown
    usd_per_million_tokens: float | None
    years: float
    it_power_w: float | None
    facility_power_w: float | None
    energy_kwh_per_month: float | None
    j_per_token: float | None
    wh_per_request: float | None
    operational_kgco2e_per_month: float | None
    embodied_kgco2e_per_month: float | None
    provenance: dict[str, Any] = field(default_factory=dict)
    fixed_usd_per_hour: float = 0.0
    variable_usd_per_busy_hour: float = 0.0
    #: the cost at the low and high ends of the price ranges (purchase, colocation)
    usd_per_hour_low: float | None = None
    usd_per_hour_high: float | None = None
    price_age: pricing.PriceAge | None = None

    @property
    def usd_per_hour(self) -> float:
        return self.breakdown.usd_per_hour

    @property
    def usd_per_month(self) -> float:
        return self.breakdown.usd_per_month

    @property
    def tco_usd(self) -> float:
        return self.breakdown.tco_usd(self.years)

    @property
    def kgco2e_per_month(self) -> float | None:
        if self.operational_kgco2e_per_month is None:
            return None
        return self.operational_kgco2e_per_month + (self.embodied_kgco2e_per_month or 0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site, "hardware": self.hardware, "devices": self.devices,
            "billed_devices": self.billed_devices,
            "usd_per_hour": self.usd_per_hour, "usd_per_month": self.usd_per_month,
            "tco_usd": self.tco_usd, "tco_years": self.years,
            "usd_per_million_output_tokens": self.usd_per_million_tokens,
            "breakdown_usd_per_hour": self.breakdown.components,
            "it_power_w": self.it_power_w, "facility_power_w": self.facility_power_w,
            "energy_kwh_per_month": self.energy_kwh_per_month, "j_per_token": self.j_per_token,
            "wh_per_request": self.wh_per_request,
            "operational_kgco2e_per_month": self.operational_kgco2e_per_month,
            "embodied_kgco2e_per_month": self.embodied_kgco2e_per_month,
            "usd_per_month_interval": None if self.usd_per_hour_low is None else
            [self.usd_per_hour_low * HOURS_PER_MONTH, (self.usd_per_hour_high or 0.0)
             * HOURS_PER_MONTH],
            **(self.price_age.to_json() if self.price_age else {}),
            "provenance": self.provenance,
        }


def _src(v: SourcedValue) -> str:
    return f"{v.source} ({v.as_of})" + (" [estimate]" if v.estimate else "")


def _years(fin: Financials) -> tuple[float, str]:
    if fin.amortization_years:
        return fin.amortization_years, "scenario"
    d = default("amortization_years")
    return float(d["value"]), d["source"]


@dataclass(frozen=True, kw_only=True)
class OwnedTerms:
    """What owning hardware at a site costs besides the hardware itself, each term resolved
    from the scenario, the site's sourced figures or ``prices.yaml`` defaults (in that order;
    a site's sourced tariff takes precedence over the scenario's fallback tariff)."""

    years: float
    maintenance_fraction_per_year: float
    network_share_fraction: float
    colo_usd_per_kw_month: float
    tariff_usd_per_kwh: float | None
    sources: dict[str, str]
    quotes: tuple[pricing.Quote, ...] = ()
    colo_low_high: tuple[float, float] = (0.0, 0.0)


def owned_terms(site: Site, fin: Financials) -> OwnedTerms:
    years, years_src = _years(fin)
    src: dict[str, str] = {"amortization_years": years_src}
    maint = fin.maintenance_fraction_per_year
    if maint is None:
        d = default("maintenance_fraction_per_year")
        maint, src["maintenance"] = float(d["value"]), d["source"]
    net = fin.network_share_fraction
    if net is None:
        d = default("network_share_fraction")
        net = 0.0 if site.kind in ("edge", "device") else float(d["value"])
        src["network"] = d["source"]
    colo_q = pricing.colo_quote(site, fin) if site.kind == "colo" else None
    if colo_q is not None:
        src["colocation"] = colo_q.source
    tariff_q = pricing.tariff_quote(site, fin)
    if tariff_q is not None:
        src["electricity"] = tariff_q.source
    return OwnedTerms(years=years, maintenance_fraction_per_year=maint,
                      network_share_fraction=net,
                      colo_usd_per_kw_month=colo_q.usd if colo_q else 0.0,
                      tariff_usd_per_kwh=tariff_q.usd if tariff_q else None, sources=src,
                      quotes=tuple(q for q in (colo_q, tariff_q) if q is not None),
                      colo_low_high=(colo_q.usd_low, colo_q.usd_high) if colo_q else (0.0, 0.0))


def host_overhead_w(hw: HardwareSpec, fin: Financials) -> tuple[float, str]:
    """Host power (CPUs, memory, fans, NICs) per accelerator; none for edge boards."""
    if hw.hw_class in ("edge", "npu"):
        return 0.0, "edge board: no separate host"
    if fin.server_overhead_w_per_device is not None:
        return fin.server_overhead_w_per_device, "scenario"
    d = default("server_overhead_w_per_device")
    return float(d["value"]), d["source"]


def purchase_per_device(hw: HardwareSpec, fin: Financials) -> tuple[float, str]:
    """Purchase price of one device (the midpoint of a range) and its sources."""
    q = pricing.purchase_quote(hw, fin)
    return q.usd, q.source


def power_w(hw: HardwareSpec, *, devices: int, load: float, bottleneck: str, fin: Financials,
            users_device: bool = False) -> tuple[float | None, dict[str, str]]:
    """Average IT power of the deployment (``cost.fleet.it_power_w``: devices + host
    overhead; on the users' own devices only the extra power of serving)."""
    if hw.tdp_w is None:
        return None, {"power": f"not available: {hw.sources['power'].source}"}
    if not 0 <= load <= 1:
        raise SpecError("load", load, "0 <= load <= 1")
    idle_frac = fin.idle_fraction_of_tdp
    prov = {}
    if hw.idle_w is not None:
        idle = hw.idle_w
        prov["idle"] = "catalog"
    else:
        d = default("idle_fraction_of_tdp")
        idle = hw.tdp_w * (idle_frac if idle_frac is not None else float(d["value"]))
        prov["idle"] = "scenario" if idle_frac is not None else d["source"]
    overhead, osrc = host_overhead_w(hw, fin)
    if overhead and not users_device:
        prov["host_overhead"] = osrc
    if users_device:
        prov["device_power"] = "the users' own devices are on anyway: only the power of " \
                               "serving above idle is counted"
    prov["activity"] = f"airadar assumption: activity {en.ACTIVITY.get(bottleneck, 1.0)} for " \
                       f"{bottleneck}-bound serving (cost/energy.py)"
    w = fleet.it_power_w(devices=devices, tdp_w=hw.tdp_w, idle_w=idle, load=load,
                         bottleneck_activity=fleet.activity(bottleneck), host_w=overhead,
                         users_device=users_device)
    return float(w), prov


def deployment_cost(*, hw: HardwareSpec, devices: int, site: Site, fin: Financials,
                    throughput_tok_s: float | None, bottleneck: str,
                    requests_per_s: float | None = None, today: date | None = None
                    ) -> DeploymentCost:
    """Cost, energy and carbon of ``devices`` x ``hw`` at ``site`` (see module docstring).
    Prices come from ``cost.pricing``; ``today`` ages them (default ``financial.price_date``,
    else the current date)."""
    if devices < 1:
        raise SpecError("count", devices, "an integer >= 1")
    today = today or fin.price_date or date.today()
    load = fin.utilization
    it_w, pprov = power_w(hw, devices=devices, load=load, bottleneck=bottleneck, fin=fin,
                          users_device=site.kind == "device")
    pue = fin.pue if fin.pue is not None else site.pue.value
    prov: dict[str, Any] = {"pue": "scenario" if fin.pue is not None else _src(site.pue),
                            "grid": _src(site.grid_gco2_per_kwh), "power": pprov,
                            "amortization_years": _years(fin)[1],
                            "utilization": "scenario/default"}
    billed = devices
    fixed = 0.0
    variable = 0.0
    low = high = None
    users_device = site.kind == "device"
    fac_kw = (it_w or 0.0) * pue / W_PER_KW
    egress_gb_h = fleet.egress_gb_per_hour(requests_per_s=requests_per_s or 0.0, fin=fin)
    common = {"owned": site.owned, "users_device": users_device, "devices": devices,
              "facility_kw": fac_kw, "staff_usd_per_year": fin.staff_usd_per_year,
              "egress_usd_per_gb": site.egress_usd_per_gb, "egress_gb_per_hour": egress_gb_h}
    if users_device:
        prov["hardware"] = "the users' own devices: no operator capital or electricity"
        parts = fleet.components(billed_devices=devices, fixed_usd_per_device_hour=0.0,
                                 price_usd_per_device_hour=0.0, tariff_usd_per_kwh=0.0,
                                 **common)
        bd = tco.CostBreakdown(components={k: float(v) for k, v in parts.items()
                                           if k != "owned_fixed" and v})
        fixed = bd.usd_per_hour
        age = None
    elif site.owned:
        pq = pricing.purchase_quote(hw, fin)
        prov["purchase"] = pq.source
        terms = owned_terms(site, fin)
        if terms.tariff_usd_per_kwh is None:
            raise CostUnavailable("financial.electricity_usd_per_kwh", None,
                                  f"a tariff for site {site.id}: none with a public source is "
                                  "shipped")
        prov.update(terms.sources)
        provisioned = (hw.tdp_w or 0.0) + host_overhead_w(hw, fin)[0]

        def owned_at(price: float, colo: float) -> tco.CostBreakdown:
            per_dev = fleet.owned_fixed_per_device(
                purchase_usd=price, site=site, fin=fin, provisioned_w=provisioned,
                years=terms.years, maintenance_fraction_per_year=terms.maintenance_fraction_per_year,
                network_share_fraction=terms.network_share_fraction, colo_usd_per_kw_month=colo)
            parts = fleet.components(billed_devices=devices,
                                     fixed_usd_per_device_hour=per_dev.usd_per_hour,
                                     price_usd_per_device_hour=0.0,
                                     tariff_usd_per_kwh=terms.tariff_usd_per_kwh, **common)
            comp = {k: v * devices for k, v in per_dev.components.items()}
            comp.update({k: float(v) for k, v in parts.items() if k != "owned_fixed"})
            return tco.CostBreakdown(components={k: v for k, v in comp.items() if v})

        bd = owned_at(pq.usd, terms.colo_usd_per_kw_month)
        low = owned_at(pq.usd_low, terms.colo_low_high[0]).usd_per_hour
        high = owned_at(pq.usd_high, terms.colo_low_high[1]).usd_per_hour
        energy_h = bd.components.get("energy", 0.0)
        fixed = bd.usd_per_hour - energy_h
        variable = energy_h / max(load, 1e-9)
        age = pricing.price_age([pq, *terms.quotes], fin, today)
    else:
        q = pricing.cloud_quote(site, hw.id, fin.term, fin, today, devices=devices)
        if q is None:
            listed = pricing.has_price_list(site, today)
            raise CostUnavailable(f"financial.price_overrides[{site.id}/{hw.id}]", None,
                                  f"a {fin.term} price for {hw.id} at {site.id}: "
                                  + ("none is published in the shipped price rows" if listed
                                     else "no sourced price is shipped"))
        prov["price"] = f"{q.source}, {fin.term}"
        if egress_gb_h and site.egress_usd_per_gb:
            prov["egress"] = (f"{fin.egress_gb_per_request:g} GB/request x "
                              f"${site.egress_usd_per_gb:g}/GB (site catalog)")
        dpi = q.devices_per_instance
        billed = math.ceil(devices / dpi) * dpi
        parts = fleet.components(billed_devices=billed, fixed_usd_per_device_hour=0.0,
                                 price_usd_per_device_hour=q.usd, tariff_usd_per_kwh=0.0,
                                 **common)
        bd = tco.CostBreakdown(components={k: float(v) for k, v in parts.items() if v})
        variable = bd.usd_per_hour
        age = pricing.price_age([q], fin, today)
    per_m = None
    if throughput_tok_s:
        per_m = tco.usd_per_million_tokens(usd_per_hour=bd.usd_per_hour,
                                           tokens_per_s=throughput_tok_s, utilization=load)
    fac_w = it_w * pue if it_w is not None else None
    kwh_month = w_to_kw(fac_w) * HOURS_PER_MONTH if fac_w is not None else None
    op_co2 = en.operational_kgco2e(energy_kwh=kwh_month, grid_gco2_per_kwh=site.grid_gco2_per_kwh.value
                                   ) if kwh_month is not None else None
    emb = None
    if fin.embodied_kgco2e_per_device is not None or hw.embodied_kgco2e is not None:
        e = fin.embodied_kgco2e_per_device if fin.embodied_kgco2e_per_device is not None \
            else hw.embodied_kgco2e
        emb = en.embodied_kgco2e_per_hour(embodied_kgco2e=float(e) * billed,  # type: ignore[arg-type]
                                          life_years=_years(fin)[0]) * HOURS_PER_MONTH
        prov["embodied"] = "scenario" if fin.embodied_kgco2e_per_device is not None else "catalog"
    else:
        prov["embodied"] = "not included: no sourced embodied-carbon figure for this hardware " \
                           "(set financial.embodied_kgco2e_per_device)"
    jpt = None
    whr = None
    if fac_w is not None and throughput_tok_s:
        # power while busy (load = 1) over busy throughput
        busy_w, _ = power_w(hw, devices=devices, load=1.0, bottleneck=bottleneck, fin=fin,
                            users_device=site.kind == "device")
        jpt = en.energy_per_token_j(it_power_w=busy_w or 0.0, pue=pue, tokens_per_s=throughput_tok_s)
        if requests_per_s:
            whr = jpt * throughput_tok_s * load / requests_per_s / J_PER_WH
    return DeploymentCost(site=site.id, hardware=hw.id, devices=devices, billed_devices=billed,
                          breakdown=bd, usd_per_million_tokens=per_m, years=_years(fin)[0], it_power_w=it_w,
                          facility_power_w=fac_w, energy_kwh_per_month=kwh_month, j_per_token=jpt,
                          wh_per_request=whr, operational_kgco2e_per_month=op_co2,
                          embodied_kgco2e_per_month=emb, provenance=prov,
                          fixed_usd_per_hour=fixed, variable_usd_per_busy_hour=variable,
                          usd_per_hour_low=low, usd_per_hour_high=high, price_age=age)


__all__ = ["CostUnavailable", "DeploymentCost", "HOURS_PER_YEAR", "deployment_cost"]
