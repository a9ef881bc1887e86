"""Price every performance option at every site and term at once (numpy), keeping for each
candidate the first constraint it fails. Per-device owned costs come from the scalar
``cost.tco.owned_cost`` (one call per hardware and site) and every price from
``cost.pricing`` (one call per hardware, site and term), so the vectorised inner loop and
the detailed breakdown of ``cost.deployment`` agree (tested)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from airadar.catalog.sites import default
from airadar.cost import fleet, pricing
from airadar.cost.deployment import (
    CostUnavailable,
    host_overhead_w,
    owned_terms,
)
from airadar.plan.options import PerfOption
from airadar.policy.licence import excluded
from airadar.policy.sovereignty import SiteVerdict
from airadar.specs.financial import Financials
from airadar.specs.site import Site
from airadar.units import G_PER_KG, HOURS_PER_MONTH, SECONDS_PER_HOUR, W_PER_KW

# reason codes of the first failing check, in check order
OK, NOT_OFFERED, NO_PRICE, NO_TARIFF, POLICY, MAX_DEVICES, POWER, BUDGET, LICENCE, \
    PER_USER, NO_POWER = range(11)
REASONS = {NOT_OFFERED: "price", NO_PRICE: "price", NO_TARIFF: "price", POLICY: "policy",
           MAX_DEVICES: "devices", POWER: "power", BUDGET: "budget", LICENCE: "licence",
           PER_USER: "per-user device", NO_POWER: "no power figure"}


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
    #: load of each device [option, site]: the pooled utilisation, per user on users' devices
    load: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    #: the age and labels of the prices of (hardware index, site, term); owned sites at term 0
    price_age: dict[tuple[int, int, int], pricing.PriceAge] = field(default_factory=dict)
    hw_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # per option
    #: what a missing price would unlock: description -> candidates that pass every other check
    unlock: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return int(self.reason.size)


def score(options: list[PerfOption], sites: list[Site], verdicts: dict[str, SiteVerdict],
          terms: tuple[str, ...], fin: Financials, *, avg_rps: float, out_tokens: float,
          users: int | None, max_devices: int | None, power_cap_kw: float | None,
          budget_usd_per_month: float | None, today: date | None = None,
          onprem_setting: str = "datacenter", peak_rps_per_user: float = 0.0) -> Grid:
    today = today or fin.price_date or date.today()
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
    act = np.array([fleet.activity(o.bottleneck) for o in options])
    host = np.array([host_overhead_w(o.hw, fin)[0] for o in options])
    # ---- per (option, site) -----------------------------------------------------------
    pue = np.array([fin.pue or s.pue.value for s in sites])
    grid_g = np.array([s.grid_gco2_per_kwh.value for s in sites])
    site_terms = {s.id: owned_terms(s, fin) for s in sites if s.owned}
    tariff = np.array([math.nan if not s.owned or site_terms[s.id].tariff_usd_per_kwh is None
                       else site_terms[s.id].tariff_usd_per_kwh for s in sites])
    owned = np.array([s.owned for s in sites])
    is_device = np.array([s.kind == "device" for s in sites])
    policy_bad = np.array([verdicts[s.id].decision == "deny" for s in sites])
    hw_ids = sorted({o.hw.id for o in options})
    hw_idx = {h: i for i, h in enumerate(hw_ids)}
    oi = np.array([hw_idx[o.hw.id] for o in options], dtype=int)
    # devices on the user's own device sites: one per user (if the scenario says how many)
    dev_os = np.broadcast_to(dev[:, None], (no, ns)).copy()
    if users:
        dev_os[:, is_device] = users
    # owned fixed $/h per device [hw, site] and cloud price [hw, site, term]
    fixed = np.full((len(hw_ids), ns), np.nan)
    price = np.full((len(hw_ids), ns, nt), np.nan)
    dpi = np.ones((len(hw_ids), ns, nt))
    ages: dict[tuple[int, int, int], pricing.PriceAge] = {}
    sizes: dict[tuple[int, int, int], tuple[pricing.Quote, ...]] = {}
    hw_of = {o.hw.id: o.hw for o in options}
    for h, hi in hw_idx.items():
        hw = hw_of[h]
        provisioned = (hw.tdp_w or 0.0) + host_overhead_w(hw, fin)[0]
        pq: pricing.Quote | None
        try:
            pq = pricing.purchase_quote(hw, fin)
        except CostUnavailable:
            pq = None
        for j, s in enumerate(sites):
            if s.owned:
                if s.kind == "device":
                    fixed[hi, j] = 0.0  # the user's own device: no operator capital
                elif pq is not None:
                    st = site_terms[s.id]
                    fixed[hi, j] = fleet.owned_fixed_per_device(
                        purchase_usd=pq.usd, site=s, fin=fin, provisioned_w=provisioned,
                        years=st.years, maintenance_fraction_per_year=st.maintenance_fraction_per_year,
                        network_share_fraction=st.network_share_fraction,
                        colo_usd_per_kw_month=st.colo_usd_per_kw_month).usd_per_hour
                    ages[(hi, j, 0)] = pricing.price_age([pq, *site_terms[s.id].quotes], fin,
                                                         today)
            else:
                for k, t in enumerate(terms):
                    qs = pricing.cloud_size_quotes(s, h, t, fin, today)
                    if qs:
                        price[hi, j, k] = qs[0].usd
                        dpi[hi, j, k] = qs[0].devices_per_instance
                        ages[(hi, j, k)] = pricing.price_age([qs[0]], fin, today)
                        if len(qs) > 1:
                            sizes[(hi, j, k)] = qs
    price_o = price[oi]  # [option, site, term]
    dpi_o = dpi[oi]
    # several instance sizes: each option takes the one that bills its devices for the least
    for (hi, j, k), qs in sizes.items():
        for i in np.flatnonzero(oi == hi):
            q = pricing.cheapest_quote(qs, int(dev_os[i, j]))
            price_o[i, j, k], dpi_o[i, j, k] = q.usd, q.devices_per_instance
    billed = np.where(owned[None, :, None], dev_os[:, :, None],
                      np.ceil(dev_os[:, :, None] / dpi_o) * dpi_o)
    # load per device: the pooled utilisation; on the users' own devices, each device's share
    load = np.broadcast_to(util[:, None], (no, ns)).copy()
    if is_device.any():
        dev_cap = cap / dev  # requests/s one device serves
        load[:, is_device] = np.clip(avg_rps / (dev_os[:, is_device] * dev_cap[:, None]), 0.0, 1.0)
    it_w = fleet.it_power_w(devices=dev_os, tdp_w=tdp[:, None], idle_w=idle[:, None], load=load,
                            bottleneck_activity=act[:, None], host_w=host[:, None],
                            users_device=is_device[None, :])
    fac_kw = it_w * pue[None, :] / W_PER_KW
    egress_usd_per_gb = np.array([s.egress_usd_per_gb for s in sites])
    usd_h = fleet.usd_per_hour(
        owned=owned[None, :, None], users_device=is_device[None, :, None],
        devices=dev_os[:, :, None], billed_devices=billed,
        fixed_usd_per_device_hour=fixed[oi, :][:, :, None], price_usd_per_device_hour=price_o,
        facility_kw=fac_kw[:, :, None], tariff_usd_per_kwh=tariff[None, :, None],
        staff_usd_per_year=fin.staff_usd_per_year,
        egress_usd_per_gb=egress_usd_per_gb[None, :, None],
        egress_gb_per_hour=fleet.egress_gb_per_hour(requests_per_s=avg_rps, fin=fin))
    kwh_m = fac_kw * HOURS_PER_MONTH
    co2 = kwh_m * grid_g[None, :] / G_PER_KG
    tok_h = avg_rps * out_tokens * SECONDS_PER_HOUR
    per_mtok = usd_h / tok_h * 1e6 if tok_h > 0 else np.full_like(usd_h, np.inf)
    # ---- first failing check ------------------------------------------------------------
    reason = np.zeros((no, ns, nt), dtype=np.int8)

    def mark(mask: np.ndarray, code: int) -> None:
        reason[(reason == OK) & mask] = code

    # a cloud site with some published price does not offer the hardware it prices for no
    # term; a site with no price at all is unknown, not absent (a quote would unlock it)
    listed = np.array([not s.owned and pricing.has_price_list(s, today) for s in sites])
    priced_any = ~np.isnan(price).all(axis=2)  # [hw, site]
    not_offered = (~owned[None, :] & (listed[None, :] & ~priced_any[oi, :]
                                      | ~listed[None, :]))[:, :, None]
    mark(np.broadcast_to(not_offered, reason.shape), NOT_OFFERED)
    # cloud-only chips (TPU, Inferentia, Trainium) are not sold: nothing to own
    cloud_only = np.array(["cloud only" in o.hw.form_factor for o in options])
    mark(np.broadcast_to((owned[None, :] & cloud_only[:, None])[:, :, None], reason.shape),
         NOT_OFFERED)
    # devices in the field and users' own devices take edge-class hardware only
    small = np.array([o.hw.hw_class in ("edge", "npu") for o in options])
    field_site = np.array([s.kind in ("edge", "device") for s in sites])
    mark(np.broadcast_to((field_site[None, :] & ~small[:, None])[:, :, None], reason.shape),
         NOT_OFFERED)
    # ... and edge-class boards are not data-center servers
    mark(np.broadcast_to((~field_site[None, :] & small[:, None])[:, :, None], reason.shape),
         NOT_OFFERED)
    # hardware whose licence excludes the site (GeForce in a data centre: policy.licence)
    lic_hw = {h: [excluded(hw_of[h], s, onprem_setting=onprem_setting) is not None
                  for s in sites] for h in hw_ids}
    licence_bad = np.array([lic_hw[o.hw.id] for o in options], dtype=bool).reshape(no, ns)
    mark(np.broadcast_to(licence_bad[:, :, None], reason.shape), LICENCE)
    # the users' own devices are a placement only when the scenario says how many users
    if not users:
        mark(np.broadcast_to(is_device[None, :, None], reason.shape), NOT_OFFERED)
    # ... and they are per-user devices, not a pooled fleet: one device per user serving one
    # request at a time (no replicas across laptops, no server batching), fast enough for
    # that user's share of the peak
    per_user = np.array([o.devices_per_replica != 1 or o.mode != "single-stream"
                         or (users and o.capacity_rps_per_replica < peak_rps_per_user)
                         for o in options], dtype=bool)
    mark(np.broadcast_to((per_user[:, None] & is_device[None, :])[:, :, None], reason.shape),
         PER_USER)
    # a site the rules forbid is rejected for policy whatever its price
    mark(np.broadcast_to(policy_bad[None, :, None], reason.shape), POLICY)
    mark(~owned[None, :, None] & np.isnan(price_o), NO_PRICE)
    mark(owned[None, :, None] & np.isnan(fixed[oi, :])[:, :, None], NO_PRICE)
    no_tariff = owned & ~is_device & np.isnan(tariff)
    mark(np.broadcast_to(no_tariff[None, :, None], reason.shape), NO_TARIFF)
    # owned hardware with no sourced power figure (tdp_w): its energy cannot be priced
    no_power = owned[None, :] & ~is_device[None, :] & np.isnan(fac_kw)
    mark(np.broadcast_to(no_power[:, :, None], reason.shape), NO_POWER)
    other_bad = np.zeros(reason.shape, dtype=bool)
    if max_devices:
        other_bad |= billed > max_devices
        mark(billed > max_devices, MAX_DEVICES)
    if power_cap_kw:
        other_bad |= np.broadcast_to((fac_kw > power_cap_kw)[:, :, None], reason.shape)
        mark(np.broadcast_to((fac_kw > power_cap_kw)[:, :, None], reason.shape), POWER)
    if budget_usd_per_month:
        mark(usd_h * HOURS_PER_MONTH > budget_usd_per_month, BUDGET)
    # owned sites ignore the term axis: keep only the first term there
    if nt > 1:
        reason[:, owned, 1:] = NOT_OFFERED
    # what a quote at a site with no price list could add: data-centre hardware that is sold
    quotable = ~small[:, None] & ~cloud_only[:, None] & ~licence_bad \
        & ~(listed | owned | policy_bad)[None, :]
    unlock = _unlock(reason, other_bad, options, sites, terms, oi, fixed, quotable)
    return Grid(usd_per_hour=usd_h, it_power_w=it_w, facility_kw=fac_kw, kwh_month=kwh_m,
                kgco2e_month=co2, usd_per_mtok=per_mtok, billed_devices=billed, reason=reason,
                utilization=util, load=load, price_age=ages, hw_index=oi, unlock=unlock)


def _unlock(reason: np.ndarray, other_bad: np.ndarray, options: list[PerfOption],
            sites: list[Site], terms: tuple[str, ...], oi: np.ndarray, fixed: np.ndarray,
            quotable: np.ndarray) -> Counter[str]:
    """Which missing price would add the most candidates: those rejected for a missing price,
    and those at cloud sites with no price list at all (``quotable`` [option, site]), that
    pass every check a price does not change (policy, device count, power; a budget can only
    be checked with the price)."""
    out: Counter[str] = Counter()
    for i, j, k in np.argwhere((reason == NO_PRICE) | (reason == NO_TARIFF)):
        if other_bad[i, j, k]:
            continue
        s, hw = sites[j], options[i].hw.id
        if not s.owned:
            out[f"a {terms[k]} price for {hw} at {s.id}"] += 1
        elif math.isnan(fixed[oi[i], j]):
            out[f"a purchase price for {hw}"] += 1
        else:
            out[f"an electricity tariff for {s.id}"] += 1
    for i, j in np.argwhere(quotable):
        for k, t in enumerate(terms):
            if not other_bad[i, j, k]:
                out[f"a {t} price for {options[i].hw.id} at {sites[j].id} (no price list "
                    "shipped)"] += 1
    return out
