"""``airadar catalog prices`` (every price row with its source, age and use) and
``airadar catalog add-price`` (a team's own quote, validated, into the user price file)."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from airadar.cli.output import console, print_json
from airadar.cli.root import catalog_app
from airadar.units import HOURS_PER_MONTH


def _status(row: Any, table: dict[Any, Any], why: dict[str, str]) -> str:
    if row.kind == "cloud":
        if row.key in why:
            return why[row.key]
        return "used" if any(r.key == row.key for rs in table.values() for r in rs) \
            else "not used"
    return row.unused or "used"


def _num(x: float) -> str:
    return f"{x:,.0f}" if x >= 1000 else f"{x:.4g}"


@catalog_app.command("prices")
def prices(
    provider: str = typer.Option(None, "--provider", help="provider, site or market (substring)"),
    gpu: str = typer.Option(None, "--gpu", help="hardware id or alias"),
    older_than: float = typer.Option(None, "--older-than", help="only prices older than DAYS "
                                     "(and undated ones)"),
    kind: str = typer.Option("all", help="cloud, purchase, electricity, colocation or all"),
    eur_usd: float = typer.Option(None, "--eur-usd", help="USD per EUR (default: shipped ECB rate)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List the price rows with source, date, age and whether (or why not) plans use them."""
    from airadar.catalog import resolve
    from airadar.catalog.prices import cloud_price_table, load_price_rows
    from airadar.cost.pricing import usd_per
    from airadar.errors import SpecError
    from airadar.specs.base import build
    from airadar.specs.financial import Financials

    kinds = ("cloud", "purchase", "electricity", "colocation")
    if kind != "all" and kind not in kinds:
        raise SpecError("--kind", kind, f"one of {', '.join(kinds)} or all")
    if older_than is not None and older_than < 0:
        raise SpecError("--older-than", older_than, "a number of days >= 0")
    fin = build(Financials, {"eur_usd": eur_usd}, where="--eur-usd")
    today = date.today()
    hw_id = resolve.hardware(gpu).id if gpu else None
    table, why = cloud_price_table(today)
    rows: list[dict[str, Any]] = []
    for r in load_price_rows():
        if kind != "all" and r.kind != kind:
            continue
        if hw_id and r.hardware != hw_id:
            continue
        if provider and provider.lower() not in f"{r.provider} {r.site or ''}".lower():
            continue
        age = r.age_days(today)
        if older_than is not None and age is not None and age <= older_than:
            continue
        rate, _ = usd_per(r.currency, fin)
        usd = None
        if r.kind == "cloud":
            usd = r.per_device * rate / (HOURS_PER_MONTH if r.unit == "month" else 1.0)
        elif r.kind == "purchase":
            usd = r.price * rate / r.devices
        rows.append({"row": r.key, "kind": r.kind, "provider": r.provider, "site": r.site,
                     "country": r.country,
                     "hardware": r.hardware, "item": r.item, "term": r.term,
                     "devices": r.devices, "price": r.price, "low": r.low, "high": r.high,
                     "currency": r.currency, "unit": r.unit, "per": r.per,
                     "usd_per_device_hour" if r.kind == "cloud" else "usd_per_device": usd,
                     "source": r.source, "as_of": r.as_of, "age_days": age,
                     "labels": list(r.labels), "status": _status(r, table, why)})
    if as_json:
        print_json(rows)
        return
    t = Table(title=f"{len(rows)} price rows (aged against {today})")
    for c in ("kind", "provider / site", "hardware", "item", "term", "price", "USD", "as of",
              "age (d)", "labels", "use"):
        t.add_column(c, justify="right" if c in ("price", "USD", "age (d)") else "left")
    for x in rows:
        usd = x.get("usd_per_device_hour", x.get("usd_per_device"))
        unit = {"hour": "/h", "month": "/month", "device": "", "kWh": "/kWh",
                "kW-month": "/kW-month"}.get(x["unit"], " " + x["unit"])
        per = f" ({x['devices']} GPUs)" if x["kind"] == "cloud" and x["per"] == "instance" \
            and x["devices"] > 1 else (" per GPU" if x["per"] == "device" and x["kind"] == "cloud"
                                       else "")
        t.add_row(x["kind"], escape(f"{x['provider']}" + (f" / {x['site']}" if x["site"] else "")),
                  x["hardware"] or "-", escape(str(x["item"])[:40]), x["term"] or "-",
                  f"{_num(x['price'])} {x['currency']}{unit}{per}",
                  "-" if usd is None else (f"{usd:,.2f}/GPU-h" if "usd_per_device_hour" in x
                                           else f"{usd:,.0f}/device"),
                  escape(str(x["as_of"])[:26]), "-" if x["age_days"] is None else str(x["age_days"]),
                  escape(", ".join(x["labels"])) or "-",
                  escape(str(x["status"]).replace("prices/cloud_gpu_prices.csv:", "row ")))
    console.print(t)
    ex = usd_per("EUR", fin)[1]
    console.print(f"USD: {ex}; monthly prices / 730 h. Sources: airadar catalog prices --json")


@catalog_app.command("add-price")
def add_price(
    site: str = typer.Option(..., "--site", "-s", help="a cloud site id (airadar catalog sites)"),
    hardware: str = typer.Option(..., "--hardware", "-H", help="hardware id or alias"),
    price: float = typer.Option(..., "--price", help="price per instance in the unit"),
    currency: str = typer.Option(..., "--currency", help="ISO 4217 code (USD or EUR)"),
    unit: str = typer.Option("hour", "--unit", help="hour or month (per instance)"),
    term: str = typer.Option("on-demand", "--term", help="on-demand, monthly, 1y, 3y, spot"),
    gpus: int = typer.Option(1, "--gpus-per-instance", help="GPUs in one instance"),
    instance: str = typer.Option("", "--instance", help="instance or quote name"),
    source: str = typer.Option(..., "--source", help="where the price comes from (quote, page)"),
    as_of: str = typer.Option(None, "--as-of", help="date of the price, YYYY-MM-DD (default today)"),
    notes: str = typer.Option("", "--notes"),
) -> None:
    """Add a team's own price quote to $AIRADAR_HOME/prices/user.csv (validated first)."""
    from airadar.catalog.loader import user_dir
    from airadar.catalog.prices import USER_COLUMNS, clear_price_caches, user_price_row

    row = {"site": site, "hardware": hardware, "instance": instance,
           "gpus_per_instance": str(gpus), "price": repr(price), "currency": currency,
           "unit": unit, "term": term, "source": source,
           "as_of": as_of or date.today().isoformat(), "notes": notes}
    checked = user_price_row(row, "", 0)
    row["hardware"], row["site"] = checked.hardware or hardware, checked.site or site
    path = user_dir() / "prices" / "user.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with path.open("a", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(USER_COLUMNS))
        if new:
            w.writeheader()
        w.writerow(row)
    clear_price_caches()
    console.print(f"added {checked.hardware} at {checked.site}: {price:g} {currency} per "
                  f"{gpus}-GPU instance-{unit}, {term} -> {path}")
