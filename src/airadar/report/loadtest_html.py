"""The load-test page: latency distributions, load vs p99 curve, a per-request timeline, the
load points and predicted vs measured, in the plan report's style (self-contained: plotly's
library is embedded once; every string from the user or the server is escaped)."""

from __future__ import annotations

from typing import Any

from airadar.bench.loadtest import load_label
from airadar.report.html import _CSS, _table, e
from airadar.units import s_to_ms


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{s_to_ms(x):,.2f}"


def _figs(result: dict[str, Any], points: list[tuple[dict[str, Any], list[Any]]]
          ) -> list[tuple[str, Any]]:
    import plotly.graph_objects as go  # heavy: report layer only
    from plotly.subplots import make_subplots

    figs = []
    dist = make_subplots(rows=2, cols=2, subplot_titles=("TTFT (ms)", "TPOT (ms)",
                                                         "inter-token latency (ms)",
                                                         "end-to-end (ms)"))
    for load, recs in points:
        ok = [r for r in recs if r.ok and not r.warmup]
        name = load_label(load, rate_format=".3g")
        series = ([r.ttft_s for r in ok if r.ttft_s is not None],
                  [t for r in ok if (t := r.tpot_s) is not None],
                  [x for r in ok for x in r.itl_s], [r.e2e_s for r in ok])
        for k, xs in enumerate(series):
            dist.add_trace(go.Histogram(x=[s_to_ms(x) for x in xs], name=name, legendgroup=name,
                                        showlegend=k == 0, opacity=0.6, nbinsx=60),
                           row=k // 2 + 1, col=k % 2 + 1)
    dist.update_layout(barmode="overlay", height=620, title="Latency distributions "
                       "(completed requests)")
    figs.append(("distributions", dist))

    summaries = result["points"]
    closed = all(s["load"]["shape"] == "closed" for s in summaries)
    xs = [s["load"].get("concurrency") if closed else s["load"].get("rate") for s in summaries]
    curve = go.Figure()
    if all(x is not None for x in xs):
        order = sorted(range(len(xs)), key=lambda i: xs[i])
        for key, name in (("ttft_s", "TTFT p99"), ("tpot_s", "TPOT p99"), ("e2e_s", "E2E p99")):
            curve.add_trace(go.Scatter(x=[xs[i] for i in order],
                                       y=[s_to_ms(summaries[i][key]["p99"] or 0) for i in order],
                                       mode="lines+markers", name=f"measured {name}"))
            pred = [summaries[i].get("predicted", {}).get(key, {}).get("p99") for i in order]
            if any(p is not None for p in pred):
                curve.add_trace(go.Scatter(x=[xs[i] for i in order],
                                           y=[s_to_ms(p) if p is not None else None for p in pred],
                                           mode="lines+markers", line={"dash": "dash"},
                                           name=f"predicted {name}"))
        sw = result.get("sweep") or {}
        for key, name in (("ttft_p99_limit_s", "TTFT limit"), ("tpot_p99_limit_s", "TPOT limit")):
            if sw.get(key):
                curve.add_hline(y=s_to_ms(sw[key]), line_dash="dot", annotation_text=name)
    curve.update_layout(title=("Concurrency" if closed else "Offered rate") + " vs p99 latency",
                        xaxis_title="clients" if closed else "requests/s",
                        yaxis_title="ms", yaxis_type="log", height=440)
    figs.append(("curve", curve))

    tl = go.Figure()
    for load, recs in points:
        meas = [r for r in recs if not r.warmup]
        ok = [r for r in meas if r.ok]
        bad = [r for r in meas if not r.ok]
        name = load_label(load, rate_format=".3g")
        tl.add_trace(go.Scatter(x=[r.sent_at_s for r in ok], y=[s_to_ms(r.e2e_s) for r in ok],
                                mode="markers", name=f"{name}: end-to-end",
                                marker={"size": 5}))
        tl.add_trace(go.Scatter(x=[r.sent_at_s for r in ok],
                                y=[s_to_ms(r.ttft_s or 0) for r in ok], mode="markers",
                                name=f"{name}: TTFT", marker={"size": 4, "symbol": "circle-open"}))
        if bad:
            tl.add_trace(go.Scatter(x=[r.sent_at_s for r in bad], y=[1.0 for _ in bad],
                                    mode="markers", name=f"{name}: failed",
                                    text=[e(r.error) for r in bad],
                                    marker={"symbol": "x", "size": 9, "color": "#b3261e"}))
    tl.update_layout(title="Timeline: each request at the moment it was sent (failed at the "
                     "bottom; hover for the error)", xaxis_title="s since the load point began",
                     yaxis_title="ms", yaxis_type="log", height=440)
    figs.append(("timeline", tl))
    return figs


def render(result: dict[str, Any], points: list[tuple[dict[str, Any], list[Any]]]) -> str:
    """The HTML page of one ``airadar loadtest`` invocation."""
    import plotly.io as pio

    figs = _figs(result, points)
    parts = [f'<div id="fig-{fid}" class="plot">' + pio.to_html(
        fig, include_plotlyjs=(n == 0), full_html=False, div_id=f"plot-{fid}") + "</div>"
        for n, (fid, fig) in enumerate(figs)]
    rows = []
    for s in result["points"]:
        rows.append([e(load_label(s["load"], rate_format=".3g")), s["requests"], s["completed"], s["failed"],
                     _ms(s["ttft_s"]["p50"]), _ms(s["ttft_s"]["p99"]), _ms(s["itl_s"]["p50"]),
                     _ms(s["tpot_s"]["p50"]), _ms(s["tpot_s"]["p99"]), _ms(s["e2e_s"]["p99"]),
                     f"{s['throughput_output_tokens_per_s'] or 0:,.1f}",
                     f"{s['goodput_requests_per_s'] or 0:,.2f}",
                     e("; ".join(f"{k} x{v}" for k, v in s["errors"].items()))])
    points_html = _table(["load", "requests", "completed", "failed", "TTFT p50 ms",
                          "TTFT p99 ms", "ITL p50 ms", "TPOT p50 ms", "TPOT p99 ms",
                          "E2E p99 ms", "output tok/s", "goodput req/s", "errors"], rows, "points")
    pvm = result.get("predicted_vs_measured")
    pvm_html = "<p class=\"muted\">No --deployment given: no prediction.</p>"
    if pvm:
        pvm_html = _table(["metric", "measured", "predicted", "error"], [
            [e(r["metric"]),
             _ms(r["measured"]) + " ms" if r["unit"] == "s" else f"{r['measured'] or 0:,.1f}",
             _ms(r["predicted"]) + " ms" if r["unit"] == "s" else f"{r['predicted'] or 0:,.1f}",
             "-" if r["error"] is None else f"{r['error']:+.0%}"] for r in pvm], "pvm")
        p = result["predicted"]
        pvm_html += (f'<p class="muted">Simulated on {e(p.get("arrivals"))} with the lengths '
                     f'the server reported; profile {e(p.get("profile"))} '
                     f'({e(p["provenance"].get("profile_provenance"))}).</p>')
    sw = result.get("sweep")
    sweep_html = ""
    if sw:
        sweep_html = (f"<p>Highest rate meeting the p99 limits: <b>"
                      f"{e(sw.get('max_rate_within_slo'))}</b> req/s; first rate breaking them: "
                      f"{e(sw.get('first_rate_breaking_slo'))} req/s.</p>")
    probe = result["probe"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>airadar loadtest: {e(result['model'])}</title>
<style>{_CSS}</style></head><body>
<h1>airadar loadtest: {e(result['model'])}</h1>
<p>{e(result.get('description') or '')}</p>
<p>Endpoint {e(result['url'])} ({e(result['endpoint'])}), from {e(result['client_host'])};
deployment {e(result.get('deployment') or 'not described')}. ignore_eos
{'sent' if probe['ignore_eos'] else 'refused by the server, not sent'}; output tokens from
{e(', '.join(result['output_tokens_source']))}.</p>
<h2>Load points</h2>{points_html}{sweep_html}
<h2>Predicted vs measured</h2>{pvm_html}
<h2>Latency distributions</h2>{parts[0]}
<h2>Load vs p99 latency</h2>{parts[1]}
<h2>Timeline</h2>{parts[2]}
<p class="muted">TTFT = first token - send; TPOT = (end-to-end - TTFT) / (output tokens - 1);
ITL = gaps between streamed chunks, pooled; percentiles over completed requests; failures
counted, never dropped. Results stored in {e(result['store'])}. Generated by airadar.</p>
</body></html>"""
