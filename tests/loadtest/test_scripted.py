"""``airadar loadtest`` against the scripted server (tests/loadtest/scripted_server.py): timing
truth, load shapes, failures, the store, the JSON contract. Only 127.0.0.1 traffic."""

from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytest.importorskip("aiohttp")
pytest.importorskip("sqlalchemy")

TTFT_S, ITL_S = 0.080, 0.015


def _within(measured: float, truth: float) -> bool:
    """The issue's bar: within 2 ms or 3% of the truth, whichever is wider."""
    return abs(measured - truth) <= max(0.002, 0.03 * truth)


def _lt(url: str, tmp_path: Path, *args: str) -> tuple[int, dict, str]:
    r = run_cli("loadtest", "--url", url, "--model", "scripted", "--store",
                str(tmp_path / "lt.sqlite"), "--json", *args)
    return r.returncode, (json.loads(r.stdout) if r.stdout.strip() else {}), r.stderr


def test_timing_matches_the_scripted_delays(scripted, tmp_path: Path) -> None:
    """TTFT, ITL and TPOT p50 within 2 ms or 3% of the truth. The scripted server aims at TTFT
    80 ms and 15 ms per token and logs when each chunk actually left: that is the truth for ITL
    and TPOT. For TTFT the truth a client can see also holds the loopback and both processes
    waking up, which a loaded machine stretches by milliseconds: a bare asyncio-socket client
    (tests/loadtest/bare_client.py) measures it right after, on the same server. Both ends run
    ahead of other jobs when root may raise their priority; the best of three runs is held to
    the bar, so a bias of the harness fails all three. The bar is the issue's for a 2-core
    machine, not for one oversubscribed by other jobs: above 1.5 runnable tasks per core
    (1-minute load average) the test is skipped, saying so (there httpx, the client before
    aiohttp, measured 3-5 ms over the bare client, against about 1 ms at a load below 3)."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > 1.5 * cores:
        pytest.skip(f"machine oversubscribed (load average {load:.1f} on {cores} cores): "
                    "the timing bar needs the cores mostly free")

    log = tmp_path / "server.jsonl"
    s = scripted("--ttft-ms", "80", "--itl-ms", "15", "--log", str(log))
    boost = os.geteuid() == 0
    nice = ["nice", "-n", "-10"] if boost else []
    if boost:
        os.setpriority(os.PRIO_PROCESS, s.proc.pid, -10)
    attempts = []
    for _ in range(3):
        log.write_text("")
        r = subprocess.run(
            [*nice, sys.executable, "-m", "airadar", "loadtest", "--url", s.url, "--model",
             "scripted", "--store", str(tmp_path / "lt.sqlite"), "--json", "--concurrency", "1",
             "-n", "20", "-o", "12", "-i", "16", "--warmup", "2"],
            capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        res = json.loads(r.stdout)
        assert res["completed"] == 20 and res["failed"] == 0
        assert res["output_tokens_source"] == ["usage"] and res["output_length_reached_share"] == 1
        sent = [json.loads(x) for x in log.read_text().splitlines()][-20:]  # after the warm-up
        true_itl = statistics.median(g for x in sent for g in x["itl_s"])
        assert _within(statistics.median(x["ttft_s"] for x in sent), TTFT_S)
        assert _within(true_itl, ITL_S), true_itl
        bare = subprocess.run([*nice, sys.executable, "-m", "tests.loadtest.bare_client",
                               str(s.port), "20", "12"], cwd=ROOT, capture_output=True,
                              text=True, timeout=60, check=True)
        true_ttft = float(bare.stdout)
        assert abs(true_ttft - TTFT_S) < 0.1 * TTFT_S, true_ttft  # the machine, within reason
        got = (res["ttft_s"]["p50"], res["itl_s"]["p50"], res["tpot_s"]["p50"])
        attempts.append({"measured": got, "truth": (true_ttft, true_itl)})
        if (_within(got[0], true_ttft) and _within(got[1], true_itl)
                and _within(got[2], true_itl)):
            return
    pytest.fail(f"no run within 2 ms or 3% of the truth: {attempts}")


def test_contract_fields(scripted, tmp_path: Path) -> None:
    """The DESIGN.md loadtest contract: counts, four latency objects, throughput, goodput."""
    s = scripted("--ttft-ms", "5", "--itl-ms", "1")
    rc, res, err = _lt(s.url, tmp_path, "--rate", "50", "-n", "30", "-o", "4")
    assert rc == 0, err
    assert {"requests", "completed", "failed", "throughput_output_tokens_per_s",
            "goodput_requests_per_s"} <= set(res)
    for k in ("ttft_s", "itl_s", "tpot_s", "e2e_s"):
        assert set(res[k]) >= {"p50", "p90", "p99", "mean"}
    assert res["requests"] == 30 and res["completed"] == 30
    assert res["throughput_output_tokens_per_s"] > 0


def test_chat_endpoint_counts_chunks_without_usage(scripted, tmp_path: Path) -> None:
    """Without a usage event the output tokens are the chunks that carried text."""
    s = scripted("--ttft-ms", "5", "--itl-ms", "2", "--no-usage")
    rc, res, err = _lt(s.url, tmp_path, "--endpoint", "chat", "-c", "2", "-n", "6", "-o", "7")
    assert rc == 0, err
    assert res["output_tokens_source"] == ["chunks"] and res["output_tokens_mean"] == 7


def test_events_split_across_reads_are_joined(scripted, tmp_path: Path) -> None:
    """CRLF line ends and events cut in two mid-JSON: every request completes, with all its
    chunks, and each chunk is timed when its second half arrives (TTFT >= the server's)."""
    s = scripted("--ttft-ms", "10", "--itl-ms", "5", "--ragged")
    from airadar.bench import loadtest as lt
    from airadar.bench.openai_stream import endpoint_url

    for kind in ("completions", "chat"):
        t = lt.Target(url=endpoint_url(s.url, kind), kind=kind, model="m")
        run = lt.run(t, lt.plan_requests(input_words=[4] * 3, output_tokens=[6] * 3),
                     concurrency=1, bounds=lt.Bounds(warmup=0), out=lt.Run())
        assert [r.error for r in run.records] == [None] * 3
        assert all(r.output_tokens == 6 and r.tokens_source == "usage" and len(r.itl_s) == 5
                   and r.finish_reason == "length" for r in run.records)
        assert all(r.ttft_s is not None and r.ttft_s >= 0.011 for r in run.records)


def test_ignore_eos_is_detected_not_assumed(scripted, tmp_path: Path) -> None:
    """A server that refuses ignore_eos gets requests without it; the result says so."""
    s = scripted("--ttft-ms", "2", "--itl-ms", "1", "--refuse-ignore-eos")
    rc, res, err = _lt(s.url, tmp_path, "-c", "1", "-n", "3", "-o", "3")
    assert rc == 0, err
    assert res["probe"]["ignore_eos"] is False and res["completed"] == 3
    assert res["probe"]["refused"] == [{"ignore_eos": True, "include_usage": True}]


def test_constant_rate_sends_on_schedule(scripted, tmp_path: Path) -> None:
    """Constant arrivals at 20 req/s: sends 50 ms apart, each within a few ms of its time."""
    s = scripted("--ttft-ms", "2", "--itl-ms", "1")
    rc, res, err = _lt(s.url, tmp_path, "--rate", "20", "--arrivals", "constant", "-n", "20",
                       "-o", "2")
    assert rc == 0, err
    assert res["send_lateness_s"]["p50"] < 0.005
    from airadar.bench.store import Store

    st = Store(f"sqlite:///{tmp_path / 'lt.sqlite'}")
    sent = sorted(x["extra"]["sent_at_s"] for x in st.get_samples(res["run_id"]))
    gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
    assert abs(statistics.median(gaps) - 0.05) < 0.003


def test_rate_sweep_finds_the_highest_rate_within_the_slo(scripted, tmp_path: Path) -> None:
    """A TTFT limit below the server's TTFT is broken at the first rate; a loose one is met by
    every rate tried."""
    s = scripted("--ttft-ms", "30", "--itl-ms", "1")
    rc, res, err = _lt(s.url, tmp_path, "--rate", "5,10", "-n", "8", "-o", "2",
                       "--ttft-p99-ms", "10")
    assert res["sweep"]["max_rate_within_slo"] is None
    assert res["sweep"]["first_rate_breaking_slo"] == 5 and len(res["points"]) == 1
    rc, res, err = _lt(s.url, tmp_path, "--rate", "5,10", "-n", "8", "-o", "2",
                       "--ttft-p99-ms", "500", "--tpot-p99-ms", "100")
    assert rc == 0, err
    assert res["sweep"]["max_rate_within_slo"] == 10 and len(res["points"]) == 2


def test_trace_replay_uses_the_trace_lengths(scripted, tmp_path: Path) -> None:
    """A trace in the simulate format sets each request's arrival and max_tokens."""
    tr = tmp_path / "t.csv"
    tr.write_text("arrival_s,input_tokens,output_tokens\n0.0,8,3\n0.05,8,5\n0.1,16,7\n")
    s = scripted("--ttft-ms", "2", "--itl-ms", "1")
    rc, res, err = _lt(s.url, tmp_path, "--trace", str(tr))
    assert rc == 0, err
    assert res["completed"] == 3 and res["output_tokens_mean"] == 5


def test_connection_refused_is_one_line(tmp_path: Path) -> None:
    """A dead endpoint: one clear line, exit 2, no traceback."""
    import socket

    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    rc, _, err = _lt(f"http://127.0.0.1:{port}", tmp_path, "-n", "2")
    assert rc == 2 and "cannot connect" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("status", ["404", "500"])
def test_error_status_is_one_line(scripted, tmp_path: Path, status: str) -> None:
    """A 4xx/5xx on the probe: one line naming the status and the server's message."""
    s = scripted("--status", status)
    rc, _, err = _lt(s.url, tmp_path, "-n", "2")
    assert rc == 2 and f"HTTP {status}" in err and "scripted failure" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("args,allowed", [
    (("--rate", "-1"), "--rate"), (("--url", "ftp://x"), "--url"),
    (("--concurrency", "0"), "--concurrency"), (("--rate", "1", "-c", "2"), "at most one"),
    (("--deployment", "colour=red"), "--deployment")])
def test_bad_input_is_one_line(tmp_path: Path, args: tuple[str, ...], allowed: str) -> None:
    """Bad options: exit 2 and one line naming the option, before any traffic."""
    base = ["loadtest", "--model", "m", "--store", str(tmp_path / "x.sqlite")]
    if "--url" not in args:
        base += ["--url", "http://127.0.0.1:9"]
    r = run_cli(*base, *args)
    assert r.returncode == 2 and allowed in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_stream_cut_mid_answer_is_counted(scripted, tmp_path: Path) -> None:
    """A stream that stops after 3 chunks is a failed request with its reason; exit 1."""
    s = scripted("--ttft-ms", "2", "--itl-ms", "1", "--cut-after", "3")
    from airadar.bench import loadtest as lt
    from airadar.bench.openai_stream import endpoint_url

    t = lt.Target(url=endpoint_url(s.url, "completions"), kind="completions", model="m")
    run = lt.run(t, lt.plan_requests(input_words=[4] * 3, output_tokens=[8] * 3),
                 concurrency=1, bounds=lt.Bounds(warmup=0), out=lt.Run())
    summ = lt.summarise_run(run.records)
    assert summ["failed"] == 3 and summ["completed"] == 0
    assert all("stream cut after 3 chunks" in r.error for r in run.records)


def test_hanging_server_times_out(scripted, tmp_path: Path) -> None:
    """A server that never answers: each request ends at --timeout as a counted failure."""
    s = scripted("--hang")
    from airadar.bench import loadtest as lt
    from airadar.bench.openai_stream import endpoint_url

    t = lt.Target(url=endpoint_url(s.url, "completions"), kind="completions", model="m",
                  timeout_s=0.3)
    t0 = time.perf_counter()
    run = lt.run(t, lt.plan_requests(input_words=[4] * 2, output_tokens=[4] * 2),
                 concurrency=2, bounds=lt.Bounds(warmup=0), out=lt.Run())
    assert time.perf_counter() - t0 < 5
    assert len(run.records) == 2 and all(r.error.startswith("timeout") for r in run.records)


def test_server_killed_mid_run_keeps_finished_requests(scripted, tmp_path: Path) -> None:
    """Kill the server during a run: the requests finished before are in the result and the
    store; the rest are counted as failed; exit 1, no traceback."""
    s = scripted("--ttft-ms", "20", "--itl-ms", "5")
    db = tmp_path / "lt.sqlite"

    def kill_after_five_stored() -> None:
        import sqlite3

        end = time.monotonic() + 60
        while time.monotonic() < end:
            time.sleep(0.05)
            try:
                with sqlite3.connect(db) as c:
                    n = c.execute("select count(*) from samples where kind='request'").fetchone()[0]
            except sqlite3.OperationalError:  # the store is not created yet
                continue
            if n >= 5:
                break
        s.proc.kill()

    threading.Thread(target=kill_after_five_stored, daemon=True).start()
    rc, res, err = _lt(s.url, tmp_path, "--rate", "10", "--arrivals", "constant", "-n", "60",
                       "-o", "4", "--timeout", "2")
    assert rc == 1, err
    assert "Traceback" not in err
    assert 5 <= res["completed"] < 60 and res["failed"] == 60 - res["completed"]
    from airadar.bench.store import Store

    st = Store(f"sqlite:///{tmp_path / 'lt.sqlite'}")
    samples = st.get_samples(res["run_id"])
    assert len(samples) == 60
    assert sum(1 for x in samples if x["extra"]["ok"]) == res["completed"]


def test_html_page_is_self_contained_and_escaped(scripted, tmp_path: Path) -> None:
    """--html writes one file with plotly embedded and the three figures; user text escaped."""
    s = scripted("--ttft-ms", "3", "--itl-ms", "1")
    page = tmp_path / "lt.html"
    rc, res, err = _lt(s.url, tmp_path, "-c", "1,2", "-n", "6", "-o", "3", "--html", str(page),
                       "--description", "<script>alert(1)</script>")
    assert rc == 0, err
    text = page.read_text()
    for fid in ("distributions", "curve", "timeline"):
        assert f'id="fig-{fid}"' in text
    assert "<script src=" not in text and "plotly" in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>alert(1)</script>" not in text


def test_api_key_is_sent_but_never_stored_or_printed(scripted, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The key from --api-key-env reaches neither the output nor the store."""
    s = scripted("--ttft-ms", "2", "--itl-ms", "1", "--require-key", "sk-very-secret-123")
    rc, _, err = _lt(s.url, tmp_path, "-n", "2", "-o", "2")
    assert rc == 2 and "HTTP 401" in err
    monkeypatch.setenv("LT_SECRET", "sk-very-secret-123")
    rc, res, err = _lt(s.url, tmp_path, "-n", "2", "-o", "2", "--api-key-env", "LT_SECRET")
    assert rc == 0, err
    assert "sk-very-secret" not in json.dumps(res) + err
    assert b"sk-very-secret" not in (tmp_path / "lt.sqlite").read_bytes()
    assert res["points"][0]["completed"] == 2


def _stored_requests(db: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(db) as c:
            return int(c.execute("select count(*) from samples where kind='request'").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_ctrl_c_keeps_every_finished_request(scripted, tmp_path: Path) -> None:
    """SIGINT mid-run: exit 130, the JSON reports what finished, the store has it all."""
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import ROOT

    s = scripted("--ttft-ms", "20", "--itl-ms", "20")
    db = tmp_path / "lt.sqlite"
    env = {**os.environ, "AIRADAR_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "airadar", "loadtest", "--url", s.url,
                             "--model", "m", "-c", "2", "-n", "200", "-o", "5", "--store",
                             str(db), "--json"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            # Ctrl-C's default action even where SIGINT was inherited ignored
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    end = time.monotonic() + 60
    while _stored_requests(db) < 4 and time.monotonic() < end and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    res = json.loads(out)
    assert res["status"] == "interrupted" and res["completed"] >= 4
    from airadar.bench.store import Store

    samples = Store(f"sqlite:///{db}").get_samples(res["run_id"])
    assert sum(1 for x in samples if x["extra"]["ok"]) == res["completed"]
    assert len(samples) == res["requests"]  # the cut-off requests are kept, as failed


def test_gamma_bursts_are_stored_with_their_shape(scripted, tmp_path: Path) -> None:
    """Gamma arrivals (coefficient of variation 3): the run's load shape is in the store, with
    the endpoint and the client host; no API key is recorded."""
    s = scripted("--ttft-ms", "2", "--itl-ms", "1")
    rc, res, err = _lt(s.url, tmp_path, "--rate", "40", "--arrivals", "gamma", "--burstiness",
                       "3", "-n", "20", "-o", "2", "--description", "gamma test")
    assert rc == 0, err
    from airadar.bench.store import Store

    run = next(r for r in Store(f"sqlite:///{tmp_path / 'lt.sqlite'}").list_runs()
               if r["id"] == res["run_id"])
    st = run["settings"]
    assert st["load"] == {"shape": "gamma", "rate": 40.0, "burstiness": 3.0}
    assert st["url"] == f"{s.url}/v1/completions" and st["client_host"]
    assert st["description"] == "gamma test" and st["api_key"] == "none"
    assert run["backend"] == "openai-http" and run["scenario"] == "loadtest"


def test_postgresql_store(scripted, tmp_path: Path, postgres_url: str) -> None:
    """--store postgresql://...: every request lands in PostgreSQL, read back by the store."""
    s = scripted("--ttft-ms", "2", "--itl-ms", "1")
    r = run_cli("loadtest", "--url", s.url, "--model", "m", "-c", "2", "-n", "6", "-o", "3",
                "--store", postgres_url, "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["store"].startswith("postgresql+psycopg://")
    from airadar.bench.store import Store

    samples = Store(postgres_url).get_samples(res["run_id"])
    assert len(samples) == 6 and all(x["extra"]["ok"] for x in samples)
