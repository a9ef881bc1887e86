"""Hardware licence rules: the GeForce driver licence excludes data-centre deployment."""

from __future__ import annotations

import json

from airadar.catalog import resolve
from airadar.catalog.sites import site
from airadar.plan.planner import plan
from airadar.policy.licence import excluded, load_licence_rules
from airadar.specs.scenario import Scenario

SC = {"name": "geforce", "model": "llama-3.1-8b",
      "workload": {"peak_rps": 2, "input_tokens": 500, "output_tokens": 100,
                   "slo": {"ttft_p99_ms": 3000, "tpot_p99_ms": 100},
                   "data": {"data_class": "internal", "users_in": "US"}},
      "candidates": {"hardware": ["rtx-4090", "l40s"], "sites": ["onprem-us-tx"],
                     "precisions": ["fp8"], "max_devices_per_replica": 2}}


def _sc(setting: str | None = None) -> Scenario:
    d = json.loads(json.dumps(SC))
    if setting:
        d["candidates"]["onprem_setting"] = setting
    return Scenario.model_validate(d)


def test_rule_is_sourced_and_quotes_the_clause() -> None:
    """The rule cites the GeForce driver licence's 'No Datacenter Deployment' clause."""
    (r,) = [x for x in load_licence_rules() if x.id == "geforce-no-datacenter"]
    assert "geforce-license" in r.source and "2.1.3" in r.source and r.as_of
    assert r.quote.startswith("No Datacenter Deployment.")


def test_geforce_refused_in_data_centres_only() -> None:
    """RTX 4090: refused at cloud, colocation and on-premise server rooms; not at a lab
    (onprem_setting: lab); data-centre cards are never refused."""
    g, dc = resolve.hardware("rtx-4090"), resolve.hardware("l40s")
    for sid in ("aws-us-east-1", "colo-us-va", "onprem-us-tx"):
        why = excluded(g, site(sid))
        assert why and "datacenter deployment" in why, sid
        assert excluded(dc, site(sid)) is None
    assert excluded(g, site("onprem-us-tx"), onprem_setting="lab") is None


def test_plan_rejects_geforce_with_the_reason_and_the_switch_allows_it() -> None:
    """By default the plan has no RTX 4090 row and says why; in a lab it may rank."""
    res = plan(_sc(), detail=False)
    assert all(c.option.hw.id != "rtx-4090" for c in res.ranked)
    assert res.rejected["by_reason"]["licence"] > 0
    assert "geforce-no-datacenter" in res.rejected["examples"]["licence"][0]
    lab = plan(_sc("lab"), detail=False)
    assert any(c.option.hw.id == "rtx-4090" for c in lab.ranked)
