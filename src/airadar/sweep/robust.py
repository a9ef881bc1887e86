"""From many futures to one defensible choice.

Per candidate (a deployment type at a site and term; its replica count follows each
future's traffic and drawn speed):

- cost percentiles P10/P50/P90 of $/month and $/1M output tokens, over the futures where it
  is feasible;
- probability of being the best feasible choice (lowest objective; ties by label);
- regret: its objective minus the per-future best (in the objective's units; $/month for
  ``min_tco``), infinite in a future where it is infeasible;
- SLO miss probability: the share of futures in which the fleet as bought (sized at the
  grid point's peak from the point prediction) serves less than the future's peak at the
  candidate's drawn speed; with ``simulate_top`` also the simulated full-day share.

The robust choice has the lowest P90 regret (ties: the lower mean regret, then the label),
a minimax-regret rule (Savage 1951) softened to the 90th percentile so one extreme future
does not decide alone.

Sensitivity (tornado): for each varied input, the robust choice's mean $/month in the
futures where the input is in its lowest and highest decile (for a grid field: its cheapest
and dearest value), and its probability of being best there; sorted by the swing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

UNITS = {"min_tco": "usd_per_month", "min_cost_per_token": "usd_per_million_output_tokens",
         "min_energy": "kwh_per_month", "min_latency": "e2e_p99_s"}


def _pct(x: np.ndarray) -> dict[str, float | None]:
    x = x[np.isfinite(x)]
    if not x.size:
        return {"p10": None, "p50": None, "p90": None}
    q = np.percentile(x, [10, 50, 90])
    return {"p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2])}


def _fin(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def aggregate(results: list[dict[str, Any]], *, objective: str, grid_points: list[dict[str, Any]],
              inputs: list[str]) -> dict[str, Any]:
    """The robustness answer from the futures' results (sorted by future index)."""
    results = sorted(results, key=lambda r: r["i"])
    nf = len(results)
    keys = sorted({k for r in results for k in r["c"]})
    col = {k: j for j, k in enumerate(keys)}
    nc = len(keys)
    month = np.full((nf, nc), np.nan)
    mtok = np.full((nf, nc), np.nan)
    obj = np.full((nf, nc), np.inf)
    miss = np.full((nf, nc), np.nan)
    speed = np.full((nf, nc), np.nan)
    sim_miss = np.full((nf, nc), np.nan)
    for n, r in enumerate(results):
        for k, v in r["c"].items():
            j = col[k]
            month[n, j] = v[0]
            mtok[n, j] = v[1] if v[1] is not None else np.nan
            obj[n, j] = v[2] if v[2] is not None else np.inf
            miss[n, j] = v[3]
            speed[n, j] = v[5]
        for k, s in (r.get("sim") or {}).items():
            sim_miss[n, col[k]] = s["miss"]
    feasible = np.isfinite(obj)
    any_ok = feasible.any(axis=1)
    best = np.where(any_ok, np.argmin(obj, axis=1), -1) if nc else np.full(nf, -1)
    best_obj = np.where(any_ok, obj[np.arange(nf), np.maximum(best, 0)] if nc else np.inf, np.nan)
    regret = obj - best_obj[:, None]
    regret[~any_ok] = np.nan  # a future where nothing is feasible tells nothing
    rows = []
    for k, j in col.items():
        rg = regret[:, j][any_ok]
        fe = feasible[:, j]
        p90 = float(np.percentile(rg, 90, method="higher")) if rg.size else math.inf
        mean = float(np.mean(rg)) if rg.size and np.all(np.isfinite(rg)) else math.inf
        sm = sim_miss[:, j][np.isfinite(sim_miss[:, j])]
        rows.append({
            "label": k, "probability_feasible": float(fe.mean()) if nf else 0.0,
            "probability_best": float(np.mean(best == j)) if nf else 0.0,
            "usd_per_month": _pct(month[:, j]),
            "usd_per_million_output_tokens": _pct(mtok[:, j]),
            "regret": {"mean": _fin(mean), "p50": _fin(float(np.percentile(rg, 50, method="higher")))
                       if rg.size else None, "p90": _fin(p90),
                       "max": _fin(float(np.max(rg))) if rg.size else None},
            "slo_miss_probability": float(np.nanmean(miss[:, j])) if fe.any() else None,
            "slo_miss_probability_simulated": float(sm.mean()) if sm.size else None,
            "futures_simulated": int(sm.size),
            "speed_factor": _pct(speed[:, j]),
            "_order": (p90, mean, k)})
    rows.sort(key=lambda r: r["_order"])
    for r in rows:
        r.pop("_order")
    robust = rows[0] if rows and rows[0]["regret"]["p90"] is not None else None
    sens = _sensitivity(results, month, best, col, robust["label"], grid_points, inputs,
                        speed) if robust else []
    return {"futures_evaluated": nf, "futures_with_a_feasible_choice": int(any_ok.sum()),
            "objective": objective, "regret_unit": UNITS[objective],
            "robust_choice": robust, "candidates": rows, "sensitivity": sens,
            "best_counts": {keys[b]: int(np.sum(best == b)) for b in sorted(set(best.tolist()))
                            if b >= 0}}


def _sensitivity(results: list[dict[str, Any]], month: np.ndarray, best: np.ndarray,
                 col: dict[str, int], robust: str, grid_points: list[dict[str, Any]],
                 inputs: list[str], speed: np.ndarray) -> list[dict[str, Any]]:
    j = col[robust]
    cost = month[:, j]
    is_best = best == j
    out: list[dict[str, Any] | None] = []
    for name in inputs:
        if len(grid_points) > 1 and name in grid_points[0]:
            vals = [str(grid_points[r["grid"]][name]) for r in results]
            levels = sorted(set(vals))
            if len(levels) < 2:
                continue
            means = {lv: _mean(cost[[v == lv for v in vals]]) for lv in levels}
            finite = {lv: m for lv, m in means.items() if m is not None}
            if len(finite) < 2:
                continue
            lo, hi = min(finite, key=lambda lv: finite[lv]), max(finite, key=lambda lv: finite[lv])
            mlo, mhi = np.array([v == lo for v in vals]), np.array([v == hi for v in vals])
            out.append(_row(name, "grid", lo, hi, cost, is_best, mlo, mhi))
        else:
            x = np.array([r["inputs"].get(name, np.nan) for r in results], dtype=float)
            out.append(_decile_row(name, "Monte Carlo", x, cost, is_best))
    x = speed[:, j]
    if np.isfinite(x).sum() >= 10 and np.nanstd(x) > 0:
        out.append(_decile_row(f"speed of {robust.split(' @ ')[0]} (prediction interval)",
                               "Monte Carlo", x, cost, is_best))
    rows = [r for r in out if r is not None]
    rows.sort(key=lambda r: -(r["swing_usd_per_month"] or 0.0))
    return rows


def _decile_row(name: str, how: str, x: np.ndarray, cost: np.ndarray, is_best: np.ndarray
                ) -> dict[str, Any] | None:
    ok = np.isfinite(x)
    if ok.sum() < 10:
        return None
    q10, q90 = np.percentile(x[ok], [10, 90])
    return _row(name, how, float(q10), float(q90), cost, is_best, ok & (x <= q10), ok & (x >= q90))


def _row(name: str, how: str, lo: Any, hi: Any, cost: np.ndarray, is_best: np.ndarray,
         mlo: np.ndarray, mhi: np.ndarray) -> dict[str, Any]:
    clo, chi = _mean(cost[mlo]), _mean(cost[mhi])
    return {"input": name, "kind": how, "low": lo, "high": hi,
            "usd_per_month_at_low": clo, "usd_per_month_at_high": chi,
            "swing_usd_per_month": abs(chi - clo) if clo is not None and chi is not None else None,
            "probability_best_at_low": float(is_best[mlo].mean()) if mlo.any() else None,
            "probability_best_at_high": float(is_best[mhi].mean()) if mhi.any() else None}


def _mean(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else None
