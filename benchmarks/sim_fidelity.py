"""Simulator fidelity against the TensorRT-LLM online-serving rows of data/calibration.csv
(mean TTFT and mean ITL at each QPS; 500 requests per point, fixed lengths). Prints the median
absolute percentage error per metric and per point.

    python benchmarks/sim_fidelity.py
"""

from __future__ import annotations

import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from airadar.perf.profiles import lookup
from airadar.perf.roofline import Deployment
from airadar.sim.simulator import SimConfig, replica_model, simulate
from airadar.sim.workload import Requests, arrivals
from airadar.specs.precision import Sparsity
from airadar.validation.rows import map_rows, read_rows

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    rows = [r for r in read_rows(ROOT / "data" / "calibration.csv")
            if "online serving" in r["scenario"] and r["unit"] == "ms"]
    queries, _, _ = map_rows(rows)
    groups = defaultdict(dict)
    for q in queries:
        qps = re.search(r"QPS=(\w+)", q.scenario)
        key = (q.hw.id, q.model.id, q.count, q.input_tokens, q.output_tokens, qps.group(1) if qps else "?")
        groups[key][q.target] = q
    apes: dict[str, list[float]] = defaultdict(list)
    for (hw_id, model_id, count, inp, out, qps), qs in sorted(groups.items()):
        q = next(iter(qs.values()))
        dep = Deployment(model=q.model, hw=q.hw, precision=q.precision, sparsity=Sparsity(),
                         tp=count, pp=1)
        prof = lookup(q.hw.hw_class, q.stack, q.hw.id, q.precision.compute_dtype)
        rm = replica_model(dep, prof, mean_input=inp, mean_output=out)
        rng = np.random.default_rng(0)
        n = 500
        arr = np.zeros(n) if qps == "INF" else arrivals(kind="poisson", rate_rps=float(qps), n=n,
                                                          rng=rng)
        req = Requests(arrival_s=arr, input_tokens=np.full(n, int(inp)),
                       output_tokens=np.full(n, int(out)))
        res = simulate(req, SimConfig(replica=rm))
        pred = {"ttft_mean": res["ttft_s"]["mean"], "tpot_mean": res["tpot_s"]["mean"]}
        line = [f"{hw_id} {model_id} TP{count} QPS={qps}:"]
        for t, qq in qs.items():
            if t in pred and pred[t]:
                ape = abs(pred[t] - qq.measured) / qq.measured
                apes[t + (" (QPS=INF)" if qps == "INF" else "")].append(ape)
                line.append(f"{t} sim {pred[t] * 1e3:.0f} ms vs {qq.measured * 1e3:.0f} ms")
        print("  ".join(line))
    for k, v in sorted(apes.items()):
        print(f"{k}: median APE {statistics.median(v):.1%} over {len(v)} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
