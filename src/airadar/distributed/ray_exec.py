"""Sweep futures as Ray tasks: on the cluster at ADDRESS, or with ``auto`` on the cluster
this machine belongs to (a private local one when there is none). The plan goes to the
object store once; each chunk is a task that evaluates its futures and writes them to the
store before returning, so results land as they are computed. A task whose worker process
dies is retried by Ray (``max_retries``); its rows are keyed by (sweep id, future index), so
a retry that repeats a write changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from airadar.errors import BackendError
from airadar.sweep.future import PerfTable, SweepPlan, build_table

#: retries of a chunk whose worker died (Ray's own default is 3)
MAX_RETRIES = 5
_RUNNERS: dict[str, Any] = {}


def ray_module() -> Any:
    try:
        import ray
    except ImportError:
        raise BackendError("--ray needs Ray: pip install 'airadar[ray]'") from None
    return ray


def connect(address: str, *, num_cpus: int | None = None) -> Any:
    """Join the cluster at ``address`` (``auto``: the running one, else start a local one)."""
    ray = ray_module()
    if ray.is_initialized():
        return ray
    import logging

    kw: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False,
                          "configure_logging": True}
    try:
        if address == "auto":
            try:
                ray.init(address="auto", **kw)
            except ConnectionError:
                ray.init(num_cpus=num_cpus, include_dashboard=False, **kw)
        else:
            ray.init(address=address, **kw)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise BackendError(f"cannot join the Ray cluster at {address}: "
                           f"{str(exc).splitlines()[0][:200]}") from None
    return ray


def _run_chunk(sweep_id: str, plan_box: list[Any], store_url: str, indices: list[int],
               attempt: str) -> tuple[int, int, float, float]:
    from airadar.distributed.worker import ChunkRunner

    ray = ray_module()
    runner = _RUNNERS.get(sweep_id)
    if runner is None:
        runner = _RUNNERS[sweep_id] = ChunkRunner(ray.get(plan_box[0]), store_url)
    return runner.run(indices, attempt)


class RayExecutor:
    name = "ray"

    def __init__(self, address: str) -> None:
        self.address = address
        self.ray = connect(address)
        self._table = self.ray.remote(build_table)
        self._chunk = self.ray.remote(max_retries=MAX_RETRIES)(_run_chunk)

    @property
    def cluster(self) -> dict[str, Any]:
        nodes = [n for n in self.ray.nodes() if n.get("Alive")]
        return {"address": self.address, "nodes": len(nodes),
                "cpus": sum(n.get("Resources", {}).get("CPU", 0) for n in nodes)}

    def tables(self, plan: SweepPlan, keys: list[str]) -> dict[str, PerfTable]:
        refs = [self._table.remote(plan.perf_scenarios[k], plan.base_dir) for k in keys]
        return {t.key: t for t in self.ray.get(refs)}

    def run(self, plan: SweepPlan, store_url: str, chunks: list[list[int]], attempt: str
            ) -> Iterator[tuple[int, int, float, float]]:
        ray = self.ray
        ref = ray.put(plan)
        pending = [self._chunk.remote(plan.sweep_id, [ref], store_url, c, attempt) for c in chunks]
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for d in done:
                    try:
                        yield ray.get(d)
                    except ray.exceptions.RayError as exc:
                        raise BackendError(f"a sweep task failed on Ray: "
                                           f"{str(exc).splitlines()[0][:200]}") from None
        except BaseException:
            for p in pending:
                ray.cancel(p, force=True)
            raise
