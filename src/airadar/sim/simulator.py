"""``simulate``: route requests to replicas, run each, and summarise per the DESIGN.md
contract (TTFT, TPOT, end-to-end p50/p90/p99, throughput, goodput)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from airadar.errors import SpecError
from airadar.perf.memory import kv_bytes_per_token, kv_capacity_bytes
from airadar.perf.profiles import EfficiencyProfile
from airadar.perf.roofline import Deployment, iteration_time
from airadar.sim.engine import Replica, ReplicaModel
from airadar.sim.workload import Requests

#: the most replicas one simulation holds in memory
MAX_REPLICAS = 100_000


@dataclass(frozen=True, kw_only=True)
class SimConfig:
    replica: ReplicaModel
    replicas: int = 1
    router: str = "round-robin"  # round-robin | random | least-loaded
    #: KV policy: reserve (book full length, no preemption) or recompute (preempt when full)
    kv_policy: str = "reserve"
    #: disaggregated serving: a prefill pool (this many replicas of ``prefill_replica``)
    #: hands the KV cache to the decode pool after ``kv_transfer_s``
    prefill_replica: ReplicaModel | None = None
    prefill_replicas: int = 0
    kv_transfer_s: float = 0.0
    #: sample batch size and KV occupancy every this many simulated seconds (0 = off)
    timeline_every_s: float = 0.0
    ttft_slo_s: float | None = None
    tpot_slo_s: float | None = None
    e2e_slo_s: float | None = None
    seed: int = 0
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, n, low in (("replicas", self.replicas, 1),
                             ("prefill_replicas", self.prefill_replicas, 0)):
            if not low <= n <= MAX_REPLICAS:
                raise SpecError(name, n, f"an integer from {low} to {MAX_REPLICAS:,} (each "
                                "replica is simulated; for a larger fleet simulate one replica "
                                "at its share of the rate)")


def replica_model(dep: Deployment, profile: EfficiencyProfile, *, mean_input: float,
                  mean_output: float, max_batch: int | None = None,
                  prefill_chunk_tokens: int = 2048) -> ReplicaModel:
    """Step-time table and prefill cost of one replica from the perf roofline."""
    kv_tok = kv_bytes_per_token(model=dep.model, precision=dep.precision,
                                context=mean_input + mean_output)
    free = kv_capacity_bytes(hw=dep.hw, devices=dep.devices,
                             weights_total_bytes=dep.weights_total_bytes(),
                             reserve=profile.mem_reserve, of_free=profile.mem_reserve_of_free)
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
    def table(values: list[float]) -> np.ndarray:
        out = np.concatenate([[0.0], np.interp(grid, sizes, values)])
        out[0] = out[1]
        return out

    mem = table([p.linear_memory_s for p in parts])
    comp = table([p.linear_compute_s for p in parts])
    serial = table([p.serial_s for p in parts])
    pn = iteration_time(dep=dep, profile=profile, decode=0, context=mean_input,
                        prefill_tokens=max(mean_input, 1), prefill_seqs=1)
    return ReplicaModel(memory_s=mem, compute_s=comp, serial_s=serial,
                        overlap_p=profile.overlap_p, overhead_s=parts[0].overhead_s,
                        prefill_s_per_token=pn.compute_s / max(mean_input, 1), max_batch=mb,
                        kv_capacity_tokens=cap_tokens, prefill_chunk_tokens=prefill_chunk_tokens,
                        request_overhead_s=profile.ovh_request_s)


def _serve(model: ReplicaModel, replicas: int, router: str, kv_policy: str, seed: int,
           arrival: np.ndarray, ins: np.ndarray, outs: np.ndarray,
           progress: Callable[[int, int], None] | None, timeline_every_s: float = 0.0,
           timeline: list[dict[str, float]] | None = None,
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[int, float, float, int]]:
    """Route and serve one pool; returns admit, first, finish, dropped indices, stats."""
    n = int(arrival.size)
    admit = [math.nan] * n
    first = [math.nan] * n
    finish = [math.nan] * n
    il, ol = ins.tolist(), outs.tolist()
    reps = [Replica(model, il, ol, kv_policy, admit, first, finish) for _ in range(replicas)]
    for r in reps:
        r.sample_every_s = timeline_every_s
    arr = arrival.tolist()
    if router == "least-loaded":
        for i in range(n):
            t = arr[i]
            for r in reps:
                r.advance(t)
            best = min(range(replicas), key=lambda k: (reps[k].outstanding, k))
            reps[best].submit(i, t)
    else:
        route = (np.arange(n) % replicas if router == "round-robin" else
                 np.random.default_rng(seed + 1).integers(0, replicas, size=n)).tolist()
        for i in range(n):
            r = reps[route[i]]
            r.advance(arr[i])
            r.submit(i, arr[i])
    for k, r in enumerate(reps):
        r.advance(math.inf)
        if progress:
            progress(k + 1, replicas)
    dropped = np.array([j for r in reps for j in r.dropped], dtype=int)
    if timeline is not None:
        for k, r in enumerate(reps):
            timeline.extend({"replica": k, "t_s": t, "batch": b, "kv_tokens": kv, "queued": q,
                             "kv_fraction": kv / model.kv_capacity_tokens}
                            for t, b, kv, q in r.timeline)
    stats = (max((r.max_seen for r in reps), default=0), sum(r.area for r in reps),
             sum(r.busy for r in reps), sum(r.preemptions for r in reps))
    return np.array(admit), np.array(first), np.array(finish), dropped, stats


def _pct(x: np.ndarray) -> dict[str, float | None]:
    if x.size == 0:
        return {"p50": None, "p90": None, "p99": None, "mean": None}
    p = np.percentile(x, [50, 90, 99])
    return {"p50": float(p[0]), "p90": float(p[1]), "p99": float(p[2]), "mean": float(x.mean())}


def simulate(req: Requests, cfg: SimConfig, *, trace_out: Path | None = None,
             progress: Callable[[int, int], None] | None = None,
             keep_latencies: bool = False) -> dict[str, Any]:
    """Serve ``req`` per ``cfg``; the DESIGN.md summary (with ``keep_latencies``, also the
    per-request TTFT and TPOT arrays in arrival order under ``latencies``)."""
    t0 = time.perf_counter()
    n = len(req)
    if cfg.replicas < 1:
        raise SpecError("replicas", cfg.replicas, "an integer >= 1")
    if cfg.router not in ("round-robin", "random", "least-loaded"):
        raise SpecError("router", cfg.router, "round-robin, random or least-loaded")
    ins, outs = req.input_tokens, req.output_tokens
    preempt = 0
    timeline: list[dict[str, float]] = []
    if cfg.prefill_replica is not None and cfg.prefill_replicas > 0:
        # stage 1: prompts on the prefill pool (one output token each: the first)
        p_admit, p_first, _, p_drop, p_stats = _serve(
            cfg.prefill_replica, cfg.prefill_replicas, cfg.router, cfg.kv_policy, cfg.seed,
            req.arrival_s, ins, np.ones_like(outs), progress)
        # stage 2: the decode pool receives the KV cache after the transfer and decodes the rest
        ok1 = ~np.isnan(p_first)
        t2 = np.where(ok1, p_first + cfg.kv_transfer_s, np.inf)
        order = np.argsort(t2, kind="stable")
        decode_model = replace(cfg.replica, prefill_s_per_token=0.0)
        d_admit, d_first, d_finish, d_drop, d_stats = _serve(
            decode_model, cfg.replicas, cfg.router, cfg.kv_policy, cfg.seed,
            t2[order][ok1[order]], ins[order][ok1[order]],
            np.maximum(outs[order][ok1[order]] - 1, 1), None)
        admit, first, finish = p_admit, p_first, np.full(n, np.nan)
        sel = order[ok1[order]]
        finish[sel] = np.where(outs[sel] > 1, d_finish, p_first[sel])
        dropped = [p_drop, sel[d_drop]]
        max_seen, area, busy = d_stats[0], p_stats[1] + d_stats[1], p_stats[2] + d_stats[2]
        preempt = p_stats[3] + d_stats[3]
    else:
        admit, first, finish, drop, stats = _serve(cfg.replica, cfg.replicas, cfg.router,
                                                   cfg.kv_policy, cfg.seed, req.arrival_s,
                                                   ins, outs, progress, cfg.timeline_every_s,
                                                   timeline)
        dropped = [drop]
        max_seen, area, busy, preempt = stats
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
    n_drop = int(sum(np.asarray(d).size for d in dropped))
    if trace_out is not None:
        write_trace(trace_out, req, admit, first, finish)
    extra: dict[str, Any] = {}
    if keep_latencies:
        extra["latencies"] = {"ttft_s": ttft, "tpot_s": tpot}
    return {
        **extra,
        "requests": n, "completed": int(done.sum()), "dropped": n_drop,
        "wall_s": window, "runtime_s": time.perf_counter() - t0,
        "ttft_s": _pct(ttft), "tpot_s": _pct(tpot), "e2e_s": _pct(e2e),
        "queue_s": _pct(queue),
        "throughput_output_tokens_per_s": float(out_tok[done].sum()) / window,
        "goodput_requests_per_s": float(ok.sum()) / window,
        "mean_batch": area / busy if busy else 0.0, "max_batch": max_seen,
        "replicas": cfg.replicas, "router": cfg.router, "seed": cfg.seed,
        "preemptions": int(preempt), "kv_policy": cfg.kv_policy,
        "disaggregated": cfg.prefill_replica is not None and cfg.prefill_replicas > 0,
        "timeline": timeline,
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
