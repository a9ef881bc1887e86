"""Ranked cost == detailed cost: the vectorised scoring and cost.deployment share one formula
(cost.fleet), for every site kind, with egress, on every shipped example."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from airadar.plan.planner import detail_cost, plan
from airadar.specs.scenario import Scenario, load_scenario
from tests.conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
KINDS = {"cloud", "onprem", "colo", "edge", "device"}


def _with(sc: Scenario, **fin: object) -> Scenario:
    return sc.model_copy(update={"financial": sc.financial.model_copy(update=fin)})


def _sample(ranked: list, n: int = 120) -> list:  # type: ignore[type-arg]
    """The top candidates, the best of each site, and an even spread over the rest."""
    pick = {id(c): c for c in ranked[:20]}
    seen: set[str] = set()
    for c in ranked:
        if c.site.id not in seen:
            seen.add(c.site.id)
            pick[id(c)] = c
    for i in np.linspace(0, len(ranked) - 1, min(n, len(ranked))).astype(int):
        pick[id(ranked[i])] = ranked[i]
    return list(pick.values())


def _check(sc: Scenario, base: Path, every: bool = False) -> set[tuple[str, bool]]:
    res = plan(sc, base_dir=base, detail=False)
    wl = sc.workload
    avg = wl.average_rps or wl.peak_rps * float(np.mean(wl.curve))
    today = date.fromisoformat(res.stats["price_date"])
    seen = set()
    assert res.ranked
    for c in res.ranked if every else _sample(res.ranked):
        d = detail_cost(c, sc, avg, res.model, today)
        assert d.usd_per_hour == pytest.approx(c.usd_per_hour, rel=1e-9, abs=1e-9), c.label
        assert d.billed_devices == c.billed_devices, c.label
        egress = d.breakdown.components.get("egress", 0.0)
        seen.add((c.site.kind, egress > 0))
    return seen


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_ranked_cost_equals_detail_on_every_example(path: Path) -> None:
    """For every feasible candidate of each example (4,709 in all), the ranked $/hour is the
    detail's $/hour."""
    _check(load_scenario(path), path.parent, every=True)


def test_ranked_cost_equals_detail_with_egress_at_every_site_kind() -> None:
    """With 0.5 GB of egress per request the ranking charges egress (it is in the detail) at
    cloud, on-premise, colocation, edge and users'-device sites alike."""
    seen: set[tuple[str, bool]] = set()
    for name in ("eu-support-chat", "on-device-assistant", "factory-camera-inspection"):
        path = ROOT / "examples" / f"{name}.yaml"
        sc = _with(load_scenario(path), egress_gb_per_request=0.5)
        cand = sc.candidates.model_copy(update={"site_kinds": tuple(sorted(KINDS))})
        sc = sc.model_copy(update={"candidates": cand})
        seen |= _check(sc, path.parent)
    assert {k for k, _ in seen} == KINDS
    assert ("cloud", True) in seen  # egress really charged somewhere


def test_egress_raises_the_ranked_cost_of_a_cloud_candidate() -> None:
    """Egress at $0.09/GB (AWS) on 0.5 GB/request is in the ranked figure, not only the
    detail: the same candidate costs avg_rps x 3600 x 0.5 x 0.09 $/h more."""
    sc = Scenario.model_validate({
        "name": "egress", "model": "llama-3.1-8b",
        "workload": {"peak_rps": 10, "average_rps": 4, "input_tokens": 800, "output_tokens": 200,
                     "slo": {"ttft_p99_ms": 2000, "tpot_p99_ms": 80},
                     "data": {"data_class": "internal", "users_in": "US"}},
        "candidates": {"hardware": ["h100-sxm", "l40s"], "sites": ["aws-us-east-1"],
                       "precisions": ["fp8"], "max_devices_per_replica": 2}})
    path = ROOT / "examples"
    a = plan(sc, base_dir=path, detail=False).ranked[0]
    b = plan(_with(sc, egress_gb_per_request=0.5), base_dir=path, detail=False)
    same = next(c for c in b.ranked if c.label == a.label)
    wl = sc.workload
    avg = wl.average_rps or wl.peak_rps * float(np.mean(wl.curve))
    assert same.usd_per_hour - a.usd_per_hour == pytest.approx(avg * 3600 * 0.5 * 0.09)
