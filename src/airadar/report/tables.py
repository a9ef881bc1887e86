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


def print_plan(res: PlanResult, console: Console, *, top: int = 10) -> None:
    sc = res.scenario
    console.print(f"[bold]{sc.name}[/bold]: {res.model.id}, peak {sc.workload.peak_rps:g} req/s, "
                  f"objective {sc.objective}")
    t = Table(show_lines=False)
    for col in ("#", "hardware", "n", "precision", "site", "$/month", "$/1M tok", "TTFT p99",
                "TPOT p99", "kWh/mo", "tCO2e/mo", "verdict"):
        t.add_column(col, justify="right" if col not in ("hardware", "precision", "site", "verdict")
                     else "left")
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
                  f"[{colour[c.verdict.decision]}]{c.verdict.decision}[/]")
    console.print(t)
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
    het = res.heterogeneous
    mix = het.get("mix") or {}
    if mix.get("mix") and mix.get("best_single"):
        console.print(f"mixed fleet (HiGHS): ${mix['mix']['usd_per_hour']:.2f}/h vs best single type "
                      f"${mix['best_single']['usd_per_hour']:.2f}/h "
                      f"({mix.get('saving_vs_single', 0):.0%} saving)")
    dis = het.get("disaggregated") or {}
    if dis.get("usd_per_hour"):
        console.print(f"disaggregated prefill/decode: ${dis['usd_per_hour']:.2f}/h "
                      f"(prefill {dis['prefill']['type']} x{dis['prefill']['replicas']}, decode "
                      f"{dis['decode']['type']} x{dis['decode']['replicas']})")
    bb = het.get("base_plus_burst") or {}
    if bb:
        console.print(f"base on owned + burst to cloud: ${bb['usd_per_day']:.0f}/day with "
                      f"{bb['owned_replicas']} owned replicas (all owned ${bb['all_owned_usd_per_day']:.0f}, "
                      f"all cloud ${bb['all_cloud_usd_per_day']:.0f})")
    ev = het.get("edge_vs_central") or {}
    if ev:
        console.print(f"edge vs central: {ev['edge']['label']} ${ev['edge']['usd_per_month']:,.0f}/month "
                      f"vs {ev['central']['label']} ${ev['central']['usd_per_month']:,.0f}/month")
    s = res.stats
    console.print(f"{s['candidates_scored']:,} candidates scored in {s['seconds']['total']:.2f} s "
                  f"({s['candidates_per_second']:,.0f}/s in the scoring loop)")


CSV_FIELDS = ["label", "hardware", "devices", "billed_devices", "replicas", "precision", "sparsity",
              "mode", "site", "country", "term", "usd_per_hour", "usd_per_month",
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
