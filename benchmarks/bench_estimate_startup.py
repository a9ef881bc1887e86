"""Benchmark `airadar estimate --json` wall time including interpreter start-up.

Target (issue #2): under 0.5 s. Runs 7 times and prints the median.

    python benchmarks/bench_estimate_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def main() -> int:
    cmd = [sys.executable, "-m", "airadar", "estimate", "--model", "llama-3.1-70b", "--hardware",
           "h100", "--count", "4", "--precision", "fp8", "--json"]
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(f"estimate --json: median {med * 1e3:.0f} ms over {len(times)} runs "
          f"(min {min(times) * 1e3:.0f} ms) {'ok' if med < 0.5 else 'MISSED'} (target 500 ms)")
    return 0 if med < 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
