"""The sweep's robustness page: self-contained HTML in the plan report's style (plotly
embedded once, every string from the scenario escaped): the robust choice, the candidates'
cost percentiles, probability of being best, regret and SLO miss probability, a tornado chart
of the inputs the decision is most sensitive to, and the distribution of monthly cost."""

from __future__ import annotations

import json
from typing import Any

from airadar.report.html import _CSS, _table, e


def _money(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def _v(x: Any) -> str:
    return f"{x:.3g}" if isinstance(x, float) else str(x)


def _figs(out: dict[str, Any]) -> list[tuple[str, Any]]:
    import plotly.graph_objects as go  # heavy: report layer only

    figs = []
    sens = [s for s in out["sensitivity"] if s["swing_usd_per_month"] is not None][:10][::-1]
    base = (out["robust_choice"] or {}).get("usd_per_month", {}).get("p50") or 0.0
    f1 = go.Figure()
    names = [s["input"] for s in sens]
    lows = [s["usd_per_month_at_low"] - base for s in sens]
    highs = [s["usd_per_month_at_high"] - base for s in sens]
    f1.add_trace(go.Bar(y=names, x=lows, base=base, orientation="h", name="input low",
                        marker_color="#4c78a8", text=[_v(s["low"]) for s in sens],
                        hovertemplate="%{y}<br>at %{text}: $%{x:,.0f}/month<extra></extra>"))
    f1.add_trace(go.Bar(y=names, x=highs, base=base, orientation="h", name="input high",
                        marker_color="#e45756", text=[_v(s["high"]) for s in sens],
                        hovertemplate="%{y}<br>at %{text}: $%{x:,.0f}/month<extra></extra>"))
    f1.update_layout(barmode="overlay", title="Tornado: the robust choice's mean $/month with "
                     "each input in its lowest / highest decile", xaxis_title="$ per month",
                     height=220 + 50 * max(len(sens), 1), margin={"l": 320},
                     yaxis={"automargin": True})
    figs.append(("tornado", f1))
    top = out["candidates"][:8]
    f2 = go.Figure()
    for c in top:
        u = c["usd_per_month"]
        if u["p50"] is None:
            continue
        f2.add_trace(go.Box(name=c["label"], y=[c["label"]], q1=[u["p10"]], median=[u["p50"]],
                            q3=[u["p90"]], lowerfence=[u["p10"]], upperfence=[u["p90"]],
                            orientation="h"))
    f2.update_layout(title="$ per month, P10 / P50 / P90 over the futures", showlegend=False,
                     xaxis_title="$ per month", height=220 + 50 * len(top),
                     yaxis={"automargin": True, "autorange": "reversed"})
    figs.append(("cost", f2))
    return figs


def render_sweep(out: dict[str, Any]) -> str:
    import plotly.io as pio

    parts = []
    for n, (fid, fig) in enumerate(_figs(out)):
        parts.append(f'<div id="fig-{fid}" class="plot">' + pio.to_html(
            fig, include_plotlyjs=(n == 0), full_html=False, div_id=f"plot-{fid}") + "</div>")
    rows = []
    for c in out["candidates"][:25]:
        u, t, r = c["usd_per_month"], c["usd_per_million_output_tokens"], c["regret"]
        rows.append([e(c["label"]), _pct(c["probability_best"]), _pct(c["probability_feasible"]),
                     _money(u["p10"]), _money(u["p50"]), _money(u["p90"]),
                     "-" if t["p50"] is None else f"{t['p50']:.3f}", _money(r["mean"]),
                     _money(r["p90"]), _pct(c["slo_miss_probability"]),
                     _pct(c["slo_miss_probability_simulated"])])
    cand_html = _table(["candidate", "P(best)", "P(feasible)", "$/month P10", "P50", "P90",
                        "$/1M tok P50", "regret mean", "regret P90", "SLO miss",
                        "SLO miss (simulated)"], rows, "candidates")
    sens_rows = [[e(s["input"]), e(s["kind"]), e(_v(s["low"])), e(_v(s["high"])),
                  _money(s["usd_per_month_at_low"]), _money(s["usd_per_month_at_high"]),
                  _money(s["swing_usd_per_month"]), _pct(s["probability_best_at_low"]),
                  _pct(s["probability_best_at_high"])] for s in out["sensitivity"]]
    sens_html = _table(["input", "how", "low", "high", "$/month at low", "at high", "swing",
                        "P(best) at low", "at high"], sens_rows, "sensitivity")
    rc = out["robust_choice"]
    robust = (f"<p><b>Robust choice: {e(rc['label'])}</b>: best in {_pct(rc['probability_best'])} "
              f"of the futures, P90 regret {_money(rc['regret']['p90'])} ({e(out['regret_unit'])}), "
              f"$/month P10/P50/P90 {_money(rc['usd_per_month']['p10'])} / "
              f"{_money(rc['usd_per_month']['p50'])} / {_money(rc['usd_per_month']['p90'])}, "
              f"SLO miss probability {_pct(rc['slo_miss_probability'])}.</p>"
              if rc else "<p>No candidate is feasible in every future.</p>")
    spec = "<pre>" + e(json.dumps(out["sweep"], indent=1)) + "</pre>"
    ex = out.get("execution", {})
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>airadar sweep: {e(out['scenario'])}</title>
<style>{_CSS}</style></head><body>
<h1>airadar sweep: {e(out['scenario'])}</h1>
<p>{e(out['futures_evaluated'])} futures (seed {e(out['sweep']['seed'])}), objective
{e(out['objective'])}; {e(out['futures_with_a_feasible_choice'])} futures had a feasible choice.</p>
<h2>Robustness</h2>{robust}
{cand_html}
<h2>What the decision is most sensitive to</h2>{parts[0]}{sens_html}
<h2>Cost over the futures</h2>{parts[1]}
<h2>What was varied</h2>{spec}
<p class="muted">Regret: a candidate's objective minus the best feasible one's in the same
future (infinite where it is infeasible). SLO miss: the fleet as bought, sized at the grid
point's peak from the point prediction, serves less than the future's peak at the drawn speed.
Computed by {e(ex.get('executor'))} with {e(ex.get('workers'))} workers. Generated by airadar.</p>
</body></html>"""
