"""Price every performance option at every site and term at once (numpy), keeping for each
candidate the first constraint it fails. Per-device owned costs come from the scalar
``cost.tco.owned_cost`` (one call per hardware and site), so the vectorised inner loop and
the detailed breakdown of ``cost.deployment`` agree (tested)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from airadar.catalog.sites import default
from airadar.cost import tco
from airadar.cost.deployment import (
    CostUnavailable,
    host_overhead_w,
    owned_terms,
    purchase_per_device,
)
from airadar.cost.energy import ACTIVITY
from airadar.plan.options import PerfOption
from airadar.policy.sovereignty import SiteVerdict
from airadar.specs.financial import Financials
from airadar.specs.site import Site
from airadar.units import HOURS_PER_MONTH

# reason codes of the first failing check, in check order
OK, NOT_OFFERED, NO_PRICE, NO_TARIFF, POLICY, MAX_DEVICES, POWER, BUDGET = range(8)
REASONS = {NOT_OFFERED: "price", NO_PRICE: "price", NO_TARIFF: "price", POLICY: "policy",
           MAX_DEVICES: "devices", POWER: "power", BUDGET: "budget"}


@dataclass(frozen=True, kw_only=True)
class Grid:
    """Scored candidates: arrays indexed [option, site, term]."""

    usd_per_hour: np.ndarray
    it_power_w: np.ndarray
    facility_kw: np.ndarray
    kwh_month: np.ndarray
    kgco2e_month: np.ndarray
    usd_per_mtok: np.ndarray
    billed_devices: np.ndarray
    reason: np.ndarray
    utilization: np.ndarray  # per option

    @property
    def count(self) -> int:
        return int(self.reason.size)


def _tariff(site: Site, fin: Financials) -> float:
    """The site's sourced tariff; the scenario's value fills sites that have none."""
    t = owned_terms(site, fin).tariff_usd_per_kwh
    return math.nan if t is None else t


def owned_per_device_fixed(hw_price: float, site: Site, fin: Financials, provisioned_w: float
                           ) -> float:
    """Owned fixed $/h of one device (capital, network, maintenance, colo) via tco.owned_cost."""
    t = owned_terms(site, fin)
    bd = tco.owned_cost(purchase_usd=hw_price, years=t.years, it_power_avg_w=0.0,
                        it_power_provisioned_w=provisioned_w, pue=max(site.pue.value, 1.0),
                        tariff_usd_per_kwh=0.0, discount_rate=fin.discount_rate,
                        residual_fraction=fin.residual_fraction,
                        network_share_fraction=t.network_share_fraction,
                        installation_usd=fin.installation_usd_per_device,
                        maintenance_fraction_per_year=t.maintenance_fraction_per_year,
                        software_usd_per_year=fin.software_usd_per_device_year,
                        colo_usd_per_kw_month=t.colo_usd_per_kw_month)
    return bd.usd_per_hour


def score(options: list[PerfOption], sites: list[Site], verdicts: dict[str, SiteVerdict],
          terms: tuple[str, ...], fin: Financials, *, avg_rps: float, out_tokens: float,
          users: int | None, max_devices: int | None, power_cap_kw: float | None,
          budget_usd_per_month: float | None) -> Grid:
    no, ns, nt = len(options), len(sites), len(terms)
    d_idle = float(default("idle_fraction_of_tdp")["value"])
    idle_frac = fin.idle_fraction_of_tdp if fin.idle_fraction_of_tdp is not None else d_idle
    # ---- per option -------------------------------------------------------------------
    dev = np.array([o.devices for o in options], dtype=float)
    cap = np.array([o.capacity_rps_per_replica * o.replicas for o in options])
    util = np.clip(avg_rps / cap, 1e-6, 1.0)
    tdp = np.array([o.hw.tdp_w if o.hw.tdp_w else np.nan for o in options])
    idle = np.array([o.hw.idle_w if o.hw.idle_w is not None else
                     (o.hw.tdp_w or np.nan) * idle_frac for o in options])
    act = np.array([ACTIVITY.get(o.bottleneck, 1.0) for o in options])
    host = np.array([host_overhead_w(o.hw, fin)[0] for o in options])
    per_dev_w = idle + (tdp - idle) * util * act + host
    # ---- per (option, site) -----------------------------------------------------------
    pue = np.array([fin.pue or s.pue.value for s in sites])
    grid_g = np.array([s.grid_gco2_per_kwh.value for s in sites])
    tariff = np.array([_tariff(s, fin) for s in sites])
    owned = np.array([s.owned for s in sites])
    is_device = np.array([s.kind == "device" for s in sites])
    policy_bad = np.array([verdicts[s.id].decision == "deny" for s in sites])
    hw_ids = sorted({o.hw.id for o in options})
    hw_idx = {h: i for i, h in enumerate(hw_ids)}
    oi = np.array([hw_idx[o.hw.id] for o in options], dtype=int)
    # devices on the user's own device sites: one per user (if the scenario says how many)
    dev_os = np.broadcast_to(dev[:, None], (no, ns)).copy()
    if users:
        for j, s in enumerate(sites):
            if s.kind == "device":
                dev_os[:, j] = np.maximum(dev, users)
    # owned fixed $/h per device [hw, site] and cloud price [hw, site, term]
    fixed = np.full((len(hw_ids), ns), np.nan)
    price = np.full((len(hw_ids), ns, nt), np.nan)
    dpi = np.ones((len(hw_ids), ns))
    no_offer = np.zeros((len(hw_ids), ns), dtype=bool)  # cloud sites that do not list the hw
    hw_of = {o.hw.id: o.hw for o in options}
    for h, hi in hw_idx.items():
        hw = hw_of[h]
        provisioned = (hw.tdp_w or 0.0) + host_overhead_w(hw, fin)[0]
        try:
            p_dev, _ = purchase_per_device(hw, fin)
        except CostUnavailable:
            p_dev = math.nan
        for j, s in enumerate(sites):
            if s.owned:
                if s.kind == "device":
                    fixed[hi, j] = 0.0  # the user's own device: no operator capital
                elif not math.isnan(p_dev):
                    fixed[hi, j] = owned_per_device_fixed(p_dev, s, fin, provisioned)
            else:
                off = s.offer_for(h)
                no_offer[hi, j] = off is None
                for k, t in enumerate(terms):
                    key = f"{s.id}/{h}"
                    if key in fin.price_overrides:
                        price[hi, j, k] = fin.price_overrides[key]
                    elif off is not None and off.price(t) is not None:
                        price[hi, j, k] = float(off.price(t))  # type: ignore[arg-type]
                if off is not None:
                    dpi[hi, j] = off.devices_per_instance
    price *= fin.cloud_price_multiplier
    billed = np.where(owned[None, :], dev_os, np.ceil(dev_os / dpi[oi, :]) * dpi[oi, :])
    it_w = dev_os * per_dev_w[:, None]
    # users' own devices are on anyway: count only the extra power of serving (above idle)
    if is_device.any():
        dev_cap = cap / dev  # requests/s one device serves
        util_dev = np.clip(avg_rps / (dev_os * dev_cap[:, None]), 0.0, 1.0)
        active_w = dev_os * (tdp - idle)[:, None] * util_dev * act[:, None]
        it_w = np.where(is_device[None, :], active_w, it_w)
    fac_kw = it_w * pue[None, :] / 1000.0
    energy_h = np.where(owned & ~is_device, 1.0, 0.0)[None, :] * fac_kw * np.nan_to_num(tariff)[None, :]
    owned_h = dev_os * fixed[oi, :] + energy_h + fin.staff_usd_per_year / 8760.0
    usd_h = np.where(owned[None, :, None], owned_h[:, :, None], billed[:, :, None] * price[oi, :, :])
    kwh_m = fac_kw * HOURS_PER_MONTH
    co2 = kwh_m * grid_g[None, :] / 1000.0
    tok_h = avg_rps * out_tokens * 3600.0
    per_mtok = usd_h / tok_h * 1e6 if tok_h > 0 else np.full_like(usd_h, np.inf)
    # ---- first failing check ------------------------------------------------------------
    reason = np.zeros((no, ns, nt), dtype=np.int8)

    def mark(mask: np.ndarray, code: int) -> None:
        reason[(reason == OK) & mask] = code

    not_offered = ~owned[None, :, None] & np.isnan(price[oi, :, :]) & no_offer[oi, :][:, :, None]
    mark(not_offered, NOT_OFFERED)
    # devices in the field and users' own devices take edge-class hardware only
    small = np.array([o.hw.hw_class in ("edge", "npu") for o in options])
    field_site = np.array([s.kind in ("edge", "device") for s in sites])
    mark(np.broadcast_to((field_site[None, :] & ~small[:, None])[:, :, None], reason.shape),
         NOT_OFFERED)
    # ... and edge-class boards are not data-center servers
    mark(np.broadcast_to((~field_site[None, :] & small[:, None])[:, :, None], reason.shape),
         NOT_OFFERED)
    # consumer cards: NVIDIA's GeForce driver licence excludes data-center deployment
    consumer = np.array(["consumer" in o.hw.form_factor for o in options])
    dc_site = np.array([s.kind in ("cloud", "colo") for s in sites])
    mark(np.broadcast_to((dc_site[None, :] & consumer[:, None])[:, :, None], reason.shape),
         NOT_OFFERED)
    # the users' own devices are a placement only when the scenario says how many users
    if not users:
        mark(np.broadcast_to(is_device[None, :, None], reason.shape), NOT_OFFERED)
    mark(~owned[None, :, None] & np.isnan(price[oi, :, :]), NO_PRICE)
    mark(owned[None, :, None] & np.isnan(fixed[oi, :])[:, :, None], NO_PRICE)
    no_tariff = owned & ~is_device & np.isnan(tariff)
    mark(np.broadcast_to(no_tariff[None, :, None], reason.shape), NO_TARIFF)
    mark(np.broadcast_to(policy_bad[None, :, None], reason.shape), POLICY)
    if max_devices:
        mark(np.broadcast_to((billed > max_devices)[:, :, None], reason.shape), MAX_DEVICES)
    if power_cap_kw:
        mark(np.broadcast_to((fac_kw > power_cap_kw)[:, :, None], reason.shape), POWER)
    if budget_usd_per_month:
        mark(usd_h * HOURS_PER_MONTH > budget_usd_per_month, BUDGET)
    # owned sites ignore the term axis: keep only the first term there
    if nt > 1:
        reason[:, owned, 1:] = NOT_OFFERED
    return Grid(usd_per_hour=usd_h, it_power_w=it_w, facility_kw=fac_kw, kwh_month=kwh_m,
                kgco2e_month=co2, usd_per_mtok=per_mtok, billed_devices=billed, reason=reason,
                utilization=util)
