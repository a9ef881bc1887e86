"""The decision first and a shortlist worth reading (plan/shortlist.py)."""

from __future__ import annotations

import re

import pytest

from airadar.plan.planner import plan
from airadar.plan.shortlist import answer, collapse, figures, shortlist
from airadar.specs.scenario import load_scenario
from tests.conftest import ROOT, run_cli


@pytest.fixture(scope="module")
def chat():  # type: ignore[no-untyped-def]
    p = ROOT / "examples" / "eu-support-chat.yaml"
    return plan(load_scenario(p), base_dir=p.parent)


@pytest.fixture(scope="module")
def device():  # type: ignore[no-untyped-def]
    p = ROOT / "examples" / "on-device-assistant.yaml"
    return plan(load_scenario(p), base_dir=p.parent, detail=False)


def test_answer_is_the_ranked_best_with_each_other_kind(chat) -> None:  # type: ignore[no-untyped-def]
    """The recommendation is ranked #1; each other site kind of the scenario appears once
    with its cheapest candidate."""
    a = answer(chat)
    assert a.best is chat.ranked[0]
    kinds = {x.kind for x in a.alternatives}
    assert kinds == {"cloud", "colocation", "on-premise"} - {
        {"cloud": "cloud", "colo": "colocation", "onprem": "on-premise"}[a.best.site.kind]}
    for x in a.alternatives:
        assert x.candidate is not None
        same = [c for c in chat.ranked if c.site.kind == x.candidate.site.kind]
        assert x.candidate.usd_per_hour == min(c.usd_per_hour for c in same)


def test_identical_rows_collapse_and_every_candidate_is_kept(chat) -> None:  # type: ignore[no-untyped-def]
    """Collapsed rows have distinct figures, and rows + variants = every candidate."""
    rows = collapse(chat.ranked)
    assert len({figures(r.candidate) for r in rows}) == len(rows)
    assert sum(1 + len(r.variants) for r in rows) == len(chat.ranked)
    assert any(r.variants for r in rows)  # 3x2 vs 6x1 of the same GPUs exist here


def test_default_shortlist_is_one_row_per_hardware_type(chat) -> None:  # type: ignore[no-untyped-def]
    """The default shortlist shows the best row of each hardware type; --all shows all."""
    rows = shortlist(chat, top=10)
    hw = [r.candidate.option.hw.id for r in rows]
    assert len(hw) == len(set(hw)) and rows[0].rank == 1
    assert len(shortlist(chat, everything=True)) == len(collapse(chat.ranked))


def test_users_devices_are_per_user(device) -> None:  # type: ignore[no-untyped-def]
    """On the users' own devices: one device per user, single-stream only, billed as the
    user count, and the label shows no replicas."""
    on_dev = [c for c in device.ranked if c.site.kind == "device"]
    assert on_dev
    for c in on_dev:
        assert c.option.devices_per_replica == 1 and c.option.mode == "single-stream"
        assert c.billed_devices == device.scenario.workload.users
        assert "1 per user" in c.label and not re.search(r" x\d+ \(\d+x\d+\)", c.label)
    assert device.rejected["by_reason"]["per-user device"] > 0


def test_terminal_opens_with_the_decision(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The plan's terminal output opens with 'Recommended:' and the cheapest other kinds;
    the non-LLM example uses per-inference units and no TPOT column."""
    r = run_cli("plan", str(ROOT / "examples" / "factory-camera-inspection.yaml"))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[1].startswith("Recommended:") and "/1M inferences" in lines[1]
    assert "$/1M tok" not in r.stdout and "TPOT" not in r.stdout and "$/1M inf" in r.stdout
