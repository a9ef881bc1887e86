"""Which price a cost uses, in USD, with its sources, its date and its labels: cloud instance
prices by term, purchase prices of owned hardware (a range where the source gives one),
electricity tariffs and colocation rates. The vectorised ranking (``plan.scoring``) and the
detailed cost (``cost.deployment``) both price through these functions, so they agree.

Rules (each stated where it applies):
* currency: converted at the ECB reference rate of ``prices.yaml`` or ``financial.eur_usd``;
* monthly prices are per 730 hours (``units.HOURS_PER_MONTH``), the price sheets' convention;
* owned hardware: scenario > complete-server price > accelerator (+ a barebone GPU server's
  price per GPU slot: the host; a lower bound for SXM/OAM modules) or processor (its list
  price alone, labelled a lower bound) > complete device; a range's midpoint ranks, the range
  is the cost interval;
* tariff: the scenario's tariff for the site > the site's own sourced tariff > its country's
  Eurostat band IC tariff (on-premise, colocation) > the scenario's fallback tariff;
* age: a cost is as old as its oldest price; older than ``max_price_age_days`` is flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date

from airadar.catalog.prices import (
    PriceRow,
    cloud_price_table,
    colocation_rows,
    electricity_row,
    parse_as_of,
    priced_sites,
    purchase_rows,
    server_chassis_row,
)
from airadar.catalog.sites import default, device_price, load_prices, server_price
from airadar.errors import SpecError
from airadar.specs.financial import Financials
from airadar.specs.hardware import HardwareSpec
from airadar.specs.site import Site, SourcedValue
from airadar.units import HOURS_PER_MONTH


class CostUnavailable(SpecError):
    """A figure the cost needs is not shipped for this site/hardware (a user parameter)."""


@dataclass(frozen=True, kw_only=True)
class Quote:
    """A price in USD (per device-hour, per device, per kWh or per kW-month) with its range."""

    usd: float
    usd_low: float
    usd_high: float
    devices_per_instance: int = 1
    sources: tuple[str, ...] = ()
    as_of: tuple[str, ...] = ()  # the as_of of every price it is made of
    labels: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        return "; ".join(self.sources)


def usd_per(currency: str, fin: Financials) -> tuple[float, str]:
    """USD per unit of ``currency`` and where the rate comes from."""
    if currency == "USD":
        return 1.0, ""
    if currency == "EUR":
        if fin.eur_usd is not None:
            return fin.eur_usd, f"EUR at {fin.eur_usd} USD (scenario financial.eur_usd)"
        ex = load_prices()["exchange"]["eur_usd"]
        return float(ex["value"]), f"EUR at {ex['value']} USD ({ex['source']}, {ex['as_of']})"
    raise CostUnavailable("currency", currency, "USD or EUR (no exchange rate is shipped for "
                          "other currencies)")


def _row_labels(r: PriceRow) -> tuple[str, ...]:
    undated = () if r.as_of_date or r.as_of == "user-supplied" else ("undated",)
    return tuple(dict.fromkeys(r.labels + undated))


def _cite(r: PriceRow) -> str:
    return f"{r.source} ({r.as_of}) [{r.key}]"


def _sourced(v: SourcedValue, fin: Financials) -> Quote:
    rate, _ = usd_per(v.currency, fin)
    return Quote(usd=v.value * rate, usd_low=v.value * rate, usd_high=v.value * rate,
                 sources=(f"{v.source} ({v.as_of})" + (" [estimate]" if v.estimate else ""),),
                 as_of=(v.as_of,), labels=("estimate",) if v.estimate else ())


def _times(q: Quote, factor: float, name: str) -> Quote:
    """``q`` scaled by a what-if factor of the scenario (``airadar sweep`` varies them)."""
    if factor == 1.0:
        return q
    return replace(q, usd=q.usd * factor, usd_low=q.usd_low * factor,
                   usd_high=q.usd_high * factor,
                   sources=(*q.sources, f"x{factor:g} (financial.{name})"))


def cloud_size_quotes(site: Site, hardware_id: str, term: str, fin: Financials, today: date
                      ) -> tuple[Quote, ...]:
    """Every instance size's quote, times ``financial.cloud_price_multiplier``."""
    return tuple(_times(q, fin.cloud_price_multiplier, "cloud_price_multiplier")
                 for q in _cloud_size_quotes(site, hardware_id, term, fin, today))


def _cloud_size_quotes(site: Site, hardware_id: str, term: str, fin: Financials, today: date
                       ) -> tuple[Quote, ...]:
    """USD per device-hour of ``hardware_id`` at a cloud ``site`` on ``term``, one quote per
    instance size (the lowest price per GPU first); empty if no price is known. A scenario's
    ``price_overrides`` replace them."""
    table, _ = cloud_price_table(today)
    rows = table.get((site.id, hardware_id, term), ())
    key = f"{site.id}/{hardware_id}"
    if key in fin.price_overrides:
        p = fin.price_overrides[key]
        return (Quote(usd=p, usd_low=p, usd_high=p,
                      devices_per_instance=min((r.devices for r in rows), default=1),
                      sources=("scenario (financial.price_overrides)",), as_of=("scenario",)),)
    out = []
    for row in rows:
        rate, fx = usd_per(row.currency, fin)
        hours = HOURS_PER_MONTH if row.unit == "month" else 1.0
        p = row.per_device * rate / hours
        how = f"{row.price:g} {row.currency}/{'instance' if row.per == 'instance' else 'GPU'}-" \
              f"{row.unit}" + (f" of {row.devices} GPUs" if row.per == "instance" else "") + \
              (" / 730 h" if row.unit == "month" else "") + (f", {fx}" if fx else "")
        out.append(Quote(usd=p, usd_low=p, usd_high=p, devices_per_instance=row.devices,
                         sources=(f"{_cite(row)}: {row.item}, {how}",), as_of=(row.as_of,),
                         labels=_row_labels(row)))
    return tuple(out)


def cheapest_quote(quotes: tuple[Quote, ...], devices: int) -> Quote:
    """The instance size that bills ``devices`` GPUs for the least (whole instances; on a tie
    the smaller instance)."""
    return min(quotes, key=lambda q: (math.ceil(devices / q.devices_per_instance)
                                      * q.devices_per_instance * q.usd, q.devices_per_instance))


def cloud_quote(site: Site, hardware_id: str, term: str, fin: Financials, today: date,
                devices: int | None = None) -> Quote | None:
    """The price of ``devices`` GPUs of ``hardware_id`` at ``site`` on ``term`` (the cheapest
    instance size for them; without ``devices`` the lowest price per GPU); None if unknown."""
    qs = cloud_size_quotes(site, hardware_id, term, fin, today)
    if not qs:
        return None
    return qs[0] if devices is None else cheapest_quote(qs, devices)


def has_price_list(site: Site, today: date) -> bool:
    """Whether any price is known at this cloud site (else its prices are unknown, not absent)."""
    return site.id in priced_sites(today)


def purchase_quote(hw: HardwareSpec, fin: Financials) -> Quote:
    """Purchase price of one device of ``hw`` in USD (see the module docstring for the
    order), times ``financial.purchase_price_multiplier``."""
    return _times(_purchase_quote(hw, fin), fin.purchase_price_multiplier,
                  "purchase_price_multiplier")


def _purchase_quote(hw: HardwareSpec, fin: Financials) -> Quote:
    if fin.purchase_usd_per_device is not None:
        p = fin.purchase_usd_per_device
        return Quote(usd=p, usd_low=p, usd_high=p,
                     sources=("scenario (financial.purchase_usd_per_device)",), as_of=("scenario",))
    srv = server_price(hw.id)
    if srv:
        p = srv["usd"] / srv["devices"]
        return Quote(usd=p, usd_low=p, usd_high=p,
                     sources=(f"{srv['source']} ({srv['as_of']}) / {srv['devices']}",),
                     as_of=(str(srv["as_of"]),),
                     labels=("estimate",) if srv.get("kind") == "estimate" else ())
    rows = purchase_rows(hw.id)
    if rows:
        lows: list[float] = []
        highs: list[float] = []
        srcs: list[str] = []
        dates: list[str] = []
        labels: list[str] = []
        for r in rows:
            rate, fx = usd_per(r.currency, fin)
            lo, hi = (r.low or r.price) * rate / r.devices, (r.high or r.price) * rate / r.devices
            lows.append(lo)
            highs.append(hi)
            srcs.append(f"{_cite(r)}: {r.price:g} {r.currency}" + (f" / {r.devices}" if
                        r.devices > 1 else "") + (f" (range {r.low:g}-{r.high:g}: {r.note})"
                                                  if r.low != r.high else "")
                        + (f", {fx}" if fx else ""))
            dates.append(r.as_of)
            labels += _row_labels(r)
        lo, hi = min(lows), max(highs)
        chassis = server_chassis_row()
        # a whole system, or a CPU (the barebone is a GPU server, not its host): no host added
        complete = any(r.role in ("device", "processor") for r in rows)
        if chassis and not complete and "consumer" not in hw.form_factor:
            # the host: a barebone GPU server's price per GPU slot; it is a PCIe chassis, so
            # for SXM/OAM modules it is a lower bound (an HGX/OAM chassis costs more)
            rate, fx = usd_per(chassis.currency, fin)
            share = chassis.price * rate / chassis.gpu_slots
            lo, hi = lo + share, hi + share
            srcs.append(f"server: {_cite(chassis)}: {chassis.provider} {chassis.price:g} "
                        f"{chassis.currency} / {chassis.gpu_slots} GPU slots ({chassis.note})"
                        + (f", {fx}" if fx else ""))
            dates.append(chassis.as_of)
            labels += _row_labels(chassis)
            if not hw.form_factor.startswith("PCIe"):
                labels.append("host: PCIe barebone price (lower bound)")
        return Quote(usd=(lo + hi) / 2, usd_low=lo, usd_high=hi, sources=tuple(srcs),
                     as_of=tuple(dates), labels=tuple(dict.fromkeys(labels)))
    dev = device_price(hw.id)
    if dev:
        p = float(dev["usd"])
        return Quote(usd=p, usd_low=p, usd_high=p, sources=(f"{dev['source']} ({dev['as_of']})",),
                     as_of=(str(dev["as_of"]),))
    raise CostUnavailable("financial.purchase_usd_per_device", None,
                          f"a purchase price for {hw.id}: none with a public source is shipped")


def tariff_quote(site: Site, fin: Financials) -> Quote | None:
    """The site's tariff (see :func:`_tariff_quote`) times
    ``financial.electricity_price_multiplier``."""
    q = _tariff_quote(site, fin)
    return None if q is None else _times(q, fin.electricity_price_multiplier,
                                         "electricity_price_multiplier")


def _tariff_quote(site: Site, fin: Financials) -> Quote | None:
    """USD per kWh at an owned site: the scenario's ``financial.electricity_overrides`` for
    this site, its own sourced tariff, its country's Eurostat tariff (on-premise and
    colocation sites), else the scenario's ``financial.electricity_usd_per_kwh``; None if
    none of them."""
    if site.id in fin.electricity_overrides:
        p = fin.electricity_overrides[site.id]
        if p < 0:
            raise SpecError(f"financial.electricity_overrides[{site.id}]", p, "a number >= 0")
        return Quote(usd=p, usd_low=p, usd_high=p, as_of=("scenario",),
                     sources=("scenario (financial.electricity_overrides)",))
    if site.electricity_usd_per_kwh is not None:
        return _sourced(site.electricity_usd_per_kwh, fin)
    row = electricity_row(site.country) if site.kind in ("onprem", "colo") else None
    if row is not None:
        rate, fx = usd_per(row.currency, fin)
        p = row.price * rate
        return Quote(usd=p, usd_low=p, usd_high=p,
                     sources=(f"{_cite(row)}: {row.price:.4f} {row.currency}/kWh, {row.note}"
                              + (f", {fx}" if fx else ""),),
                     as_of=(row.as_of,), labels=_row_labels(row))
    if fin.electricity_usd_per_kwh is not None:
        p = fin.electricity_usd_per_kwh
        return Quote(usd=p, usd_low=p, usd_high=p,
                     sources=("scenario (site has no sourced tariff)",), as_of=("scenario",))
    return None


def colo_quote(site: Site, fin: Financials) -> Quote | None:
    """USD per kW-month of provisioned IT power at a colocation site (a range's midpoint)."""
    if site.colo_usd_per_kw_month is not None:
        return _sourced(site.colo_usd_per_kw_month, fin)
    rows = colocation_rows(site.id)
    if not rows:
        return None
    rate, fx = usd_per(rows[0].currency, fin)
    lo, hi = min(r.price for r in rows) * rate, max(r.price for r in rows) * rate
    return Quote(usd=(lo + hi) / 2, usd_low=lo, usd_high=hi,
                 sources=tuple(f"{_cite(r)}: {r.item} {r.price:g} {r.currency}/kW-month"
                               + (f", {fx}" if fx else "") for r in rows),
                 as_of=tuple(r.as_of for r in rows),
                 labels=tuple(dict.fromkeys(x for r in rows for x in _row_labels(r))))


@dataclass(frozen=True, kw_only=True)
class PriceAge:
    """How old the prices behind one cost are."""

    oldest: str  # the oldest as_of ("undated" when one has no date)
    age_days: int | None
    old: bool  # older than the threshold (or undated)
    labels: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"price_as_of": self.oldest, "price_age_days": self.age_days,
                "price_old": self.old, "price_labels": list(self.labels)}


def max_age_days(fin: Financials) -> float:
    if fin.max_price_age_days is not None:
        return fin.max_price_age_days
    return float(default("max_price_age_days")["value"])


def price_age(quotes: list[Quote], fin: Financials, today: date) -> PriceAge:
    """The oldest price of ``quotes``; flagged when older than ``max_price_age_days``.
    Scenario figures have no age; a price without a date counts as old."""
    dated: list[tuple[date, str]] = []
    undated = False
    labels: list[str] = []
    for q in quotes:
        labels += q.labels
        for a in q.as_of:
            if a in ("scenario", "user-supplied"):
                continue
            d = parse_as_of(a)
            if d is None:
                undated = True
            else:
                dated.append((d, a))
    limit = max_age_days(fin)
    if undated:
        return PriceAge(oldest="undated", age_days=None, old=True,
                        labels=tuple(dict.fromkeys(labels)))
    if not dated:
        return PriceAge(oldest="scenario", age_days=None, old=False,
                        labels=tuple(dict.fromkeys(labels)))
    d, _ = min(dated)
    age = (today - d).days
    if age > limit:
        labels.append(f"older than {limit:g} days")
    return PriceAge(oldest=d.isoformat(), age_days=age, old=age > limit,
                    labels=tuple(dict.fromkeys(labels)))
