"""Harness cost of `airadar loadtest` against the scripted server (tests/loadtest/), in one run.

Targets (issue #12): the client sustains >= 300 streamed requests/s on 2 cores while adding
< 1 ms to the measured TTFT at p50.

1. Rate: open loop, constant arrivals at ``--rate`` (default 300/s), 4 tokens per request,
   every request stored in a SQLite result store as the CLI does. Reported: achieved completed
   requests/s over the measured window, how late the sends were (p50/p99), failures.
2. Added TTFT: one client at a time, the server set to TTFT 0; the client's measured TTFT p50
   minus the server's own first-chunk time (its log) is what the whole path adds: aiohttp,
   parsing, the loopback and both processes waking up. A bare asyncio-socket client on the
   same server (tests/loadtest/bare_client.py) gives the floor that the machine itself sets.

    python benchmarks/bench_loadtest_client.py [--rate 300] [--requests 900]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from airadar.bench import loadtest as lt
from airadar.bench.openai_stream import endpoint_url
from airadar.bench.store import Store

ROOT = Path(__file__).resolve().parents[1]


def _server(*args: str) -> tuple[subprocess.Popen[str], int]:
    p = subprocess.Popen([sys.executable, "-m", "tests.loadtest.scripted_server", *args],
                         cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    return p, int(p.stdout.readline().split()[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=300.0)
    ap.add_argument("--requests", type=int, default=900)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        log = Path(d) / "server.jsonl"
        proc, port = _server("--ttft-ms", "0", "--itl-ms", "1", "--log", str(log))
        try:
            url = endpoint_url(f"http://127.0.0.1:{port}", "completions")
            target = lt.Target(url=url, kind="completions", model="m")
            st = Store(f"sqlite:///{d}/lt.sqlite")
            rid = st.start_run(backend="openai-http", model="m", scenario="loadtest",
                               settings={}, environment={})

            def keep(rec: lt.RequestRecord) -> None:
                st.add_sample(rid, kind="request", value=rec.e2e_s, tokens=rec.output_tokens,
                              extra=rec.as_dict())

            arr = [i / a.rate for i in range(a.requests)]
            planned = lt.plan_requests(input_words=[16] * a.requests,
                                       output_tokens=[4] * a.requests, arrivals_s=arr)
            cpu0 = time.process_time()
            run = lt.run(target, planned, concurrency=None, bounds=lt.Bounds(warmup=5),
                         out=lt.Run(), on_record=keep)
            cpu = (time.process_time() - cpu0) / len(planned)
            s = lt.summarise_run(run.records)
            late = s["send_lateness_s"]
            print(f"rate: offered {a.rate:g}/s, completed {s['completed']}/{s['requests']} at "
                  f"{s['throughput_requests_per_s']:.0f} req/s, sends late by p50 "
                  f"{late['p50'] * 1e3:.2f} ms, p99 {late['p99'] * 1e3:.2f} ms, failed "
                  f"{s['failed']}; client CPU {cpu * 1e3:.2f} ms per request (store write included)")
            log.write_text("")
            one = lt.run(target, planned[:200], concurrency=1, bounds=lt.Bounds(warmup=5),
                         out=lt.Run())
            truth = statistics.median(json.loads(x)["ttft_s"]
                                      for x in log.read_text().splitlines()[-200:])
            meas = statistics.median(r.ttft_s for r in one.records if r.ttft_s is not None)
            bare = float(subprocess.run(
                [sys.executable, "-m", "tests.loadtest.bare_client", str(port), "200"], cwd=ROOT,
                capture_output=True, text=True, check=True).stdout)
            print(f"added TTFT at p50: {(meas - truth) * 1e3:.2f} ms (measured "
                  f"{meas * 1e3:.2f} ms, server's first chunk at {truth * 1e3:.2f} ms); bare "
                  f"asyncio socket client: {bare * 1e3:.2f} ms")
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
