"""Benchmark the simulator: 1,000,000 requests of a 7B model at moderate load on one replica.

Targets (issue #5): at most 10 s wall; peak RSS under 2 GiB with the per-request trace
written (--trace-out). Prints requests/s and exits non-zero if a target is missed.

    python benchmarks/bench_simulator.py [--trace-out /tmp/trace.csv]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

from airadar.catalog import resolve
from airadar.perf.profiles import lookup
from airadar.perf.roofline import Deployment
from airadar.sim.simulator import SimConfig, replica_model, simulate
from airadar.sim.workload import Requests, arrivals, lengths
from airadar.specs.precision import Precision, Sparsity


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--trace-out", type=Path, default=None)
    a = ap.parse_args()
    m, hw = resolve.model("llama-2-7b"), resolve.hardware("h100-sxm")
    dep = Deployment(model=m, hw=hw, precision=Precision.parse("fp16"), sparsity=Sparsity(), tp=1)
    prof = lookup("gpu", "tensorrt-llm", hw.id, "fp16")
    rm = replica_model(dep, prof, mean_input=512, mean_output=128)
    cap_rps = rm.max_batch / (float(rm.step_s[rm.max_batch]) * 128)
    rng = np.random.default_rng(0)
    n = a.requests
    t0 = time.perf_counter()
    req = Requests(arrival_s=arrivals(kind="poisson", rate_rps=0.5 * cap_rps, n=n, rng=rng),
                   input_tokens=lengths("lognormal:512:0.5", n, rng, name="i"),
                   output_tokens=lengths("lognormal:128:0.5", n, rng, name="o"))
    t1 = time.perf_counter()
    res = simulate(req, SimConfig(replica=rm), trace_out=a.trace_out)
    t2 = time.perf_counter()
    rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    ok = (t2 - t0) <= 10 and rss_gib < 2
    print(f"{n:,} requests (7B, load 50% of capacity): generate {t1 - t0:.2f} s, simulate "
          f"{t2 - t1:.2f} s, total {t2 - t0:.2f} s = {n / (t2 - t0):,.0f} requests/s; "
          f"peak RSS {rss_gib:.2f} GiB; trace {'written' if a.trace_out else 'off'}; "
          f"p99 TTFT {res['ttft_s']['p99'] * 1e3:.0f} ms; {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
