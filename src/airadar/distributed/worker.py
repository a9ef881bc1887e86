"""The unit of work every executor runs: evaluate a chunk of futures and write them to the
store in one transaction. The per-process state (the plan's evaluator and an open store) is
kept between chunks of the same sweep, in this worker process only."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from airadar.distributed.store import SweepStore
from airadar.sweep.future import Evaluator, SweepPlan


class ChunkRunner:
    """Evaluates chunks of one sweep in this process."""

    def __init__(self, plan: SweepPlan, store_url: str) -> None:
        self.evaluator = Evaluator(plan)
        self.store = SweepStore(store_url)
        self.sweep_id = plan.sweep_id
        self.host = f"{socket.gethostname()}:{os.getpid()}"

    def run(self, indices: list[int], attempt: str) -> tuple[int, int, float, float]:
        """(futures evaluated, rows newly written, wall seconds, CPU seconds of this process)."""
        t0, c0 = time.perf_counter(), time.process_time()
        rows: list[tuple[int, dict[str, Any]]] = [(i, self.evaluator.evaluate(i)) for i in indices]
        new = self.store.put(self.sweep_id, rows, host=self.host, attempt=attempt,
                             seconds=time.perf_counter() - t0)
        return len(rows), new, time.perf_counter() - t0, time.process_time() - c0
