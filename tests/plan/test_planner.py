"""The planner's guarantees on a small, fast scenario and on the shipped examples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from airadar.cost.deployment import deployment_cost
from airadar.errors import InfeasibleError, ScenarioError
from airadar.plan.pareto import pareto_mask
from airadar.plan.planner import plan
from airadar.specs.scenario import Scenario, load_scenario
from tests.conftest import ROOT, run_cli

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
SMALL = {
    "name": "small", "model": "llama-3.1-8b",
    "workload": {"peak_rps": 10, "average_rps": 4, "input_tokens": 800, "output_tokens": 200,
                 "slo": {"ttft_p99_ms": 2000, "tpot_p99_ms": 80},
                 "data": {"data_class": "internal", "users_in": "US"}},
    "candidates": {"hardware": ["h100-sxm", "a100-sxm-80gb", "l40s", "l4", "h200-sxm"],
                   "sites": ["aws-us-east-1", "modal-us", "runpod-secure-us", "colo-us-va",
                             "onprem-us-tx", "nebius-fi", "hyperstack-no"],
                   "precisions": ["bf16", "fp8"], "max_devices_per_replica": 4},
}


def _sc(**over: object) -> Scenario:
    data = json.loads(json.dumps(SMALL))
    for k, v in over.items():
        cur = data
        parts = k.split(".")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        cur[parts[-1]] = v
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def small_plan():  # type: ignore[no-untyped-def]
    return plan(_sc())


def test_ranked_candidates_are_feasible(small_plan) -> None:  # type: ignore[no-untyped-def]
    """Every ranked candidate meets the SLOs and is not denied by policy."""
    for c in small_plan.ranked:
        assert c.option.ttft_p99_s <= 2.0 + 1e-9 and c.option.tpot_p99_s <= 0.08 + 1e-9
        assert c.verdict.decision != "deny"
        assert c.option.capacity_rps_per_replica * c.option.replicas >= 10 * 1.2 - 1e-6


def test_pareto_members_are_not_dominated(small_plan) -> None:  # type: ignore[no-untyped-def]
    """No candidate is at least as good on cost, p99 latency and energy and better on one."""
    pts = np.array([[c.usd_per_hour, c.option.e2e_p99_s, c.kwh_month] for c in small_plan.ranked])
    for i, c in enumerate(small_plan.ranked):
        if c.pareto:
            dom = np.all(pts <= pts[i], axis=1) & np.any(pts < pts[i], axis=1)
            assert not dom.any(), c.label
    assert pareto_mask(pts).sum() == len(small_plan.pareto)


def test_mixed_fleet_never_worse_than_best_single(small_plan) -> None:  # type: ignore[no-untyped-def]
    """The HiGHS mix costs at most the best single-type fleet it was compared with."""
    mix = small_plan.heterogeneous["mix"]
    assert mix["mix"]["usd_per_hour"] <= mix["best_single"]["usd_per_hour"] + 1e-6


def test_tightening_an_slo_never_lowers_the_best_cost() -> None:
    """A stricter TPOT limit can only keep or raise the cheapest feasible rental cost. (Cloud
    sites only: owned energy follows the operating point the SLO picks, and a memory-bound
    step is charged less power than a compute-bound one (cost/energy.py), so the same owned
    deployment can cost a little less under a tighter limit.)"""
    cloud = ["aws-us-east-1", "modal-us", "runpod-secure-us", "nebius-fi", "hyperstack-no"]
    loose = plan(_sc(**{"candidates.sites": cloud}), detail=False)
    tight = plan(_sc(**{"candidates.sites": cloud,
                        "workload.slo": {"ttft_p99_ms": 2000, "tpot_p99_ms": 30}}), detail=False)
    assert tight.ranked[0].usd_per_hour >= loose.ranked[0].usd_per_hour - 1e-9


def test_removing_a_site_never_makes_the_best_plan_cheaper(small_plan) -> None:  # type: ignore[no-untyped-def]
    """Dropping the winning site gives a best plan at least as expensive."""
    best = small_plan.ranked[0]
    sites = [s for s in SMALL["candidates"]["sites"] if s != best.site.id]  # type: ignore[index]
    fewer = plan(_sc(**{"candidates.sites": sites}), detail=False)
    assert fewer.ranked[0].usd_per_hour >= best.usd_per_hour - 1e-9


def test_vectorised_scores_match_the_cost_module(small_plan) -> None:  # type: ignore[no-untyped-def]
    """The numpy inner loop and cost.deployment agree on $/hour for the top candidates."""
    for c in small_plan.ranked[:10]:
        fin = _sc().financial.model_copy(update={"utilization": c.utilization, "term": c.term})
        d = deployment_cost(hw=c.option.hw, devices=c.option.devices, site=c.site, fin=fin,
                            throughput_tok_s=None, bottleneck=c.option.bottleneck)
        assert d.usd_per_hour == pytest.approx(c.usd_per_hour, rel=1e-6), c.label


def test_policy_rejections_keep_their_reason() -> None:
    """EEA-only data removes US sites; the reason names the rule."""
    res = plan(_sc(**{"workload.data": {"data_class": "personal", "users_in": "EU",
                                         "allowed_countries": ["EEA"]}}), detail=False)
    assert all(c.site.country != "US" for c in res.ranked)
    assert any("allowed-countries" in e for e in res.rejected["examples"]["policy"])


def test_nothing_satisfies_names_the_constraint_and_the_nearest() -> None:
    """An impossible TPOT says it was the SLO and how close the nearest candidate came."""
    with pytest.raises(InfeasibleError, match=r"slo.*nearest"):
        plan(_sc(**{"workload.slo": {"tpot_p99_ms": 0.5}}))
    with pytest.raises(InfeasibleError, match="budget"):
        plan(_sc(**{"constraints": {"budget_usd_per_month": 1}}))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_plans(path: Path) -> None:
    """Each shipped example validates and yields at least one ranked candidate."""
    res = plan(load_scenario(path), base_dir=path.parent, detail=False)
    assert res.ranked and res.stats["candidates_scored"] > 0


def test_examples_are_at_least_six() -> None:
    """The six scenarios of the issue are shipped."""
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize(("text", "needle"), [
    ("name: x\nmodel: llama-3.1-8b\nworkload: [\n", "malformed YAML"),
    ("name: x\nmodel: llama-3.1-8b\nworkload:\n  peak_rps: 3\n  input_tokens: 9\n  colour: red\n",
     ":6: workload.colour: unknown field"),
    ("name: x\nmodel: llama-3.1-8b\nworkload:\n  peak_rps: 3\n  average_rps: 9\n  input_tokens: 9\n",
     "cannot exceed peak_rps"),
    ("name: x\nmodel: llama-3.1-8b\nworkload:\n  peak_rps: -1\n  input_tokens: 9\n",
     ":4: workload.peak_rps"),
])
def test_bad_scenarios(tmp_path: Path, text: str, needle: str) -> None:
    """Malformed YAML, unknown fields and contradictions name file, line and field."""
    f = tmp_path / "s.yaml"
    f.write_text(text)
    with pytest.raises(ScenarioError, match=needle.replace("[", r"\[")):
        load_scenario(f)
    r = run_cli("plan", str(f))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_plan_json_csv_and_schema(tmp_path: Path) -> None:
    """--json has ranked + rejected; --csv has a header and rows; schema is JSON Schema."""
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(SMALL))
    r = run_cli("plan", str(f), "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["ranked"] and "by_reason" in obj["rejected"]
    assert {"usd_per_month", "ttft_p99_ms", "verdict", "kwh_per_month"} <= set(obj["ranked"][0])
    r = run_cli("plan", str(f), "--csv")
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("label,hardware") and len(lines) > 1
    r = run_cli("schema")
    assert json.loads(r.stdout)["title"] == "airadar scenario"


def test_derived_request_classes_keep_the_scenarios_mean() -> None:
    """Classes derived from p50 and the mean (log-normal bins) average to the scenario's mean
    input, and the derivation is listed among the assumptions."""
    from airadar.plan.hetero import request_classes

    sc = _sc(**{"workload.input_tokens": {"mean": 900, "p50": 700, "p90": 1800, "max": 4000}})
    classes, how = request_classes(sc.workload)
    assert len(classes) == 3
    assert sum(i * s for _, i, _, s in classes) == pytest.approx(900, rel=1e-9)
    assert sum(s for *_, s in classes) == pytest.approx(1.0)
    assert "log-normal" in how and "900" in how


def test_scenario_request_classes_must_keep_the_mean() -> None:
    """Explicit request classes whose mean input is not the workload's are refused."""
    bad = [{"name": "a", "input_tokens": 700, "share": 0.5},
           {"name": "b", "input_tokens": 4000, "share": 0.5}]
    with pytest.raises(Exception, match="mean input length 2,350"):
        _sc(**{"workload.request_classes": bad})
    good = [{"name": "a", "input_tokens": 400, "share": 0.5},
            {"name": "b", "input_tokens": 1200, "share": 0.5}]
    from airadar.plan.hetero import request_classes
    assert [c[1] for c in request_classes(_sc(**{"workload.request_classes": good}).workload)[0]
            ] == [400, 1200]


def test_heterogeneous_plans_compare_with_the_ranked_best(small_plan) -> None:  # type: ignore[no-untyped-def]
    """The mix and disaggregated plans are compared with the ranked #1's $/h."""
    het = small_plan.heterogeneous
    best = small_plan.ranked[0].usd_per_hour
    assert het["mix"]["compared_with"]["usd_per_hour"] == best
    assert het["mix"]["saving_vs_ranked_best"] == pytest.approx(
        1 - het["mix"]["mix"]["usd_per_hour"] / best)
    assert any(a["what"].startswith("request classes") for a in small_plan.to_json_assumptions())


def test_p50_limits_are_applied() -> None:
    """A TPOT p50 limit below every option's median removes them all, naming TPOT p50
    (p50 limits used to be accepted and ignored)."""
    with pytest.raises(InfeasibleError, match="TPOT p50"):
        plan(_sc(**{"workload.slo": {"tpot_p50_ms": 0.5}}), detail=False)


def test_a_tiny_demand_still_gets_a_replica() -> None:
    """A 1e-9 req/s class sits inside HiGHS's feasibility tolerance (1e-7): the mix came back
    with no replica and $0/h, and the saving against the single-type fleet divided by zero
    (found by the scenario-numbers property test). Any demand is served by at least one
    replica of the cheapest type able to carry it."""
    import numpy as np

    from airadar.plan.hetero import FleetType, solve_mix

    types = [FleetType(label=f"t{i}", hw_id="h100-sxm", precision="fp8",
                       devices_per_replica=1, site="s", term="on-demand",
                       usd_per_replica_hour=usd) for i, usd in enumerate((2.0, 1.0))]
    caps = np.array([[10.0, 5.0], [4.0, 0.0]])  # t1 cannot serve the second class
    for demand in (np.array([1e-9, 0.0]), np.array([1e-9, 1e-9]), np.array([6.0, 2.0])):
        sol = solve_mix(types, caps, demand)
        assert sol is not None
        x, cost = sol
        served = [sum(x[t] * caps[t, c] for t in range(2)) >= demand[c] for c in range(2)]
        assert all(served) and cost > 0, (demand, x)
    x, cost = solve_mix(types, caps, np.array([1e-9, 0.0])) or (None, None)
    assert cost == 1.0  # one replica of the cheaper type
