"""Do repeated runs of the same bench agree within the spread each run reports?

Target (issue #6): on an idle machine, yes. Runs each bench ``--repeats`` times as separate
processes (a fresh model load each time) and compares every pair of runs: two runs agree
when their means differ by no more than the sum of their reported standard deviations.

    python benchmarks/bench_repeatability.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

BENCHES = [
    ("onnxruntime paraphrase-MiniLM-L3-v2, single-stream",
     ["-b", "onnxruntime", "-m", "paraphrase-minilm-l3-v2"], "onnxruntime",
     lambda r: [("latency", r["batch_1"])]),
    ("llama.cpp SmolLM2-135M Q4_1, 128 in / 32 out",
     ["-b", "llamacpp", "-m", "smollm2-135m", "--no-quality", "-i", "128", "-o", "32"],
     "llama_cpp",
     lambda r: [("TTFT", r["batch_1"]["ttft_s"]), ("TPOT", r["batch_1"]["tpot_s"])]),
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-duration", type=float, default=5.0)
    args = ap.parse_args()
    db = Path(tempfile.mkdtemp()) / "rep.sqlite"
    failures = 0
    for title, cli, module, metrics in BENCHES:
        if importlib.util.find_spec(module) is None:
            print(f"{title}: skipped ({module} not installed)")
            continue
        runs = []
        for _ in range(args.repeats):
            r = subprocess.run([sys.executable, "-m", "airadar", "bench", *cli, "--min-duration",
                                str(args.min_duration), "--min-count", "20", "--store", str(db),
                                "--json"], capture_output=True, text=True)
            if r.returncode:
                print(f"{title}: {r.stderr.strip()}")
                break
            runs.append(metrics(json.loads(r.stdout)["results"]))
        if len(runs) < 2:
            continue
        for k, (name, _) in enumerate(runs[0]):
            means = [run[k][1]["mean"] for run in runs]
            sds = [run[k][1]["stdev"] for run in runs]
            worst = max(abs(means[i] - means[j]) / (sds[i] + sds[j])
                        for i, j in itertools.combinations(range(len(runs)), 2))
            ok = worst <= 1.0
            failures += not ok
            print(f"{title} {name}: means {', '.join(f'{m * 1e3:.3f}' for m in means)} ms; "
                  f"stdev {', '.join(f'{s * 1e3:.3f}' for s in sds)} ms; worst pair gap = "
                  f"{worst:.2f} x summed stdev {'ok' if ok else 'MISSED'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
