"""Sweep futures on local worker processes (``multiprocessing``, spawn): the performance
tables are built in parallel first, then every worker receives the plan once (pool
initializer) and evaluates chunks, writing each to the store as it finishes. Workers ignore
SIGINT: Ctrl-C reaches the parent, which stops the pool; what was written stays."""

from __future__ import annotations

import multiprocessing as mp
import signal
from collections.abc import Iterator

from airadar.distributed.worker import ChunkRunner
from airadar.specs.scenario import Scenario
from airadar.sweep.future import PerfTable, SweepPlan, build_table

_RUNNER: ChunkRunner | None = None


def _quiet() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _init(plan: SweepPlan, store_url: str) -> None:
    global _RUNNER
    _quiet()
    _RUNNER = ChunkRunner(plan, store_url)


def _table(args: tuple[Scenario, str | None]) -> PerfTable:
    return build_table(*args)


def _chunk(args: tuple[list[int], str]) -> tuple[int, int, float, float]:
    assert _RUNNER is not None
    return _RUNNER.run(*args)


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._ctx = mp.get_context("spawn")

    def tables(self, plan: SweepPlan, keys: list[str]) -> dict[str, PerfTable]:
        todo = [plan.perf_scenarios[k] for k in keys]
        n = min(self.workers, len(todo))
        if n <= 1:
            return {t.key: t for t in (build_table(sc, plan.base_dir) for sc in todo)}
        with self._ctx.Pool(n, initializer=_quiet) as pool:
            try:
                got = pool.map(_table, [(sc, plan.base_dir) for sc in todo])
            except KeyboardInterrupt:
                pool.terminate()
                raise
        return {t.key: t for t in got}

    def run(self, plan: SweepPlan, store_url: str, chunks: list[list[int]], attempt: str
            ) -> Iterator[tuple[int, int, float, float]]:
        pool = self._ctx.Pool(self.workers, initializer=_init, initargs=(plan, store_url))
        try:
            yield from pool.imap_unordered(_chunk, [(c, attempt) for c in chunks])
            pool.close()
        except BaseException:
            pool.terminate()
            raise
        finally:
            pool.join()

