"""Run a sweep end to end: open (or resume) it in the store, build the performance tables,
evaluate the futures not yet stored on the chosen executor, then read every future back from
the store and aggregate. The answer depends on the scenario, the sweep and the seed only:
each future's draws come from (seed, future index), and aggregation reads the futures in
index order from the store, whoever computed them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from airadar.distributed.store import SweepStore
from airadar.errors import BackendError
from airadar.sweep.future import PerfTable, SweepPlan, inputs_of
from airadar.sweep.robust import aggregate


class Executor(Protocol):
    name: str

    def tables(self, plan: SweepPlan, keys: list[str]) -> dict[str, PerfTable]: ...

    def run(self, plan: SweepPlan, store_url: str, chunks: list[list[int]], attempt: str
            ) -> Any: ...


@dataclass(frozen=True, kw_only=True)
class SweepRun:
    answer: dict[str, Any]
    execution: dict[str, Any]


def chunked(todo: list[int], workers: int) -> list[list[int]]:
    """Chunks small enough to keep every worker busy and the progress bar moving (about 8
    per worker), large enough that the per-task overhead stays small (at most 50)."""
    size = max(1, min(50, len(todo) // max(1, workers * 8)))
    return [todo[k:k + size] for k in range(0, len(todo), size)]


def run_sweep(plan: SweepPlan, executor: Executor, *, store_url: str, workers: int,
              progress: Callable[[int, int], None] | None = None) -> SweepRun:
    n = plan.spec.futures
    store = SweepStore(store_url)
    store.begin(plan.sweep_id, scenario=plan.scenario_name, spec=plan.spec.to_json())
    already = {i for i in store.done(plan.sweep_id) if i < n}
    todo = [i for i in range(n) if i not in already]
    attempt = uuid.uuid4().hex[:12]
    t0 = time.perf_counter()
    t_tables = 0.0
    computed = written = 0
    busy = cpu = 0.0
    if progress:
        progress(len(already), n)
    try:
        if todo:
            missing = [k for k in plan.perf_scenarios if k not in plan.tables]
            if missing:
                plan.tables.update(executor.tables(plan, missing))
            t_tables = time.perf_counter() - t0
            for got, new, dt, dc in executor.run(plan, store.url, chunked(todo, workers), attempt):
                computed += got
                written += new
                busy += dt
                cpu += dc
                if progress:
                    progress(len(already) + computed, n)
    except KeyboardInterrupt:
        store.set_status(plan.sweep_id, "interrupted")
        raise
    wall = time.perf_counter() - t0
    results = store.load(plan.sweep_id, n)
    if len(results) != n or [r["i"] for r in results] != list(range(n)):
        raise BackendError(f"sweep {plan.sweep_id}: {len(results)} of {n} futures in the store "
                           "after the run; run the same command again to complete it")
    store.set_status(plan.sweep_id, "complete")
    answer = aggregate(results, objective=plan.objective, grid_points=plan.spec.grid_points,
                       inputs=inputs_of(plan))
    loop = wall - t_tables
    execution = {"executor": executor.name, "workers": workers, "store": store.url,
                 "sweep_id": plan.sweep_id, "futures_reused": len(already),
                 "futures_computed": computed, "rows_written": written,
                 "seconds": {"total": round(wall, 3), "tables": round(t_tables, 3),
                             "futures": round(loop, 3), "worker_busy": round(busy, 3),
                             "worker_cpu": round(cpu, 3)},
                 "futures_per_s": computed / loop if computed and loop > 0 else None,
                 "perf_tables": {k: round(t.seconds, 3) for k, t in plan.tables.items()}}
    return SweepRun(answer=answer, execution=execution)
