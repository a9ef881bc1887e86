"""Self-contained HTML report: plotly's library is embedded once, so the file opens with no
network. Every string that came from the scenario file is escaped."""

from __future__ import annotations

import html
import json
from typing import Any

from airadar.perf.profiles import select_profile
from airadar.plan.planner import PlanResult
from airadar.plan.shortlist import KIND_NAMES, answer, devices_text, is_llm, shortlist, vs_text
from airadar.report.tables import heterogeneous_lines
from airadar.specs.precision import Precision
from airadar.units import HOURS_PER_MONTH, kg_to_tonnes, s_to_ms

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1b1f24}
h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:8px 0}
td,th{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f4f6f8}.allow{color:#16794b}.conditions{color:#a36a00}.deny{color:#b3261e}
.muted{color:#666;font-size:.85em}
"""


def e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(headers: list[str], rows: list[list[Any]], cls: str = "") -> str:
    out = [f'<table class="{e(cls)}"><thead><tr>' + "".join(f"<th>{e(h)}</th>" for h in headers)
           + "</tr></thead><tbody>"]
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _figs(res: PlanResult) -> list[tuple[str, Any]]:
    import plotly.graph_objects as go  # heavy: report layer only

    ranked = res.ranked[:300]
    figs = []
    # Pareto front: cost vs p99 latency, colour = energy
    par = [c for c in ranked if c.pareto]
    rest = [c for c in ranked if not c.pareto]
    f1 = go.Figure()
    kwh = [c.kwh_month for c in ranked if c.kwh_month != float("inf")]
    cmin, cmax = (min(kwh), max(kwh)) if kwh else (0.0, 1.0)
    for group, name, sym in ((rest, "feasible", "circle-open"), (par, "Pareto front", "diamond")):
        f1.add_trace(go.Scatter(
            x=[c.usd_per_month for c in group], y=[s_to_ms(c.option.e2e_p99_s) for c in group],
            mode="markers", name=name, marker={"symbol": sym, "size": 9,
                                               "color": [c.kwh_month for c in group],
                                               "colorscale": "Viridis", "cmin": cmin,
                                               "cmax": cmax, "showscale": name == "feasible",
                                               "colorbar": {"title": "kWh/month", "x": 1.02}},
            text=[c.label for c in group], hovertemplate="%{text}<br>$%{x:,.0f}/month<br>"
            "p99 end-to-end %{y:,.0f} ms<extra></extra>"))
    f1.update_layout(title="Cost vs p99 latency (colour: energy, one scale for all points)",
                     xaxis_title="$ per month", yaxis_title="p99 end-to-end latency (ms)",
                     xaxis_type="log", height=480,
                     legend={"orientation": "h", "y": -0.2, "x": 0})
    figs.append(("pareto", f1))
    # cost breakdown of the detailed candidates
    det = [c for c in ranked if c.detail.get("breakdown_usd_per_hour")][:12]
    comps = sorted({k for c in det for k in c.detail.get("breakdown_usd_per_hour", {})})
    f2 = go.Figure()
    for comp in comps:
        f2.add_trace(go.Bar(name=comp, x=[f"#{i + 1} {c.option.hw.id}@{c.site.id}" for i, c in
                                          enumerate(det)],
                            y=[c.detail["breakdown_usd_per_hour"].get(comp, 0) * HOURS_PER_MONTH
                               for c in det]))
    f2.update_layout(barmode="stack", title="Cost breakdown ($ per month)", height=420)
    figs.append(("breakdown", f2))
    # energy and carbon
    top = ranked[:12]
    f3 = go.Figure()
    f3.add_trace(go.Bar(name="kWh/month", x=[f"#{i + 1} {c.option.hw.id}@{c.site.id}" for i, c in
                                             enumerate(top)], y=[c.kwh_month for c in top]))
    f3.add_trace(go.Bar(name="kg CO2e/month", x=[f"#{i + 1} {c.option.hw.id}@{c.site.id}" for i, c in
                                                 enumerate(top)], y=[c.kgco2e_month for c in top]))
    f3.update_layout(barmode="group", title="Energy and operational carbon per month", height=420)
    figs.append(("energy", f3))
    # roofline of the distinct hardware in the top candidates
    f4 = go.Figure()
    seen: set[str] = set()
    import numpy as np
    xs = np.logspace(-1, 4, 60)
    for c in ranked[:40]:
        hw = c.option.hw
        if hw.id in seen or len(seen) >= 5:
            continue
        seen.add(hw.id)
        prof = select_profile(hw, Precision.parse(c.option.precision))
        peak = (hw.peak_flops(c.option.precision.split("/")[0]) or hw.peak_flops("bf16") or 1.0)
        bw = hw.main_memory.bandwidth_bytes_per_s
        f4.add_trace(go.Scatter(x=xs, y=np.minimum(peak, xs * bw) / 1e12, mode="lines",
                                name=f"{hw.id} roof"))
        st = c.option.est.step_breakdown_s
        if st:
            # operational intensity of the chosen operating point = FLOPs / bytes
            ai = (st.get("compute", 0) * peak * prof.ce_prefill) / max(st.get("memory", 1e-12) * bw *
                                                                     prof.me, 1e-12)
            att = min(peak, ai * bw) * min(1.0, prof.ce_prefill)
            f4.add_trace(go.Scatter(x=[ai], y=[att / 1e12], mode="markers", name=f"{hw.id} step",
                                    marker={"size": 11}))
    f4.update_layout(title="Roofline: operating point of each chosen hardware's serving step",
                     xaxis_type="log", yaxis_type="log", xaxis_title="FLOP per byte",
                     yaxis_title="TFLOP/s", height=460)
    figs.append(("roofline", f4))
    return figs


def _price_cell(c: Any) -> str:
    """The oldest price's date, OLD past the age limit, and the prices' labels."""
    a = c.price_age
    if a is None:
        return ""
    labels = [x for x in a.labels if not x.startswith("older than")]
    return (e(a.oldest) + (' <span class="deny">OLD</span>' if a.old else "")
            + (f'<br><span class="muted">{e(", ".join(labels))}</span>' if labels else ""))


def _answer_html(res: PlanResult) -> str:
    """The recommendation, why, and each other kind of site against it."""
    ans = answer(res)
    b = ans.best
    unit = "1M tokens" if is_llm(b) else "1M inferences"
    head = (f'<p class="answer"><b>Recommended: {e(b.option.hw.id)} {e(devices_text(b))} '
            f"{e(b.option.precision)} {e(b.option.mode)} at {e(b.site.id)} "
            f"({e(KIND_NAMES[b.site.kind])}, {e(b.term)}): ${b.usd_per_month:,.0f}/month</b> "
            f"(${b.usd_per_mtok:,.3f}/{unit})</p>")
    why = "<ul>" + "".join(f"<li>{e(w)}</li>" for w in ans.why) + "</ul>"
    rows = []
    for a in ans.alternatives:
        c = a.candidate
        if c is None:
            rows.append([e(a.kind), e(a.note), "", ""])
        else:
            rows.append([e(a.kind), e(c.label), f"{c.usd_per_month:,.0f}",
                         e(vs_text(c.usd_per_month, b.usd_per_month))])
    alt = _table(["cheapest of each other kind", "deployment", "$/month",
                  "vs the recommendation"], rows, "alternatives") if rows else ""
    return head + why + alt


def _heterogeneous_html(res: PlanResult) -> str:
    """Heterogeneous plans as lines against the ranked #1 and tables of their parts."""
    het = res.heterogeneous
    out = ["<ul>" + "".join(f"<li>{e(x)}</li>" for x in heterogeneous_lines(res)) + "</ul>"]
    mix = het.get("mix") or {}
    if mix.get("classes"):
        out.append(_table(["request class", "input tokens", "output tokens", "share"],
                          [[e(c["name"]), f"{c['input_tokens']:,.0f}",
                            f"{c['output_tokens']:,.0f}", f"{c['share']:.0%}"]
                           for c in mix["classes"]], "classes"))
        out.append(f'<p class="muted">{e(mix.get("classes_source", ""))}</p>')
    if (mix.get("mix") or {}).get("replicas"):
        out.append(_table(["mixed fleet replica type", "replicas"],
                          [[e(k), v] for k, v in mix["mix"]["replicas"].items()], "mix"))
    if het.get("note"):
        out.append(f'<p class="muted">{e(het["note"])}</p>')
    return "".join(out)


def render(res: PlanResult) -> str:
    import plotly.io as pio

    sc = res.scenario
    figs = _figs(res)
    parts = []
    for n, (fid, fig) in enumerate(figs):
        parts.append(f'<div id="fig-{fid}" class="plot">' + pio.to_html(
            fig, include_plotlyjs=(n == 0), full_html=False, div_id=f"plot-{fid}") + "</div>")
    colour = lambda d: f'<span class="{d}">{d}</span>'  # noqa: E731
    llm = res.model.is_llm
    rows = []
    for r in shortlist(res, top=25):
        c, o = r.candidate, r.candidate.option
        row = [r.rank, e(o.hw.id), e(devices_text(c)), e(o.precision), e(c.site.id), e(c.term),
               f"{c.usd_per_month:,.0f}", f"{c.usd_per_mtok:,.3f}", f"{s_to_ms(o.ttft_p99_s):,.0f}"]
        if llm:
            row.append(f"{s_to_ms(o.tpot_p99_s):,.0f}")
        row += [f"{c.kwh_month:,.0f}", f"{kg_to_tonnes(c.kgco2e_month):,.2f}",
                colour(c.verdict.decision), "yes" if c.pareto else "", _price_cell(c),
                e(r.variant_text())]
        rows.append(row)
    heads = ["#", "hardware", "devices", "precision", "site", "term", "$/month",
             "$/1M tokens" if llm else "$/1M inferences", "TTFT p99 ms" if llm else
             "latency p99 ms"] + (["TPOT p99 ms"] if llm else []) + [
        "kWh/month", "tCO2e/month", "verdict", "Pareto", "prices as of", "same figures"]
    ranked_html = _table(heads, rows, "ranked")
    from airadar.report.tables import best_per_site

    site_rows = [[e(c.site.id), e(c.site.kind), e(f"{c.site.operator} ({c.site.parent_country})"),
                  e(c.option.hw.id), e(devices_text(c)), e(c.option.precision),
                  f"{c.usd_per_month:,.0f}", colour(c.verdict.decision), _price_cell(c)]
                 for c in best_per_site(res)]
    sites_html = _table(["site", "kind", "operator (parent)", "hardware", "devices", "precision",
                         "$/month", "verdict", "prices as of"], site_rows, "per-site")
    pol_rows = []
    for sid, v in sorted(res.verdicts.items()):
        for vd in v.verdicts:
            pol_rows.append([e(sid), colour(vd.decision), e(vd.rule), e(vd.reason), e(vd.basis)])
    policy_html = _table(["site", "verdict", "rule", "reason", "basis"], pol_rows, "policy")
    rej = res.rejected
    rej_rows = [[e(k), f"{v:,}", "<br>".join(e(x) for x in rej["examples"].get(k, [])[:3])]
                for k, v in sorted(rej["by_reason"].items(), key=lambda kv: -kv[1])]
    rej_html = _table(["reason", "candidates", "examples"], rej_rows, "rejected")
    if rej.get("unlock"):
        rej_html += _table(["missing price", "would add candidates"],
                           [[e(u["missing"]), f"{u['would_add_candidates']:,}"]
                            for u in rej["unlock"]], "unlock")
    ass = json.loads(json.dumps(res.to_json(limit=0)["assumptions"]))
    ass_html = _table(["figure", "source"], [[e(a["what"]), e(a["source"])] for a in ass],
                      "assumptions")
    het_html = _heterogeneous_html(res)
    answer_html = _answer_html(res)
    wl = sc.workload
    lengths = (f"input {wl.input_mean:,.0f} / output {wl.output_mean:,.0f} tokens (means)"
               if res.model.is_llm else "one inference per request")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>airadar plan: {e(sc.name)}</title>
<style>{_CSS}</style></head><body>
<h1>airadar plan: {e(sc.name)}</h1>
<p>{e(sc.description)}</p>
<p>Model <b>{e(res.model.id)}</b>; peak {e(wl.peak_rps)} req/s; {lengths}; objective
{e(sc.objective)}; data class {e(wl.data.data_class)} (users in {e(wl.data.users_in)}).</p>
<h2>Decision</h2>{answer_html}
<h2>Shortlist</h2><p class="muted">The best row of each hardware type, then the next-best rows
up to 25; rows identical in every figure are merged and their variants listed
(<code>airadar plan --all</code> lists every
row).</p>{ranked_html}
<h2>Best option at each site</h2>{sites_html}
<h2>Pareto front</h2>{parts[0]}
<h2>Cost breakdown</h2>{parts[1]}
<h2>Energy and carbon</h2>{parts[2]}
<h2>Roofline</h2>{parts[3]}
<h2>Heterogeneous plans</h2>{het_html}
<h2>Why the rest were rejected</h2>{rej_html}
<h2>Data-sovereignty verdicts</h2>{policy_html}
<h2>Assumptions and sources</h2>{ass_html}
<p class="muted">Latencies are from the analytical queueing model; every figure's source is listed
above. Generated by airadar.</p>
</body></html>"""
