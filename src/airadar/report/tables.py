"""Terminal and CSV renderings of a plan."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from rich.console import Console
from rich.table import Table

from airadar.plan.planner import PlanResult
from airadar.plan.shortlist import KIND_NAMES, Row, answer, devices_text, is_llm, shortlist, vs_text
from airadar.units import kg_to_tonnes, s_to_ms


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


def _price_notes(rows: list[Row], console: Console) -> None:
    """Per shown row: labels of its prices (secondary, assumed currency, estimate...), the
    cost range its price ranges give, and where its price comes from."""
    for r in rows:
        c = r.candidate
        a = c.price_age
        labels = [x for x in (a.labels if a else ()) if not x.startswith("older than")]
        d = c.detail or {}
        iv = d.get("usd_per_month_interval")
        rng = f"${iv[0]:,.0f}-{iv[1]:,.0f}/month" if iv and abs(iv[1] - iv[0]) > 0.5 else ""
        prov = d.get("provenance") or {}
        src = prov.get("price") or prov.get("purchase") or prov.get("hardware") or ""
        src = src.split(" [")[0] if src else ""
        parts = [p for p in (rng, ", ".join(labels)) if p]
        if src:
            parts.append(f"source: {src[:90]}..." if len(src) > 90 else f"source: {src}")
        if parts:
            console.print(f"  #{r.rank} {c.site.id}: " + "; ".join(parts))


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
                  o.hw.id, devices_text(c), o.precision,
                  _f(c.usd_per_month) + ("" if c.term == "on-demand" else f" ({c.term})"),
                  f"[{colour[c.verdict.decision]}]{c.verdict.decision}[/]", _price_date(c),
                  ", ".join(labels) or "-")
    console.print(t)


def print_answer(res: PlanResult, console: Console) -> None:
    """The decision first: the recommendation, why, and each other kind of site against it."""
    ans = answer(res)
    b = ans.best
    unit = "1M tok" if is_llm(b) else "1M inferences"
    console.print(f"[bold]Recommended:[/bold] {b.option.hw.id} {devices_text(b)} "
                  f"{b.option.precision} {b.option.mode} at {b.site.id} ({KIND_NAMES[b.site.kind]}"
                  f", {b.term}): [bold]${b.usd_per_month:,.0f}/month[/bold] "
                  f"(${b.usd_per_mtok:,.3f}/{unit})")
    for w in ans.why:
        console.print(f"  why: {w}")
    for alt in ans.alternatives:
        c = alt.candidate
        if c is None:
            console.print(f"  cheapest {alt.kind}: {alt.note}")
        else:
            console.print(f"  cheapest {alt.kind}: {c.option.hw.id} {devices_text(c)} "
                          f"{c.option.precision} at {c.site.id}: ${c.usd_per_month:,.0f}/month, "
                          f"{vs_text(c.usd_per_month, b.usd_per_month)} than recommended")


def print_plan(res: PlanResult, console: Console, *, top: int = 10,
               everything: bool = False) -> None:
    sc = res.scenario
    users = f", {sc.workload.users:,} users" if sc.workload.users else ""
    console.print(f"[bold]{sc.name}[/bold]: {res.model.id}, peak {sc.workload.peak_rps:g} req/s"
                  f"{users}, objective {sc.objective}")
    print_answer(res, console)
    rows = shortlist(res, top=top, everything=everything)
    llm = res.model.is_llm
    t = Table(title=("every feasible candidate" if everything else
                     "shortlist: the best row of each hardware type, then the next best "
                     "(--all for every row)")
              + "; identical rows merged")
    cols = ["#", "hardware", "n", "precision", "site", "$/month",
            "$/1M tok" if llm else "$/1M inf", "TTFT p99" if llm else "latency p99"]
    cols += ["TPOT p99"] if llm else []
    cols += ["kWh/mo", "tCO2e/mo", "verdict", "prices as of", "same figures"]
    left = ("hardware", "precision", "site", "verdict", "prices as of", "same figures")
    for col in cols:
        t.add_column(col, justify="left" if col in left else "right")
    colour = {"allow": "green", "conditions": "yellow", "deny": "red"}
    for r in rows:
        c = r.candidate
        o = c.option
        cells = [f"{r.rank}{'*' if c.pareto else ''}", o.hw.id, devices_text(c), o.precision,
                 f"{c.site.id}" + ("" if c.term == "on-demand" else f" ({c.term})"),
                 _f(c.usd_per_month), _f(c.usd_per_mtok, 3), f"{s_to_ms(o.ttft_p99_s):,.0f} ms"]
        if llm:
            cells.append(f"{s_to_ms(o.tpot_p99_s):,.0f} ms" if o.tpot_p99_s else "-")
        cells += [_f(c.kwh_month), _f(kg_to_tonnes(c.kgco2e_month), 2),
                  f"[{colour[c.verdict.decision]}]{c.verdict.decision}[/]", _price_date(c),
                  r.variant_text() or "-"]
        t.add_row(*cells)
    console.print(t)
    _price_notes(rows[:top] if not everything else rows[:top], console)
    _best_per_site(res, console)
    console.print(f"* on the Pareto front (cost, p99 latency, energy): {len(res.pareto)} of "
                  f"{len(res.ranked)} feasible candidates")
    for r in rows:
        c, i = r.candidate, r.rank
        sim = c.detail.get("simulated") if c.detail else None
        if sim:
            console.print(f"#{i} simulated at peak ({sim['requests']:,} requests): TTFT p99 "
                          f"{sim['ttft_p99_ms']:,.0f} ms, TPOT p99 {sim['tpot_p99_ms']:,.0f} ms, "
                          f"{sim['goodput_fraction']:.0%} within SLOs (analytical: "
                          f"{s_to_ms(c.option.ttft_p99_s):,.0f} / {s_to_ms(c.option.tpot_p99_s):,.0f} ms)")
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
    if best <= 0:
        return f"${cost - best:,.2f}/h more than"
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
              "usd_per_million_output_tokens", "ttft_p99_ms", "tpot_p99_ms",
              "usd_per_million_inferences", "latency_p99_ms", "e2e_p99_ms",
              "utilization", "kwh_per_month", "tco2e_per_month", "facility_kw", "quality",
              "verdict", "pareto", "bottleneck"]


def plan_csv(res: PlanResult) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore")
    w.writeheader()
    for c in res.ranked:
        row: dict[str, Any] = c.to_json()
        row["price_labels"] = "; ".join(row.get("price_labels") or [])
        w.writerow(row)
    return buf.getvalue()
