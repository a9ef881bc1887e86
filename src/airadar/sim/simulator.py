"""``simulate``: route requests to replicas, run each, and summarise per the DESIGN.md
contract (TTFT, TPOT, end-to-end p50/p90/p99, throughput, goodput)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from airadar.errors import SpecError
from airadar.perf.memory import kv_bytes_per_token, usable_bytes
from airadar.perf.profiles import EfficiencyProfile
from airadar.perf.roofline import Deployment, iteration_time
from airadar.sim.engine import ReplicaModel, run_replica
from airadar.sim.workload import Requests


@dataclass(frozen=True, kw_only=True)
class SimConfig:
    replica: ReplicaModel
    replicas: int = 1
    router: str = "round-robin"  # round-robin | random
    ttft_slo_s: float | None = None
    tpot_slo_s: float | None = None
    e2e_slo_s: float | None = None
    seed: int = 0
    provenance: dict[str, Any] = field(default_factory=dict)


def replica_model(dep: Deployment, profile: EfficiencyProfile, *, mean_input: float,
                  mean_output: float, max_batch: int | None = None,
                  prefill_chunk_tokens: int = 2048) -> ReplicaModel:
    """Step-time table and prefill cost of one replica from the perf roofline."""
    kv_tok = kv_bytes_per_token(model=dep.model, precision=dep.precision,
                                context=mean_input + mean_output)
    free = usable_bytes(dep.hw, reserve=profile.mem_reserve) * dep.devices - dep.weights_total_bytes()
    cap_tokens = int(free // kv_tok) if kv_tok > 0 and free > 0 else 0
    if cap_tokens < 1:
        raise SpecError("replica", f"{dep.devices}x {dep.hw.id}",
                        f"a replica {dep.model.id} fits (weights need "
                        f"{dep.weights_total_bytes() / 1e9:.1f} GB)")
    mb = max_batch or profile.batch_cap
    mb = max(1, min(mb, cap_tokens))
    ctx = mean_input + mean_output / 2
    sizes = np.unique(np.concatenate([np.arange(1, min(mb, 64) + 1),
                                      np.linspace(1, mb, 64).round().astype(int)]))
    parts = [iteration_time(dep=dep, profile=profile, decode=int(b), context=ctx, prefill_tokens=0)
             for b in sizes]
    grid = np.arange(1, mb + 1)
    mem = np.concatenate([[0.0], np.interp(grid, sizes, [p.memory_s + p.comm_s for p in parts])])
    comp = np.concatenate([[0.0], np.interp(grid, sizes, [p.compute_s for p in parts])])
    mem[0], comp[0] = mem[1], comp[1]
    pn = iteration_time(dep=dep, profile=profile, decode=0, context=mean_input,
                        prefill_tokens=max(mean_input, 1))
    return ReplicaModel(memory_s=mem, compute_s=comp, overhead_s=parts[0].overhead_s,
                        prefill_s_per_token=pn.compute_s / max(mean_input, 1), max_batch=mb,
                        kv_capacity_tokens=cap_tokens, prefill_chunk_tokens=prefill_chunk_tokens)


def _pct(x: np.ndarray) -> dict[str, float | None]:
    if x.size == 0:
        return {"p50": None, "p90": None, "p99": None, "mean": None}
    p = np.percentile(x, [50, 90, 99])
    return {"p50": float(p[0]), "p90": float(p[1]), "p99": float(p[2]), "mean": float(x.mean())}


def simulate(req: Requests, cfg: SimConfig, *, trace_out: Path | None = None,
             progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    n = len(req)
    if cfg.replicas < 1:
        raise SpecError("replicas", cfg.replicas, "an integer >= 1")
    if cfg.router == "round-robin":
        route = np.arange(n) % cfg.replicas
    elif cfg.router == "random":
        route = np.random.default_rng(cfg.seed + 1).integers(0, cfg.replicas, size=n)
    else:
        raise SpecError("router", cfg.router, "round-robin or random")
    admit = np.full(n, np.nan)
    first = np.full(n, np.nan)
    finish = np.full(n, np.nan)
    dropped = []
    max_seen, area, busy = 0, 0.0, 0.0
    for r in range(cfg.replicas):
        idx = np.flatnonzero(route == r)
        if idx.size == 0:
            continue
        res = run_replica(cfg.replica, idx, req.arrival_s[idx], req.input_tokens[idx],
                          req.output_tokens[idx])
        admit[idx] = res.admit_s
        first[idx] = res.first_token_s
        finish[idx] = res.finish_s
        dropped.append(res.dropped)
        max_seen = max(max_seen, res.max_batch_seen)
        area += res.batch_time_weighted
        busy += res.busy_s
        if progress:
            progress(r + 1, cfg.replicas)
    done = ~np.isnan(finish)
    out_tok = req.output_tokens
    ttft = (first - req.arrival_s)[done]
    e2e = (finish - req.arrival_s)[done]
    multi = done & (out_tok > 1)
    tpot = ((finish - first)[multi] / (out_tok[multi] - 1))
    queue = (admit - req.arrival_s)[done]
    start = float(req.arrival_s.min())
    end = float(np.nanmax(finish)) if done.any() else start
    window = max(end - start, 1e-12)
    ok = np.ones(int(done.sum()), dtype=bool)
    if cfg.ttft_slo_s:
        ok &= ttft <= cfg.ttft_slo_s
    if cfg.tpot_slo_s:
        tp_all = np.where(out_tok[done] > 1, (finish - first)[done] / np.maximum(out_tok[done] - 1, 1), 0)
        ok &= tp_all <= cfg.tpot_slo_s
    if cfg.e2e_slo_s:
        ok &= e2e <= cfg.e2e_slo_s
    n_drop = int(sum(d.size for d in dropped))
    if trace_out is not None:
        write_trace(trace_out, req, admit, first, finish)
    return {
        "requests": n, "completed": int(done.sum()), "dropped": n_drop,
        "wall_s": window, "runtime_s": time.perf_counter() - t0,
        "ttft_s": _pct(ttft), "tpot_s": _pct(tpot), "e2e_s": _pct(e2e),
        "queue_s": _pct(queue),
        "throughput_output_tokens_per_s": float(out_tok[done].sum()) / window,
        "goodput_requests_per_s": float(ok.sum()) / window,
        "mean_batch": area / busy if busy else 0.0, "max_batch": max_seen,
        "replicas": cfg.replicas, "router": cfg.router, "seed": cfg.seed,
        "preemptions": 0,
        "provenance": {"kind": "simulated", **cfg.provenance},
    }


def write_trace(path: Path, req: Requests, admit: np.ndarray, first: np.ndarray,
                finish: np.ndarray, chunk: int = 200_000) -> None:
    """Per-request records, written in chunks (CSV, or Parquet when pyarrow is installed)."""
    cols = ("request", "arrival_s", "input_tokens", "output_tokens", "admit_s", "first_token_s",
            "finish_s")
    if path.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise SpecError("--trace-out", str(path),
                            "a .csv path, or install pyarrow for Parquet (pip install pyarrow)"
                            ) from None
        schema = pa.schema([(c, pa.float64()) for c in cols])
        with pq.ParquetWriter(str(path), schema) as w:
            for s in range(0, len(req), chunk):
                e = min(s + chunk, len(req))
                arrays = [np.arange(s, e, dtype=float), req.arrival_s[s:e],
                          req.input_tokens[s:e].astype(float), req.output_tokens[s:e].astype(float),
                          admit[s:e], first[s:e], finish[s:e]]
                w.write_table(pa.table(dict(zip(cols, arrays, strict=True)), schema=schema))
        return
    with path.open("w", encoding="utf-8") as fh:
        fh.write(",".join(cols) + "\n")
        for s in range(0, len(req), chunk):
            e = min(s + chunk, len(req))
            block = np.column_stack([np.arange(s, e), req.arrival_s[s:e], req.input_tokens[s:e],
                                     req.output_tokens[s:e], admit[s:e], first[s:e], finish[s:e]])
            np.savetxt(fh, block, delimiter=",", fmt=["%d", "%.6f", "%d", "%d", "%.6f", "%.6f",
                                                      "%.6f"])
