"""``airadar cost``, ``airadar policy check``, ``airadar catalog sites``."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from airadar.cli.output import console, fmt, print_json
from airadar.cli.root import app, catalog_app, policy_app
from airadar.errors import SpecError
from airadar.units import HOURS_PER_MONTH, kg_to_tonnes


@app.command()
def cost(
    hardware: str = typer.Option(..., "--hardware", "-H"),
    count: int = typer.Option(1, "--count", "-n"),
    site: str = typer.Option(..., "--site", "-s"),
    utilization: float = typer.Option(0.6, help="fraction of hours busy, in (0, 1]"),
    years: float = typer.Option(None, help="amortization years (default from prices.yaml)"),
    term: str = typer.Option("on-demand", help="on-demand, monthly, 1y, 3y, spot (cloud sites)"),
    model: str = typer.Option(None, "--model", "-m", help="model to estimate tokens/s for $/1M tokens"),
    precision: str = typer.Option("fp8", help="precision for the token estimate"),
    input_tokens: float = typer.Option(1024, "--input-tokens", "-i"),
    output_tokens: float = typer.Option(256, "--output-tokens", "-o"),
    electricity: float = typer.Option(None, "--electricity-usd-per-kwh"),
    purchase: float = typer.Option(None, "--purchase-usd-per-device"),
    eur_usd: float = typer.Option(None, "--eur-usd", help="USD per EUR (default: the shipped ECB rate)"),
    max_age: float = typer.Option(None, "--max-price-age-days", help="flag prices older than this"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Cost, energy and carbon of N devices at a site; break-even against cloud offers."""
    from airadar.catalog import resolve
    from airadar.catalog.sites import load_sites
    from airadar.catalog.sites import site as get_site
    from airadar.cost import tco
    from airadar.cost.deployment import CostUnavailable, deployment_cost
    from airadar.specs.base import build
    from airadar.specs.financial import Financials

    if not 0 < utilization <= 1:
        raise SpecError("--utilization", utilization, "a number in (0, 1]")
    if years is not None and years <= 0:
        raise SpecError("--years", years, "a number > 0")
    hw = resolve.hardware(hardware)
    st = get_site(site)
    fin = build(Financials, {"utilization": utilization, "amortization_years": years,
                             "term": term, "electricity_usd_per_kwh": electricity,
                             "purchase_usd_per_device": purchase, "eur_usd": eur_usd,
                             "max_price_age_days": max_age}, where="financial")
    from datetime import date

    from airadar.catalog.prices import cloud_price_table
    from airadar.cost.pricing import cloud_quote

    today = date.today()
    if not st.owned and cloud_quote(st, hw.id, term, fin, today) is None:
        offered = ", ".join(sorted({h for (s_, h, t_) in cloud_price_table(today)[0]
                                    if s_ == st.id and t_ == term})) or "no priced hardware"
        raise SpecError("--hardware", hw.id, f"hardware {st.id} offers on {term} ({offered})")
    tput, bottleneck, rps = None, "compute", None
    if model:
        from airadar.perf.estimate import estimate
        from airadar.specs.precision import Precision
        e = estimate(model=resolve.model(model), hw=hw, count=count,
                     precision=Precision.parse(precision), input_tokens=input_tokens,
                     output_tokens=output_tokens)
        tput, bottleneck = e.throughput_output_tokens_per_s, e.bottleneck
        rps = (tput or 0) / output_tokens * utilization
    c = deployment_cost(hw=hw, devices=count, site=st, fin=fin, throughput_tok_s=tput,
                        bottleneck=bottleneck, requests_per_s=rps)
    breakeven: list[dict[str, Any]] = []
    if st.owned:
        for other in load_sites():
            if other.owned or cloud_quote(other, hw.id, "on-demand", fin, today) is None:
                continue
            try:
                oc = deployment_cost(hw=hw, devices=count, site=other, fin=fin,
                                     throughput_tok_s=tput, bottleneck=bottleneck)
            except CostUnavailable:
                continue
            u = tco.break_even_utilization(owned_fixed_usd_per_hour=c.fixed_usd_per_hour,
                                           owned_variable_usd_per_busy_hour=c.variable_usd_per_busy_hour,
                                           cloud_usd_per_busy_hour=oc.usd_per_hour)
            breakeven.append({"cloud_site": other.id, "cloud_usd_per_hour": oc.usd_per_hour,
                              "break_even_utilization": u})
    out = c.to_json()
    out["break_even_vs_cloud"] = breakeven
    out["throughput_output_tokens_per_s"] = tput
    if as_json:
        print_json(out)
        return
    t = Table(title=f"{count}x {hw.id} at {st.id} ({st.kind}), utilization {utilization:.0%}")
    t.add_column("item")
    t.add_column("value", justify="right")
    for k, v in c.breakdown.components.items():
        t.add_row(f"  {k}", fmt(v, "$/h"))
    t.add_row("total", fmt(c.usd_per_hour, "$/h"))
    t.add_row("per month", fmt(c.usd_per_month, "$"))
    if c.usd_per_hour_low is not None and c.usd_per_hour_low != c.usd_per_hour_high:
        t.add_row("per month, price range", f"{fmt(c.usd_per_hour_low * HOURS_PER_MONTH, '$')} - "
                  f"{fmt((c.usd_per_hour_high or 0) * HOURS_PER_MONTH, '$')}")
    t.add_row(f"TCO over {c.years:g} years", fmt(c.tco_usd, "$"))
    if c.usd_per_million_tokens is not None:
        t.add_row("$ per 1M output tokens", fmt(c.usd_per_million_tokens, "$"))
    t.add_row("energy", fmt(c.energy_kwh_per_month, "kWh/month"))
    t.add_row("operational carbon", fmt(kg_to_tonnes(c.operational_kgco2e_per_month or 0), "tCO2e/month"))
    t.add_row("embodied carbon", "-" if c.embodied_kgco2e_per_month is None else
              fmt(kg_to_tonnes(c.embodied_kgco2e_per_month), "tCO2e/month"))
    console.print(t)
    if c.price_age is not None:
        a = c.price_age
        console.print(escape(f"prices as of {a.oldest} (the oldest price)"
                             + (f", {a.age_days} days old" if a.age_days is not None else "")
                             + (" OLD" if a.old else "")
                             + (f"; {', '.join(a.labels)}" if a.labels else "")))
    for b in breakeven:
        u = b["break_even_utilization"]
        console.print(f"break-even vs {b['cloud_site']} ({fmt(b['cloud_usd_per_hour'], '$/h')}): "
                      + (f"owning is cheaper above {u:.0%} utilization" if u is not None
                         else "owning never breaks even"))
    console.print("sources: " + "; ".join(f"{k}: {v}" for k, v in c.provenance.items()
                                          if isinstance(v, str)))


@policy_app.command("check")
def policy_check(
    site: str = typer.Option(None, "--site", "-s", help="one site (default: every site)"),
    data_class: str = typer.Option(..., "--data-class", "-c",
                                   help="public, internal, personal, health, financial, classified"),
    users_in: str = typer.Option("EU", help="where the data subjects are (ISO code, EU, US)"),
    sovereignty: str = typer.Option("none", help="none, eu-operated, eu-owned"),
    air_gap: bool = typer.Option(False, "--air-gap"),
    cmk: bool = typer.Option(False, "--customer-managed-keys"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Is this data allowed at this site? Verdicts with reasons and their legal basis."""
    from airadar.catalog.sites import load_sites
    from airadar.catalog.sites import site as get_site
    from airadar.errors import UnknownNameError
    from airadar.policy.sovereignty import evaluate
    from airadar.specs.base import build
    from airadar.specs.policy import DATA_CLASSES, DataPolicy

    if data_class not in DATA_CLASSES:
        raise UnknownNameError("data class", data_class, DATA_CLASSES)
    pol = build(DataPolicy, {"data_class": data_class, "users_in": users_in,
                             "sovereignty": sovereignty, "require_air_gap": air_gap,
                             "require_customer_managed_keys": cmk}, where="policy")
    sites = [get_site(site)] if site else list(load_sites())
    verdicts = [evaluate(s, pol) for s in sites]
    if as_json:
        print_json(verdicts[0].to_json() if site else [v.to_json() for v in verdicts])
        return
    t = Table(title=f"{data_class} data (users in {users_in}, sovereignty {sovereignty})")
    for c in ("site", "verdict", "reason"):
        t.add_column(c)
    colour = {"allow": "green", "conditions": "yellow", "deny": "red"}
    for v in verdicts:
        t.add_row(v.site, f"[{colour[v.decision]}]{v.decision}[/]", "\n".join(v.reasons))
    console.print(t)
    if site:
        for vd in verdicts[0].verdicts:
            console.print(f"- {vd.rule} ({vd.decision}): {vd.reason}\n  basis: {vd.basis}")


@catalog_app.command("sites")
def sites_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the site catalog."""
    from datetime import date

    from airadar.catalog.prices import cloud_price_table
    from airadar.catalog.sites import load_sites

    rows = load_sites()
    table, _ = cloud_price_table(date.today())
    if as_json:
        print_json([s.model_dump(mode="json") for s in rows])
        return
    t = Table(title=f"{len(rows)} sites")
    for c in ("id", "kind", "country", "operator (parent)", "connectivity", "PUE", "gCO2/kWh",
              "priced hardware"):
        t.add_column(c)
    for s in rows:
        priced = "owned: any" if s.owned else \
            ", ".join(sorted({h for (s_, h, _t) in table if s_ == s.id})) or "-"
        t.add_row(s.id, s.kind, s.country, f"{s.operator} ({s.parent_country})", s.connectivity,
                  f"{s.pue.value:g}", f"{s.grid_gco2_per_kwh.value:g}", priced)
    console.print(t)
