"""Sweeps on local worker processes: deterministic whatever the worker count, written to the
store as they finish, resumable after Ctrl-C without redoing finished futures."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.distributed.conftest import answer_of, stored_rows, write_small


def test_two_workers_give_the_one_worker_answer(tmp_path: Path, reference: dict[str, Any]) -> None:
    """Same seed, same answer with 1 and 2 worker processes (every figure, every candidate)."""
    r = run_cli("sweep", str(write_small(tmp_path)), "--workers", "2", "--store",
                str(tmp_path / "two.db"), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["execution"]["workers"] == 2 and out["execution"]["futures_computed"] == 120
    assert answer_of(r.stdout) == reference
    assert reference["futures_evaluated"] == 120 and reference["robust_choice"]["label"]


def test_another_seed_gives_another_answer(tmp_path: Path, reference: dict[str, Any]) -> None:
    """The comparison above can fail: a different seed changes the figures."""
    r = run_cli("sweep", str(write_small(tmp_path)), "--workers", "1", "--seed", "4", "--store",
                str(tmp_path / "s4.db"), "--json")
    assert r.returncode == 0, r.stderr
    assert answer_of(r.stdout)["candidates"] != reference["candidates"]


def test_ctrl_c_then_resume_redoes_nothing(tmp_path: Path) -> None:
    """SIGINT mid-sweep: exit 130 with one line, finished futures kept; the same command
    completes the sweep computing only the missing futures, and the answer equals an
    uninterrupted run's."""
    n = "1500"
    scen = write_small(tmp_path)
    db = tmp_path / "int.db"
    cmd = [sys.executable, "-m", "airadar", "sweep", str(scen), "--futures", n, "--workers", "2",
           "--store", str(db), "--json"]
    # Ctrl-C's default action in the child even when this run inherited SIGINT ignored (a
    # background job of a shell without job control), as tests/bench/test_bench.py does
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 240
    while len(stored_rows(db)) < 60:
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline, "no futures stored in time"
        time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert err.strip().startswith("interrupted:") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    first = dict(stored_rows(db))
    assert 60 <= len(first) < int(n)
    r = run_cli("sweep", str(scen), "--futures", n, "--workers", "2", "--store", str(db), "--json")
    assert r.returncode == 0, r.stderr
    ex = json.loads(r.stdout)["execution"]
    assert ex["futures_reused"] == len(first)
    assert ex["futures_computed"] == int(n) - len(first)
    after = dict(stored_rows(db))
    assert len(after) == int(n)
    # the futures finished before Ctrl-C were not recomputed: their rows are untouched
    assert all(after[i] == a for i, a in first.items())
    assert len(set(after.values())) == 2
    ref = run_cli("sweep", str(scen), "--futures", n, "--workers", "2", "--store",
                  str(tmp_path / "ref.db"), "--json")
    assert answer_of(r.stdout) == answer_of(ref.stdout)


def test_store_write_is_idempotent(tmp_path: Path) -> None:
    """Writing a future twice (a retried task) keeps the first row and counts it once."""
    from airadar.distributed.store import SweepStore

    st = SweepStore(f"sqlite:///{tmp_path / 'i.db'}")
    st.begin("s1", scenario="x", spec={})
    assert st.put("s1", [(0, {"i": 0, "v": 1}), (1, {"i": 1, "v": 1})], host="a", attempt="a1",
                  seconds=1.0) == 2
    assert st.put("s1", [(1, {"i": 1, "v": 2}), (2, {"i": 2, "v": 2})], host="b", attempt="a2",
                  seconds=1.0) == 1
    assert [r["v"] for r in st.load("s1", 10)] == [1, 1, 2]
    assert st.done("s1") == {0, 1, 2}


@pytest.mark.usefixtures("reference")
def test_html_report_has_robustness_and_tornado(tmp_path: Path) -> None:
    """--out writes a self-contained page with the robust choice and the tornado chart."""
    out = tmp_path / "rep"
    r = run_cli("sweep", str(write_small(tmp_path)), "--futures", "40", "--workers", "1",
                "--store", str(tmp_path / "h.db"), "--out", str(out))
    assert r.returncode == 0, r.stderr
    page = (out / "index.html").read_text()
    assert "Robust choice:" in page and 'id="fig-tornado"' in page and "<script" in page
    assert "<script src=" not in page  # plotly is embedded, nothing is fetched
    assert json.loads((out / "sweep.json").read_text())["futures_evaluated"] == 40


def test_simulate_top_k_runs_the_simulator_per_future(tmp_path: Path) -> None:
    """--simulate-top K: the serving simulator runs a full day of each future's traffic on its
    top K candidates; their simulated SLO miss probability is reported."""
    scen = tmp_path / "low.yaml"
    text = write_small(tmp_path).read_text()
    scen.write_text(text.replace("peak_rps: 25", "peak_rps: 1").replace("average_rps: 8",
                    "average_rps: 0.25").replace("lognormal:25:0.3", "lognormal:1:0.3")
                    .replace("[rtx-4090, l40s, h100-sxm]", "[rtx-4090, l40s]"))
    r = run_cli("sweep", str(scen), "--futures", "3", "--simulate-top", "1", "--workers", "1",
                "--store", str(tmp_path / "sim.db"), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    sim = [c for c in out["candidates"] if c["futures_simulated"]]
    assert sum(c["futures_simulated"] for c in sim) == 3
    assert all(c["slo_miss_probability_simulated"] in (0.0, 1 / 3, 2 / 3, 1.0) for c in sim)
    import sqlite3

    with sqlite3.connect(tmp_path / "sim.db") as c:
        first = json.loads(c.execute("select result from sweep_futures where idx = 0").fetchone()[0])
    (s,) = first["sim"].values()
    # a full day: the daily curve's area x peak x 3600 s (here a flat 0.25 of peak)
    assert s["requests"] == pytest.approx(0.25 * first["inputs"]["workload.peak_rps"] * 86400,
                                          rel=0.01)
    assert s["ttft_p99_ms"] > 0 and s["tpot_p99_ms"] > 0


def test_grid_points_share_each_draw(tmp_path: Path) -> None:
    """Futures i = draw x G + grid point: the G grid points of one draw see the same traffic,
    prices and speeds, so a grid field that cannot change the robust choice's cost (the site
    list, when its site is in every list) shows no swing, while the TPOT limit is compared
    on the same futures."""
    scen = write_small(tmp_path, "  grid:\n    workload.slo.tpot_p99_ms: [40, 80]\n"
                                 "    candidates.sites: [[onprem-fi, onprem-de, nebius-fi], all]\n")
    r = run_cli("sweep", str(scen), "--futures", "40", "--workers", "2", "--store",
                str(tmp_path / "g.db"), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out["execution"]["perf_tables"]) == 2  # one per TPOT limit, not per site list
    import sqlite3

    with sqlite3.connect(tmp_path / "g.db") as c:
        res = [json.loads(x[0]) for x in c.execute("select result from sweep_futures order by idx")]
    drawn = "workload.peak_rps"
    for k in range(10):
        group = res[4 * k:4 * k + 4]
        assert len({g["inputs"][drawn] for g in group}) == 1
        assert sorted(g["grid"] for g in group) == [0, 1, 2, 3]
    assert len({res[4 * k]["inputs"][drawn] for k in range(10)}) == 10
    assert out["robust_choice"]["label"].split(" @ ")[1].split(" ")[0] in (
        "onprem-fi", "onprem-de", "nebius-fi")
    sens = {s["input"]: s for s in out["sensitivity"]}
    assert sens["candidates.sites"]["swing_usd_per_month"] == 0.0
    assert sens["workload.slo.tpot_p99_ms"]["kind"] == "grid"
