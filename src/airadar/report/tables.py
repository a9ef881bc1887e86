"""Terminal and CSV renderings of a plan."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from rich.console import Console
from rich.table import Table

from airadar.plan.planner import PlanResult


def _f(x: float | None, nd: int = 0) -> str:
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return "-"
    return f"{x:,.{nd}f}"


def _price_date(c: Any) -> str:
    """The date of the candidate's oldest price, OLD when past the age limit."""
    a = c.price_age
    if a is None:
        return "-"
    return a.oldest + (" [red]OLD[/]" if a.old else "")


def _price_notes(res: PlanResult, console: Console, top: int) -> None:
    """Per shown row: labels of its prices (secondary, assumed currency, estimate...), the
    cost range its price ranges give, and where its price comes from."""
    for i, c in enumerate(res.ranked[:top], 1):
        a = c.price_age
        labels = [x for x in (a.labels if a else ()) if not x.startswith("older than")]
        d = c.detail or {}
        iv = d.get("usd_per_month_interval")
        rng = f"${iv[0]:,.0f}-{iv[1]:,.0f}/month" if iv and abs(iv[1] - iv[0]) > 0.5 else ""
        prov = d.get("provenance") or {}
        src = prov.get("price") or prov.get("purchase") or ""
        src = src.split(" [")[0] if src else ""
        parts = [p for p in (rng, ", ".join(labels)) if p]
        console.print(f"  #{i} {c.site.id}: " + "; ".join(parts + ([f"source: {src[:90]}..."
                                                                   if len(src) > 90 else
                                                                   f"source: {src}"]
                                                                   if src else [])))
    if any(c.price_age and c.price_age.old for c in res.ranked[:top]):
        a_lim = next(x for x in res.to_json_assumptions() if x["what"] == "price age")
        console.print(f"OLD: {a_lim['source']}")


def best_per_site(res: PlanResult) -> list[Any]:
    """The best-ranked candidate at each site, in rank order (cloud beside owned sites)."""
    seen: set[str] = set()
    out = []
    for c in res.ranked:
        if c.site.id not in seen:
            seen.add(c.site.id)
            out.append(c)
    return out


def _best_per_site(res: PlanResult, console: Console) -> None:
    rows = best_per_site(res)
    if len(rows) < 2:
        return
    t = Table(title="best option at each site", show_lines=False)
    for col in ("site", "kind", "operator (parent)", "hardware", "n", "precision", "$/month",
                "verdict", "prices as of", "price labels"):
        t.add_column(col, justify="right" if col in ("$/month", "n") else "left")
    colour = {"allow": "green", "conditions": "yellow", "deny": "red"}
    for c in rows:
        o = c.option
        labels = [x for x in (c.price_age.labels if c.price_age else ())
                  if not x.startswith("older than")]
        t.add_row(c.site.id, c.site.kind, f"{c.site.operator} ({c.site.parent_country})",
                  o.hw.id, str(c.billed_devices), o.precision,
                  _f(c.usd_per_month) + ("" if c.term == "on-demand" else f" ({c.term})"),
                  f"[{colour[c.verdict.decision]}]{c.verdict.decision}[/]", _price_date(c),
                  ", ".join(labels) or "-")
    console.print(t)


def print_plan(res: PlanResult, console: Console, *, top: int = 10) -> None:
    sc = res.scenario
    console.print(f"[bold]{sc.name}[/bold]: {res.model.id}, peak {sc.workload.peak_rps:g} req/s, "
                  f"objective {sc.objective}")
    t = Table(show_lines=False)
    for col in ("#", "hardware", "n", "precision", "site", "$/month", "$/1M tok", "TTFT p99",
                "TPOT p99", "kWh/mo", "tCO2e/mo", "verdict", "prices as of"):
        t.add_column(col, justify="right" if col not in ("hardware", "precision", "site", "verdict",
                                                         "prices as of") else "left")
    colour = {"allow": "green", "conditions": "yellow", "deny": "red"}
    for i, c in enumerate(res.ranked[:top], 1):
        o = c.option
        if c.site.kind == "device":
            n = f"{c.billed_devices} users"
        elif c.billed_devices == o.devices:
            n = f"{o.replicas}x{o.devices_per_replica}"
        else:
            n = f"{c.billed_devices} billed"
        t.add_row(f"{i}{'*' if c.pareto else ''}", o.hw.id, n, o.precision,
                  f"{c.site.id}" + ("" if c.term == "on-demand" else f" ({c.term})"),
                  _f(c.usd_per_month), _f(c.usd_per_mtok, 3), f"{o.ttft_p99_s * 1e3:,.0f} ms",
                  f"{o.tpot_p99_s * 1e3:,.0f} ms" if o.tpot_p99_s else "-",
                  _f(c.kwh_month), _f(c.kgco2e_month / 1000, 2),
                  f"[{colour[c.verdict.decision]}]{c.verdict.decision}[/]", _price_date(c))
    console.print(t)
    _price_notes(res, console, top)
    _best_per_site(res, console)
    console.print(f"* on the Pareto front (cost, p99 latency, energy): {len(res.pareto)} of "
                  f"{len(res.ranked)} feasible candidates")
    for i, c in enumerate(res.ranked[:10], 1):
        sim = c.detail.get("simulated") if c.detail else None
        if sim:
            console.print(f"#{i} simulated at peak ({sim['requests']:,} requests): TTFT p99 "
                          f"{sim['ttft_p99_ms']:,.0f} ms, TPOT p99 {sim['tpot_p99_ms']:,.0f} ms, "
                          f"{sim['goodput_fraction']:.0%} within SLOs (analytical: "
                          f"{c.option.ttft_p99_s * 1e3:,.0f} / {c.option.tpot_p99_s * 1e3:,.0f} ms)")
    best = res.ranked[0]
    if best.verdict.decision == "conditions":
        console.print("conditions for #1: " + "; ".join(best.verdict.reasons))
    rej = res.rejected["by_reason"]
    if rej:
        console.print("rejected: " + ", ".join(f"{k} {v:,}" for k, v in
                                               sorted(rej.items(), key=lambda kv: -kv[1])))
        for cat, ex in res.rejected["examples"].items():
            if ex:
                console.print(f"  {cat}: {ex[0]}")
        for u in res.rejected.get("unlock", [])[:3]:
            console.print(f"  {u['missing']} would add {u['would_add_candidates']:,} candidates")
    for line in heterogeneous_lines(res):
        console.print(line)
    s = res.stats
    console.print(f"{s['candidates_scored']:,} candidates scored in {s['seconds']['total']:.2f} s "
                  f"({s['candidates_per_second']:,.0f}/s in the scoring loop)")


def _vs(cost: float, best: float) -> str:
    if not best:
        return ""
    d = 1 - cost / best
    return f"{d:.0%} cheaper than" if d > 0.005 else ("the same as" if d > -0.005 else
                                                      f"{-d:.0%} dearer than")


def heterogeneous_lines(res: PlanResult) -> list[str]:
    """One line per heterogeneous plan, each against the ranked #1 (terminal and HTML)."""
    het = res.heterogeneous
    best = res.ranked[0]
    out = []
    mix = het.get("mix") or {}
    if mix.get("mix"):
        parts = ", ".join(f"{k} x{v}" for k, v in mix["mix"]["replicas"].items())
        out.append(f"mixed fleet (HiGHS): ${mix['mix']['usd_per_hour']:,.2f}/h "
                   f"({parts}), {_vs(mix['mix']['usd_per_hour'], best.usd_per_hour)} the "
                   f"ranked #1 (${best.usd_per_hour:,.2f}/h); request classes: "
                   + ", ".join(f"{c['name']} {c['input_tokens']:,.0f} in/{c['output_tokens']:,.0f}"
                               f" out {c['share']:.0%}" for c in mix["classes"]))
    dis = het.get("disaggregated") or {}
    if dis.get("usd_per_hour"):
        out.append(f"disaggregated prefill/decode: ${dis['usd_per_hour']:,.2f}/h (prefill "
                   f"{dis['prefill']['type']} x{dis['prefill']['replicas']}, decode "
                   f"{dis['decode']['type']} x{dis['decode']['replicas']}), "
                   f"{_vs(dis['usd_per_hour'], best.usd_per_hour)} the ranked #1")
    bb = het.get("base_plus_burst") or {}
    if bb:
        out.append(f"base on owned + burst to cloud: ${bb['usd_per_day']:,.0f}/day with "
                   f"{bb['owned_replicas']} owned replicas (all owned "
                   f"${bb['all_owned_usd_per_day']:,.0f}, all cloud "
                   f"${bb['all_cloud_usd_per_day']:,.0f}), "
                   f"{_vs(bb['usd_per_day'], best.usd_per_hour * 24)} the ranked #1 "
                   f"(${best.usd_per_hour * 24:,.0f}/day)")
    ev = het.get("edge_vs_central") or {}
    if ev:
        out.append(f"edge vs central: {ev['edge']['label']} "
                   f"${ev['edge']['usd_per_month']:,.0f}/month vs {ev['central']['label']} "
                   f"${ev['central']['usd_per_month']:,.0f}/month")
    return out


CSV_FIELDS = ["label", "hardware", "devices", "billed_devices", "replicas", "precision", "sparsity",
              "mode", "site", "country", "term", "usd_per_hour", "usd_per_month", "price_as_of",
              "price_old", "price_labels",
              "usd_per_million_output_tokens", "ttft_p99_ms", "tpot_p99_ms", "e2e_p99_ms",
              "utilization", "kwh_per_month", "tco2e_per_month", "facility_kw", "quality",
              "verdict", "pareto", "bottleneck"]


def plan_csv(res: PlanResult) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore")
    w.writeheader()
    for c in res.ranked:
        row: dict[str, Any] = c.to_json()
        w.writerow(row)
    return buf.getvalue()
