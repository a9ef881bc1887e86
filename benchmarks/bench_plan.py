"""Benchmark `airadar plan` on every shipped example over the full catalog.

Targets (issue #4): under 5 s wall per example including start-up, and at least 100,000
candidates scored per second in the inner (scoring) loop. Prints one line per example and
exits non-zero if a target is missed.

    python benchmarks/bench_plan.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ok = True
    for ex in sorted((ROOT / "examples").glob("*.yaml")):
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "airadar", "plan", str(ex), "--json"],
                           capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if r.returncode != 0:
            print(f"{ex.stem}: FAILED {r.stderr.strip()}")
            ok = False
            continue
        st = json.loads(r.stdout)["stats"]
        rate = st["candidates_per_second"]
        good = wall < 5.0 and rate >= 100_000
        ok &= good
        print(f"{ex.stem:32s} wall {wall:5.2f} s  candidates {st['candidates_scored']:7,d}  "
              f"scoring {rate:12,.0f}/s  perf {st['seconds']['perf']:.2f} s  "
              f"{'ok' if good else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
