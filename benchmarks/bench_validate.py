"""Benchmark `airadar validate data/calibration.csv --json`: wall time of scoring every row
with the shipped profiles (target: under 60 s), and rows scored per second.

    python benchmarks/bench_validate.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 60.0


def main() -> int:
    cmd = [sys.executable, "-m", "airadar", "validate", str(ROOT / "data" / "calibration.csv"),
           "--json"]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    res = json.loads(out)
    ok = wall < TARGET_S
    print(f"validate: {res['rows_scored']} of {res['rows_total']} rows scored in {wall:.1f} s "
          f"({res['rows_scored'] / wall:.0f} rows/s), median APE {res['median_ape']:.1%}: "
          f"{'ok' if ok else 'MISSED'} (target {TARGET_S:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
