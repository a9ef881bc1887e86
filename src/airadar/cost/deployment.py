"""The cost, energy and carbon of one deployment (hardware x count at a site), from a perf
estimate and the site's sourced figures. Every output carries where its inputs came from."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from airadar.catalog.sites import default, device_price, eur_usd, server_price
from airadar.cost import energy as en
from airadar.cost import tco
from airadar.errors import SpecError
from airadar.specs.financial import Financials
from airadar.specs.hardware import HardwareSpec
from airadar.specs.site import Site, SourcedValue
from airadar.units import HOURS_PER_MONTH, HOURS_PER_YEAR


class CostUnavailable(SpecError):
    """A figure the cost needs is not shipped for this site/hardware (a user parameter)."""


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
            "provenance": self.provenance,
        }


def _usd(v: SourcedValue) -> float:
    return v.value * (eur_usd() if v.currency == "EUR" else 1.0)


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
    colo = _usd(site.colo_usd_per_kw_month) if site.colo_usd_per_kw_month else 0.0
    if site.colo_usd_per_kw_month:
        src["colocation"] = _src(site.colo_usd_per_kw_month)
    tariff: float | None = None
    if site.electricity_usd_per_kwh is not None:
        tariff = _usd(site.electricity_usd_per_kwh)
        src["electricity"] = _src(site.electricity_usd_per_kwh)
    elif fin.electricity_usd_per_kwh is not None:
        tariff = fin.electricity_usd_per_kwh
        src["electricity"] = "scenario (site has no sourced tariff)"
    if tariff is not None and fin.electricity_price_multiplier != 1.0:
        tariff *= fin.electricity_price_multiplier
        src["electricity"] += (f" x{fin.electricity_price_multiplier:g} "
                               "(financial.electricity_price_multiplier)")
    return OwnedTerms(years=years, maintenance_fraction_per_year=maint,
                      network_share_fraction=net, colo_usd_per_kw_month=colo,
                      tariff_usd_per_kwh=tariff, sources=src)


def host_overhead_w(hw: HardwareSpec, fin: Financials) -> tuple[float, str]:
    """Host power (CPUs, memory, fans, NICs) per accelerator; none for edge boards."""
    if hw.hw_class in ("edge", "npu"):
        return 0.0, "edge board: no separate host"
    if fin.server_overhead_w_per_device is not None:
        return fin.server_overhead_w_per_device, "scenario"
    d = default("server_overhead_w_per_device")
    return float(d["value"]), d["source"]


def purchase_per_device(hw: HardwareSpec, fin: Financials) -> tuple[float, str]:
    """The purchase price of one device (server share included), times
    ``financial.purchase_price_multiplier``."""
    usd, src = _purchase_per_device(hw, fin)
    m = fin.purchase_price_multiplier
    return (usd * m, f"{src} x{m:g} (financial.purchase_price_multiplier)") if m != 1.0 else (usd, src)


def _purchase_per_device(hw: HardwareSpec, fin: Financials) -> tuple[float, str]:
    if fin.purchase_usd_per_device is not None:
        return fin.purchase_usd_per_device, "scenario (financial.purchase_usd_per_device)"
    srv = server_price(hw.id)
    if srv:
        return srv["usd"] / srv["devices"], f"{srv['source']} ({srv['as_of']}) / {srv['devices']}"
    dev = device_price(hw.id)
    if dev:
        return float(dev["usd"]), f"{dev['source']} ({dev['as_of']})"
    raise CostUnavailable("financial.purchase_usd_per_device", None,
                          f"a purchase price for {hw.id}: none with a public source is shipped")


def power_w(hw: HardwareSpec, *, devices: int, load: float, bottleneck: str, fin: Financials
            ) -> tuple[float | None, dict[str, str]]:
    """Average IT power of the deployment (devices + host overhead)."""
    if hw.tdp_w is None:
        return None, {"power": f"not available: {hw.sources['power'].source}"}
    idle_frac = fin.idle_fraction_of_tdp
    prov = {}
    if hw.idle_w is not None:
        idle = hw.idle_w
        prov["idle"] = "catalog"
    else:
        d = default("idle_fraction_of_tdp")
        idle = hw.tdp_w * (idle_frac if idle_frac is not None else float(d["value"]))
        prov["idle"] = "scenario" if idle_frac is not None else d["source"]
    per = en.device_power_w(tdp_w=hw.tdp_w, idle_w=idle, load=load, bottleneck=bottleneck)
    overhead, osrc = host_overhead_w(hw, fin)
    if overhead:
        prov["host_overhead"] = osrc
    prov["activity"] = f"airadar assumption: activity {en.ACTIVITY.get(bottleneck, 1.0)} for " \
                       f"{bottleneck}-bound serving (cost/energy.py)"
    return devices * (per + overhead), prov


def deployment_cost(*, hw: HardwareSpec, devices: int, site: Site, fin: Financials,
                    throughput_tok_s: float | None, bottleneck: str,
                    requests_per_s: float | None = None) -> DeploymentCost:
    """Cost, energy and carbon of ``devices`` x ``hw`` at ``site`` (see module docstring)."""
    if devices < 1:
        raise SpecError("count", devices, "an integer >= 1")
    load = fin.utilization
    it_w, pprov = power_w(hw, devices=devices, load=load, bottleneck=bottleneck, fin=fin)
    pue = fin.pue if fin.pue is not None else site.pue.value
    prov: dict[str, Any] = {"pue": "scenario" if fin.pue is not None else _src(site.pue),
                            "grid": _src(site.grid_gco2_per_kwh), "power": pprov,
                            "amortization_years": _years(fin)[1],
                            "utilization": "scenario/default"}
    billed = devices
    fixed = 0.0
    variable = 0.0
    if site.owned:
        price, psrc = purchase_per_device(hw, fin)
        prov["purchase"] = psrc
        terms = owned_terms(site, fin)
        if terms.tariff_usd_per_kwh is None:
            raise CostUnavailable("financial.electricity_usd_per_kwh", None,
                                  f"a tariff for site {site.id}: none with a public source is "
                                  "shipped")
        prov.update(terms.sources)
        provisioned = devices * ((hw.tdp_w or 0.0) + host_overhead_w(hw, fin)[0])
        bd = tco.owned_cost(
            purchase_usd=price * devices, years=terms.years, it_power_avg_w=it_w or 0.0,
            it_power_provisioned_w=provisioned, pue=pue,
            tariff_usd_per_kwh=terms.tariff_usd_per_kwh, discount_rate=fin.discount_rate,
            residual_fraction=fin.residual_fraction,
            network_share_fraction=terms.network_share_fraction,
            installation_usd=fin.installation_usd_per_device * devices,
            maintenance_fraction_per_year=terms.maintenance_fraction_per_year,
            software_usd_per_year=fin.software_usd_per_device_year * devices,
            staff_usd_per_year=fin.staff_usd_per_year,
            colo_usd_per_kw_month=terms.colo_usd_per_kw_month)
        energy_h = bd.components.get("energy", 0.0)
        fixed = bd.usd_per_hour - energy_h
        variable = energy_h / max(load, 1e-9)
    else:
        offer = site.offer_for(hw.id)
        key = f"{site.id}/{hw.id}"
        if key in fin.price_overrides:
            price_h = fin.price_overrides[key]
            prov["price"] = "scenario (financial.price_overrides)"
            dpi = offer.devices_per_instance if offer else 1
        elif offer is not None and offer.price(fin.term) is not None:
            price_h = float(offer.price(fin.term))  # type: ignore[arg-type]
            prov["price"] = f"{offer.source} ({offer.as_of}), {fin.term}"
            dpi = offer.devices_per_instance
        else:
            raise CostUnavailable(f"financial.price_overrides[{key}]", None,
                                  f"a {fin.term} price for {hw.id} at {site.id}: "
                                  + ("not offered there" if offer is None and site.offers
                                     else "no sourced price is shipped"))
        if fin.cloud_price_multiplier != 1.0:
            price_h *= fin.cloud_price_multiplier
            prov["price"] += f" x{fin.cloud_price_multiplier:g} (financial.cloud_price_multiplier)"
        billed = math.ceil(devices / dpi) * dpi
        egress_gb_h = (requests_per_s or 0.0) * 3600 * fin.egress_gb_per_request
        bd = tco.cloud_cost(usd_per_device_hour=price_h, devices=billed,
                            egress_usd_per_gb=site.egress_usd_per_gb,
                            egress_gb_per_hour=egress_gb_h)
        variable = bd.usd_per_hour
    per_m = None
    if throughput_tok_s:
        per_m = tco.usd_per_million_tokens(usd_per_hour=bd.usd_per_hour,
                                           tokens_per_s=throughput_tok_s, utilization=load)
    fac_w = it_w * pue if it_w is not None else None
    kwh_month = fac_w / 1000 * HOURS_PER_MONTH if fac_w is not None else None
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
        busy_w, _ = power_w(hw, devices=devices, load=1.0, bottleneck=bottleneck, fin=fin)
        jpt = en.energy_per_token_j(it_power_w=busy_w or 0.0, pue=pue, tokens_per_s=throughput_tok_s)
        if requests_per_s:
            whr = jpt * throughput_tok_s * load / requests_per_s / 3600.0
    return DeploymentCost(site=site.id, hardware=hw.id, devices=devices, billed_devices=billed,
                          breakdown=bd, usd_per_million_tokens=per_m, years=_years(fin)[0], it_power_w=it_w,
                          facility_power_w=fac_w, energy_kwh_per_month=kwh_month, j_per_token=jpt,
                          wh_per_request=whr, operational_kgco2e_per_month=op_co2,
                          embodied_kgco2e_per_month=emb, provenance=prov,
                          fixed_usd_per_hour=fixed, variable_usd_per_busy_hour=variable)


__all__ = ["CostUnavailable", "DeploymentCost", "HOURS_PER_YEAR", "deployment_cost"]
