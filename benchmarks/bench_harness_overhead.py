"""Harness overhead of `airadar bench` against a bare timing loop, measured in one run.

Target (issue #6): under 1% per measured call for calls of 1 ms or more.

The measured call is a spin of a fixed duration (deterministic, unlike real inference). The
same number of calls runs (a) in a bare ``perf_counter`` loop and (b) through the harness
(``loadgen.run_graph``: warm-up, budget checks, progress callback, one SQLite transaction
per sample). Two ratios are reported, interleaving the two loops to share machine noise:

- timed: the harness's reported mean latency / the bare loop's mean (what the harness
  adds to the numbers it reports);
- wall: harness wall time per call / bare wall time per call (what it adds to the run,
  including the store write between calls).

    python benchmarks/bench_harness_overhead.py [--calls 400]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from airadar.bench import loadgen
from airadar.bench.energy import EnergyMeter
from airadar.bench.store import Store


class Spin:
    kind = "graph"
    description: dict = {}

    def __init__(self, seconds: float) -> None:
        self.s = seconds

    def run(self, batch: int) -> None:
        end = time.perf_counter() + self.s
        while time.perf_counter() < end:
            pass


def bare(runner: Spin, n: int) -> tuple[float, float]:
    lat = []
    t0 = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        runner.run(1)
        lat.append(time.perf_counter() - t)
    return statistics.fmean(lat), (time.perf_counter() - t0) / n


def harness(runner: Spin, n: int, store: Store) -> tuple[float, float]:
    rid = store.start_run(backend="spin", model="spin", scenario="single-stream", settings={},
                          environment={})
    budget = loadgen.Budget(warmup=0, min_count=n, min_duration_s=0.0, max_count=n)
    t0 = time.perf_counter()
    res = loadgen.run_graph(runner, store, rid, scenario="single-stream", batches=[1], rate=None,
                            budget=budget, progress=lambda k: None,
                            meter=EnergyMeter(idle_s=0))
    wall = (time.perf_counter() - t0) / n
    return res["batch_1"]["mean"], wall


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=400)
    args = ap.parse_args()
    store = Store(f"sqlite:///{Path(tempfile.mkdtemp()) / 'h.sqlite'}")
    ok = True
    print(f"{'call':>7} {'timed overhead':>15} {'wall overhead':>14}")
    for ms in (1.0, 5.0, 20.0):
        runner = Spin(ms / 1e3)
        n = max(20, int(args.calls * 1.0 / ms))
        timed, wall = [], []
        for _ in range(3):  # interleave: bare, harness, bare, harness ...
            b_mean, b_wall = bare(runner, n)
            h_mean, h_wall = harness(runner, n, store)
            timed.append(h_mean / b_mean - 1)
            wall.append(h_wall / b_wall - 1)
        t, w = statistics.median(timed), statistics.median(wall)
        good = t < 0.01
        ok &= good
        print(f"{ms:>5.0f}ms {t * 100:>14.3f}% {w * 100:>13.2f}%  {'ok' if good else 'MISSED'}"
              " (target: timed < 1%)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
