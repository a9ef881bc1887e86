"""Aggregation: probability of being best, regret and the robust choice on hand-made futures."""

from __future__ import annotations

import math

from airadar.sweep.robust import aggregate


def _f(i: int, costs: dict[str, float], miss: dict[str, int] | None = None) -> dict:
    return {"i": i, "grid": 0, "inputs": {"x": float(i)},
            "c": {k: [v, v / 100, v, (miss or {}).get(k, 0), 1, 1.0] for k, v in costs.items()}}


def test_best_regret_and_robust_choice() -> None:
    """A candidate that is never best but never far from it beats one that is usually best
    but sometimes very expensive (lowest P90 regret)."""
    futures = [_f(i, {"cheap-risky": 100.0, "steady": 110.0}) for i in range(8)]
    futures += [_f(8 + i, {"cheap-risky": 400.0, "steady": 120.0}) for i in range(2)]
    a = aggregate(futures, objective="min_tco", grid_points=[{}], inputs=["x"])
    rows = {c["label"]: c for c in a["candidates"]}
    assert rows["cheap-risky"]["probability_best"] == 0.8
    assert rows["steady"]["probability_best"] == 0.2
    assert rows["steady"]["regret"]["max"] == 10.0
    assert rows["cheap-risky"]["regret"]["max"] == 280.0
    assert a["robust_choice"]["label"] == "steady"


def test_infeasible_counts_as_infinite_regret() -> None:
    """A candidate missing from a future (infeasible there) cannot be the robust choice if
    that happens in more than 10% of futures."""
    futures = [_f(i, {"a": 100.0, "b": 150.0}) for i in range(7)]
    futures += [_f(7 + i, {"b": 150.0}) for i in range(3)]
    a = aggregate(futures, objective="min_tco", grid_points=[{}], inputs=[])
    rows = {c["label"]: c for c in a["candidates"]}
    assert rows["a"]["probability_feasible"] == 0.7 and rows["a"]["regret"]["p90"] is None
    assert a["robust_choice"]["label"] == "b"
    assert a["best_counts"] == {"a": 7, "b": 3}


def test_slo_miss_and_sensitivity() -> None:
    """SLO miss probability is the share of futures flagged; the tornado ranks the input that
    moves the robust choice's cost."""
    futures = [_f(i, {"a": 100.0 + 10 * i}, miss={"a": int(i < 5)}) for i in range(20)]
    a = aggregate(futures, objective="min_tco", grid_points=[{}], inputs=["x"])
    rc = a["robust_choice"]
    assert rc["slo_miss_probability"] == 0.25
    s = a["sensitivity"][0]
    assert s["input"] == "x" and s["usd_per_month_at_high"] > s["usd_per_month_at_low"]
    assert not math.isnan(s["swing_usd_per_month"])
