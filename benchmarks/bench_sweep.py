"""Benchmark `airadar sweep` (issue #13): futures per second with 1 and 2 workers, on local
worker processes and as Ray tasks on a local Ray instance, all measured in one run on the
same scenario, seed and futures, plus the Ray overhead per future.

The performance table of the scenario (the slow, once-per-sweep part) is built once and
given to every configuration, so the rates compare the futures loop itself: pool or Ray
start-up, shipping the plan to the workers, evaluating and storing every future (a fresh
SQLite store per configuration). Every configuration must give the same answer.

    python benchmarks/bench_sweep.py [--futures 2000] [--scenario examples/eu-support-chat.yaml]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARY = {"workload.peak_rps": "lognormal:25:0.35",
        "financial.electricity_price_multiplier": "uniform:0.8:1.6",
        "financial.cloud_price_multiplier": "triangular:0.7:1.0:1.2",
        "financial.purchase_price_multiplier": "uniform:0.85:1.3"}


def one(config: str, workers: int, futures: int, scenario: str, tables: str) -> dict:
    """Run one configuration in this (fresh) process; returns its execution block and a
    digest of the answer."""
    import hashlib
    import pickle

    from airadar.distributed.sweep_run import run_sweep
    from airadar.specs.scenario import load_scenario
    from airadar.sweep.future import make_plan
    from airadar.sweep.spec import build_spec

    sc = load_scenario(scenario)
    spec = build_spec(None, futures=futures, seed=1, vary=VARY, scenario=sc)
    plan = make_plan(sc, spec, None)
    plan.tables.update(pickle.loads(Path(tables).read_bytes()))
    if config == "ray":
        import logging

        import ray

        from airadar.distributed.ray_exec import RayExecutor
        ray.init(num_cpus=workers, include_dashboard=False, logging_level=logging.ERROR,
                 log_to_driver=False)
        ex = RayExecutor("auto")
    else:
        from airadar.distributed.local import LocalExecutor
        ex = LocalExecutor(workers)
    with tempfile.TemporaryDirectory() as d:
        res = run_sweep(plan, ex, store_url=f"sqlite:///{d}/s.db", workers=workers)
    digest = hashlib.sha256(json.dumps(res.answer, sort_keys=True).encode()).hexdigest()[:12]
    return {**res.execution, "answer": digest,
            "robust_choice": res.answer["robust_choice"]["label"]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--futures", type=int, default=2000)
    ap.add_argument("--scenario", default=str(ROOT / "examples" / "eu-support-chat.yaml"))
    ap.add_argument("--rounds", type=int, default=2, help="runs per configuration (ABBA order)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--tables", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(one(a.child[0], int(a.child[1]), int(a.child[2]), a.scenario, a.tables)))
        return 0
    import pickle

    from airadar.specs.scenario import load_scenario
    from airadar.sweep.future import build_table, make_plan
    from airadar.sweep.spec import build_spec

    sc = load_scenario(a.scenario)
    plan = make_plan(sc, build_spec(None, futures=a.futures, seed=1, vary=VARY, scenario=sc), None)
    t0 = time.perf_counter()
    tables = {k: build_table(s, None) for k, s in plan.perf_scenarios.items()}
    t_tables = time.perf_counter() - t0
    print(f"{sc.name}: {a.futures} futures, seed 1, {len(VARY)} inputs varied + prediction "
          f"intervals; performance table built once in {t_tables:.1f} s "
          f"({sum(len(t.options) for t in tables.values())} options); {os.cpu_count()} cores")
    try:
        import ray  # noqa: F401
        configs = [("local", 1), ("ray", 1), ("local", 2), ("ray", 2)]
    except ImportError:
        print("ray: not installed (pip install 'airadar[ray]'); Ray rows skipped")
        configs = [("local", 1), ("local", 2)]
    # ABBA order, repeated: the machine's load drifts, so each configuration runs early and late
    order = [c for r in range(a.rounds) for c in (configs if r % 2 == 0 else configs[::-1])]
    runs: dict[tuple[str, int], list[dict]] = {}
    with tempfile.NamedTemporaryFile(suffix=".pkl") as fh:
        fh.write(pickle.dumps(tables))
        fh.flush()
        for config, w in order:
            r = subprocess.run([sys.executable, __file__, "--scenario", a.scenario,
                                "--tables", fh.name, "--child", config, str(w),
                                str(a.futures)], capture_output=True, text=True,
                               env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
            if r.returncode != 0:
                print(f"{config} x{w}: FAILED {r.stderr.strip().splitlines()[-1:]}")
                return 1
            ex = json.loads(r.stdout.strip().splitlines()[-1])
            runs.setdefault((config, w), []).append(ex)
            busy = ex["seconds"]["worker_busy"] / ex["futures_computed"] * 1e3
            cpu = ex["seconds"]["worker_cpu"] / ex["futures_computed"] * 1e3
            print(f"{config:5s} {w} worker{'s' if w > 1 else ' '}: {ex['futures_per_s']:6.1f} "
                  f"futures/s  (loop {ex['seconds']['futures']:6.1f} s; in the workers "
                  f"{busy:5.1f} ms wall, {cpu:5.1f} ms CPU per future; load "
                  f"{os.getloadavg()[0]:.1f}; answer {ex['answer']})")
    rows = {k: {**v[0], "futures_per_s": sum(x["futures_per_s"] for x in v) / len(v)}
            for k, v in runs.items()}
    digests = {x["answer"] for v in runs.values() for x in v}
    print(f"mean of {a.rounds} runs per configuration:")
    print(f"  same answer in every run: {'yes' if len(digests) == 1 else 'NO'} "
          f"(robust choice: {next(iter(rows.values()))['robust_choice']})")
    for config in ("local", "ray"):
        if (config, 1) in rows and (config, 2) in rows:
            print(f"  {config}: 2 workers / 1 worker = "
                  f"{rows[(config, 2)]['futures_per_s'] / rows[(config, 1)]['futures_per_s']:.2f}x")
    for w in (1, 2):
        if ("local", w) in rows and ("ray", w) in rows:
            lo, ra = rows[("local", w)], rows[("ray", w)]
            over = (1 / ra["futures_per_s"] - 1 / lo["futures_per_s"]) * 1e3
            print(f"  Ray overhead with {w} worker{'s' if w > 1 else ''}: {over:+.2f} ms per future "
                  f"(Ray {ra['futures_per_s']:.1f} vs local {lo['futures_per_s']:.1f} futures/s)")
    print(f"(the load average is shown per run: on a {os.cpu_count()}-core machine shared with "
          "other processes, ratios measure what the cores had free as much as airadar)")
    return 0 if len(digests) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
