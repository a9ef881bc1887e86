"""Price rows: GPU instance prices, purchase prices, electricity tariffs and colocation rates,
each in its published currency with its ``source`` and ``as_of``.

Shipped rows are the CSV files in ``catalog/data/prices/`` (copied verbatim from the shared
price compilation, plus the project's own ``project_purchase_prices.csv``) read through
``mapping.yaml``, which names the catalog hardware and site of
each row or the reason it is not used; the cloud offers written in ``sites.yaml`` join them.
A team's own quotes go in ``$AIRADAR_HOME/prices/*.csv`` (``airadar catalog add-price``).
Rows are validated at load: a positive price, a known currency, known hardware and site."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from airadar.catalog.loader import DATA, load_hardware, read_yaml, user_dir
from airadar.catalog.sites import load_sites
from airadar.errors import CatalogError
from airadar.units import per_mwh_to_per_kwh

PRICE_DIR = DATA / "prices"
Kind = Literal["cloud", "purchase", "electricity", "colocation"]
TERMS = ("on-demand", "monthly", "1y", "3y", "spot")
#: currencies airadar has a sourced exchange rate for (prices.yaml -> exchange)
CURRENCIES = ("USD", "EUR")
USER_COLUMNS = ("site", "hardware", "instance", "gpus_per_instance", "price", "currency", "unit",
                "term", "source", "as_of", "notes")


@dataclass(frozen=True, kw_only=True)
class PriceRow:
    """One published price, as published (currency, unit, per instance or per device)."""

    key: str  # file:line, to cite
    kind: Kind
    provider: str = ""
    item: str = ""  # instance or purchase item
    hardware: str | None = None
    site: str | None = None
    country: str = ""
    devices: int = 1  # devices per instance / per priced unit
    price: float
    low: float | None = None  # range where the source gives one (same currency and unit)
    high: float | None = None
    currency: str
    unit: str  # hour, month, device, kWh, kW-month
    per: Literal["instance", "device"] = "instance"
    term: str | None = None
    role: str = ""  # purchase: accelerator, server, baseboard, device, processor
    gpu_slots: int = 0
    effective_from: date | None = None
    source: str
    as_of: str
    labels: tuple[str, ...] = ()
    note: str = ""
    unused: str = ""  # why the row is not used ("" = usable)

    @property
    def as_of_date(self) -> date | None:
        return parse_as_of(self.as_of)

    @property
    def per_device(self) -> float:
        return self.price / self.devices if self.per == "instance" else self.price

    def age_days(self, today: date) -> int | None:
        d = self.as_of_date
        return None if d is None else (today - d).days


_SEMESTER = re.compile(r"(\d{4})-S([12])")
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_YEAR = re.compile(r"\s*(\d{4})\b")


@lru_cache(maxsize=1024)
def parse_as_of(text: str) -> date | None:
    """The date of a price from its ``as_of``: a Eurostat semester 2025-S2 (its first day, even
    when the row also says when it was read), 2026-06-09, 2026-06 (its first day), 2024
    (1 January); None when it names none ("unknown", "undated")."""
    m = _SEMESTER.search(text)  # a price period, before any date it was read
    if m:
        return date(int(m[1]), 1 if m[2] == "1" else 7, 1)
    m = _DAY.search(text)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    m = _MONTH.search(text)
    if m:
        return date(int(m[1]), int(m[2]), 1)
    m = _YEAR.match(text)
    return date(int(m[1]), 1, 1) if m else None


def _r(line: int) -> str:
    return str(line) if line else ""


def _csv(path: Any, name: str) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError("file not found", file=name) from None
    return [(n + 2, r) for n, r in enumerate(csv.DictReader(io.StringIO(text)))]


def _number(raw: str, file: str, line: int, column: str) -> float:
    try:
        v = float(raw)
    except ValueError:
        raise CatalogError(f"{raw!r} is not a number", file=file, row=_r(line),
                           column=column) from None
    if not v > 0:
        raise CatalogError(f"{raw!r} is not allowed: a price must be > 0", file=file,
                           row=_r(line), column=column)
    return v


def _currency(raw: str, file: str, line: int) -> tuple[str, tuple[str, ...]]:
    code = raw.strip()
    labels: tuple[str, ...] = ()
    if "assumed" in code:
        code, labels = code.split()[0], ("assumed currency",)
    if code not in CURRENCIES:
        raise CatalogError(f"currency {raw!r} is not allowed: one of {', '.join(CURRENCIES)} "
                           "(ISO 4217 codes airadar has an ECB exchange rate for)", file=file,
                           row=_r(line), column="currency")
    return code, labels


def _mapping() -> dict[str, Any]:
    data = read_yaml(PRICE_DIR / "mapping.yaml", "prices/mapping.yaml")
    hw_ids = {h.id for h in load_hardware()}
    # ``prefer`` names a more exact hardware row; it is used once the catalog has it
    for name, m in data["hardware"].items():
        if m.get("prefer") in hw_ids:
            m["id"], m["note"] = m["prefer"], ""
        if m.get("id") and m["id"] not in hw_ids:
            raise CatalogError(f"hardware {m['id']!r} is not in the hardware catalog",
                               file="prices/mapping.yaml", row=name, column="id")
    for name, m in {**data["purchase"], **data.get("project_purchase", {})}.items():
        if m.get("prefer") in hw_ids:
            m["hardware"], m["reason"] = m["prefer"], ""
            m.setdefault("role", "accelerator")
        if m.get("hardware") and m["hardware"] not in hw_ids:
            raise CatalogError(f"hardware {m['hardware']!r} is not in the hardware catalog",
                               file="prices/mapping.yaml", row=name, column="hardware")
    return dict(data)


def _labels(source: str, quality: list[dict[str, str]]) -> tuple[str, ...]:
    return tuple(q["label"] for q in quality if q["source_contains"].lower() in source.lower())


def _cloud_rows(m: dict[str, Any]) -> list[PriceRow]:
    name = "prices/cloud_gpu_prices.csv"
    sites = {(s["provider"], s["region"]): s for s in m["sites"]}
    out = []
    for line, r in _csv(PRICE_DIR / "cloud_gpu_prices.csv", name):
        currency, clabels = _currency(r["currency"], name, line)
        hwm = m["hardware"].get(r["gpu_model"])
        if hwm is None:
            raise CatalogError(f"gpu_model {r['gpu_model']!r} has no entry in mapping.yaml",
                               file=name, row=_r(line), column="gpu_model")
        sm = sites.get((r["provider"], r["region"]))
        if sm is None:
            raise CatalogError(f"region {r['region']!r} of {r['provider']} has no entry in "
                               "mapping.yaml", file=name, row=_r(line), column="region")
        tm = m["terms"].get(r["term"])
        if tm is None:
            raise CatalogError(f"term {r['term']!r} has no entry in mapping.yaml", file=name,
                               row=_r(line), column="term")
        unit = r["unit"]
        per_device = "GPU-hour" in unit
        labels = list(_labels(r["source"], m["quality"])) + list(clabels)
        if "excl. vCPU/RAM" in unit:
            labels.append("GPU only (excl. vCPU/RAM)")
        if tm.get("label"):
            labels.append(tm["label"])
        if "metro=true" in r["notes"]:
            labels.append("metro (multi-AZ) SKU")
        eff = tm.get("effective_from")
        unused = "" if hwm.get("id") else hwm["reason"]
        if not unused and tm.get("term") is None:
            unused = tm["reason"]
        note = "; ".join(x for x in (hwm.get("note", ""), sm.get("note", "")) if x)
        out.append(PriceRow(
            key=f"{name}:{line}", kind="cloud", provider=r["provider"], item=r["instance"],
            hardware=hwm.get("id"), site=sm["site"], country=r["country"],
            devices=int(r["gpus_per_instance"]),
            price=_number(r["price"], name, line, "price"), currency=currency,
            unit="month" if "month" in unit else "hour",
            per="device" if per_device else "instance", term=tm.get("term"),
            effective_from=date.fromisoformat(eff) if eff else None, source=r["source"],
            as_of=r["as_of"], labels=tuple(labels), note=note, unused=unused))
    return out


#: airadar's own purchase prices (same columns as the shared purchase_prices.csv), mapped
#: under ``project_purchase`` in mapping.yaml
PROJECT_PURCHASE = "project_purchase_prices.csv"


def _purchase_rows(m: dict[str, Any], file: str = "purchase_prices.csv",
                   section: str = "purchase") -> list[PriceRow]:
    name = f"prices/{file}"
    out = []
    for line, r in _csv(PRICE_DIR / file, name):
        key = f"{r['item']} | {r['config']}"
        pm = m[section].get(key)
        if pm is None:
            raise CatalogError(f"purchase item {key!r} has no entry in mapping.yaml "
                               f"({section})", file=name, row=_r(line), column="item")
        for col in ("source", "as_of"):
            if not r[col].strip():
                raise CatalogError("missing value", file=name, row=_r(line), column=col)
        currency, clabels = _currency(r["currency"], name, line)
        price = _number(r["price"], name, line, "price")
        labels = list(_labels(r["source"], m["quality"])) + list(clabels)
        if pm.get("label"):
            labels.append(pm["label"])
        out.append(PriceRow(
            key=f"{name}:{line}", kind="purchase", provider=r["item"], item=r["config"],
            hardware=pm.get("hardware"), devices=int(pm.get("devices", 1)), price=price,
            low=float(pm.get("low", price)), high=float(pm.get("high", price)),
            currency=currency, unit="device", per="instance", role=pm.get("role", ""),
            gpu_slots=int(pm.get("gpu_slots", 0)), source=r["source"], as_of=r["as_of"],
            labels=tuple(labels), note=pm.get("range_note", ""), unused=pm.get("reason", "")))
    return out


def _power_rows(m: dict[str, Any]) -> list[PriceRow]:
    name = "prices/colo_and_power.csv"
    pw = m["power"]
    colo = {(c["market"], c[k]): (c["site"], k) for c in pw["colo"]
            for k in ("low_item", "high_item")}
    rows = _csv(PRICE_DIR / "colo_and_power.csv", name)
    out = []
    for line, r in rows:
        value = _number(r["value"], name, line, "value")
        currency = "EUR" if r["unit"].startswith("EUR") else r["unit"].split()[0]
        labels = _labels(r["source"], m["quality"])
        base: dict[str, Any] = {"key": f"{name}:{line}", "provider": r["market"],
                                "item": r["item"],
                "country": r["country"], "currency": currency, "source": r["source"],
                "as_of": r["as_of"], "labels": labels}
        if r["item"] == pw["tariff_item"]:
            per_kwh = round(per_mwh_to_per_kwh(value), 6) if "per MWh" in r["unit"] else value
            out.append(PriceRow(kind="electricity", price=per_kwh, unit="kWh",
                                note=pw["tariff_note"], **base))
        elif (r["market"], r["item"]) in colo:
            site, _ = colo[(r["market"], r["item"])]
            out.append(PriceRow(kind="colocation", site=site, price=value, unit="kW-month",
                                **base))
        else:
            reason = pw["not_used"].get(f"{r['country']} | {r['item']}")
            if reason is None:
                raise CatalogError("row has no use and no stated reason in mapping.yaml",
                                   file=name, row=_r(line), column="item")
            kind: Kind = "colocation" if "colocation" in r["item"] else "electricity"
            out.append(PriceRow(kind=kind, price=value, unit=r["unit"].removeprefix(currency)
                                .strip(), unused=reason, **base))
    return out


def _site_offer_rows() -> list[PriceRow]:
    """The cloud offers written in sites.yaml (USD per device-hour) as price rows."""
    out = []
    for s in load_sites():
        for o in s.offers or ():
            for term, v in (("on-demand", o.on_demand_usd_per_hour),
                            ("1y", o.reserved_1y_usd_per_hour),
                            ("3y", o.reserved_3y_usd_per_hour), ("spot", o.spot_usd_per_hour)):
                if v is not None:
                    out.append(PriceRow(
                        key=f"sites.yaml:{s.id}/{o.hardware}/{term}", kind="cloud",
                        provider=s.operator, item=o.instance, hardware=o.hardware, site=s.id,
                        country=s.country, devices=o.devices_per_instance, price=v,
                        currency="USD", unit="hour", per="device", term=term, source=o.source,
                        as_of=o.as_of))
    return out


def user_price_row(r: dict[str, str], file: str, line: int) -> PriceRow:
    """Validate one row of a user price file (columns ``USER_COLUMNS``): a positive price, a
    known currency, unit and term, a catalog hardware id and a cloud site of the catalog."""
    from airadar.catalog import resolve
    from airadar.catalog.sites import site as get_site

    for col in ("site", "hardware", "price", "currency", "unit", "term", "source", "as_of"):
        if not (r.get(col) or "").strip():
            raise CatalogError("missing value", file=file, row=_r(line), column=col)
    price = _number(r["price"], file, line, "price")
    currency, _ = _currency(r["currency"], file, line)
    if " " in r["currency"].strip():
        raise CatalogError(f"currency {r['currency']!r} is not allowed: a bare ISO 4217 code",
                           file=file, row=_r(line), column="currency")
    try:
        hw = resolve.hardware(r["hardware"]).id
        st = get_site(r["site"])
    except CatalogError as exc:
        raise CatalogError(str(exc), file=file, row=_r(line)) from None
    if st.owned:
        raise CatalogError(f"site {st.id} is {st.kind}: instance prices are for cloud sites",
                           file=file, row=_r(line), column="site")
    if r["unit"] not in ("hour", "month"):
        raise CatalogError(f"unit {r['unit']!r} is not allowed: hour or month (per instance)",
                           file=file, row=_r(line), column="unit")
    if r["term"] not in TERMS:
        raise CatalogError(f"term {r['term']!r} is not allowed: one of {', '.join(TERMS)}",
                           file=file, row=_r(line), column="term")
    try:
        n = int(r.get("gpus_per_instance") or 1)
    except ValueError:
        n = 0
    if n < 1:
        raise CatalogError(f"gpus_per_instance {r.get('gpus_per_instance')!r} is not allowed: "
                           "an integer >= 1", file=file, row=_r(line), column="gpus_per_instance")
    if r["as_of"] != "user-supplied" and parse_as_of(r["as_of"]) is None:
        raise CatalogError(f"as_of {r['as_of']!r} is not allowed: a date (YYYY-MM-DD)",
                           file=file, row=_r(line), column="as_of")
    return PriceRow(key=f"{file}:{line}", kind="cloud", provider=st.operator,
                    item=r.get("instance", ""), hardware=hw, site=st.id, country=st.country,
                    devices=n, price=price, currency=currency, unit=r["unit"], term=r["term"],
                    source=r["source"], as_of=r["as_of"], labels=("user quote",),
                    note=r.get("notes", ""))


def user_price_files() -> list[Path]:
    d = user_dir() / "prices"
    return sorted(d.glob("*.csv")) if d.is_dir() else []


def _user_rows() -> list[PriceRow]:
    out = []
    for f in user_price_files():
        rows = _csv(f, str(f))
        if rows and set(USER_COLUMNS) - {"instance", "gpus_per_instance", "notes"} - \
                set(rows[0][1]):
            raise CatalogError(f"expected the columns {', '.join(USER_COLUMNS)}", file=str(f))
        out += [user_price_row(r, str(f), line) for line, r in rows]
    return out


@lru_cache(maxsize=1)
def load_price_rows() -> tuple[PriceRow, ...]:
    """Every price row: shipped CSVs, sites.yaml offers, then the user's files."""
    m = _mapping()
    return tuple(_cloud_rows(m) + _site_offer_rows() + _purchase_rows(m)
                 + _purchase_rows(m, PROJECT_PURCHASE, "project_purchase") + _power_rows(m)
                 + _user_rows())


def choose(rows: list[PriceRow], today: date
           ) -> tuple[tuple[PriceRow, ...], dict[str, str]]:
    """The rows a (site, hardware, term) is priced with, one per instance size, and why each
    other row is not used. In order: in effect by ``today``; a whole-instance price before a
    GPU-only SKU; the latest in effect (``effective_from`` or ``as_of``; undated last); a user
    quote first. Among the rows left, each instance size keeps its lowest price per GPU (to
    the cent); a deployment is then billed with the size that costs it least
    (``cost.pricing.cheapest_quote``). The first row is the lowest price per GPU."""
    why: dict[str, str] = {}
    live = []
    for r in rows:
        if r.effective_from and r.effective_from > today:
            why[r.key] = f"announced for {r.effective_from}, not in effect on {today}"
        else:
            live.append(r)
    if not live:
        return (), why

    def rank(r: PriceRow) -> tuple[Any, ...]:
        d = r.effective_from or r.as_of_date or date.min
        return ("GPU only (excl. vCPU/RAM)" in r.labels, -d.toordinal(),
                "user quote" not in r.labels, round(r.per_device, 2), r.devices)

    live.sort(key=rank)
    best = live[0]
    sizes: dict[int, PriceRow] = {}
    for r in live:
        if rank(r)[:3] == rank(best)[:3] and r.devices not in sizes:
            sizes[r.devices] = r
    # a larger size is worth keeping only if it is cheaper per GPU than every smaller one
    floor = math.inf
    for d in sorted(sizes):
        if round(sizes[d].per_device, 2) < floor:
            floor = round(sizes[d].per_device, 2)
        else:
            del sizes[d]
    kept = {r.key for r in sizes.values()}
    for r in live:
        if r.key in kept:
            continue
        other = sizes.get(r.devices) or min(
            (x for x in sizes.values() if x.devices < r.devices), key=lambda x: x.per_device,
            default=best)
        why[r.key] = f"{other.key} ({other.item}) is preferred: " + (
            "a whole-instance price" if rank(r)[0] != rank(other)[0] else
            ("a dated price" if r.as_of_date is None else "in effect later")
            if rank(r)[1] != rank(other)[1] else
            "a user quote" if rank(r)[2] != rank(other)[2] else
            "a lower price per GPU" if round(r.per_device, 2) > round(other.per_device, 2)
            else "the same price per GPU in a smaller instance")
    return (best, *sorted((r for r in sizes.values() if r is not best),
                          key=lambda r: r.devices)), why


@lru_cache(maxsize=4)
def cloud_price_table(today: date) -> tuple[dict[tuple[str, str, str], tuple[PriceRow, ...]],
                                             dict[str, str]]:
    """(site, hardware, term) -> the rows used (one per instance size, the lowest price per GPU
    first), and row key -> why a row is not used."""
    groups: dict[tuple[str, str, str], list[PriceRow]] = {}
    why: dict[str, str] = {}
    for r in load_price_rows():
        if r.kind != "cloud":
            continue
        if r.unused:
            why[r.key] = r.unused
            continue
        assert r.site and r.hardware and r.term
        groups.setdefault((r.site, r.hardware, r.term), []).append(r)
    table = {}
    for k, rows in groups.items():
        used, w = choose(rows, today)
        why.update(w)
        if used:
            table[k] = used
    return table, why


@lru_cache(maxsize=4)
def priced_sites(today: date) -> frozenset[str]:
    """Cloud sites with at least one price in effect on ``today``."""
    return frozenset(k[0] for k in cloud_price_table(today)[0])


def electricity_row(country: str) -> PriceRow | None:
    """The country's Eurostat non-household tariff (band IC), if shipped."""
    return next((r for r in load_price_rows() if r.kind == "electricity" and not r.unused
                 and r.country == country), None)


def colocation_rows(site_id: str) -> list[PriceRow]:
    """A colocation market's $/kW-month rows (low and high of a range)."""
    return [r for r in load_price_rows() if r.kind == "colocation" and not r.unused
            and r.site == site_id]


@lru_cache(maxsize=256)
def purchase_rows(hardware_id: str) -> tuple[PriceRow, ...]:
    return tuple(r for r in load_price_rows() if r.kind == "purchase" and not r.unused
                 and r.hardware == hardware_id)


@lru_cache(maxsize=1)
def server_chassis_row() -> PriceRow | None:
    """The GPU-server barebone that hosts purchased accelerators (priced per GPU slot)."""
    return next((r for r in load_price_rows() if r.kind == "purchase" and not r.unused
                 and r.role == "server"), None)


def clear_price_caches() -> None:
    load_price_rows.cache_clear()
    cloud_price_table.cache_clear()
    priced_sites.cache_clear()
    purchase_rows.cache_clear()
    server_chassis_row.cache_clear()
