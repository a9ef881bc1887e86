"""LoadGen-style scenarios (after MLPerf LoadGen): single-stream latency, offline throughput
(batch sweep), server (Poisson arrivals at a rate, one worker: latency includes queueing).
LLMs: TTFT (prefill) and TPOT (decode steps) are timed separately. Each sample is stored as
it is measured; warm-up first; repeats until both a minimum count and a minimum duration."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from airadar.bench.energy import EnergyMeter
from airadar.bench.store import Store

SPREAD_CV = 0.10  # coefficient of variation above which a result is flagged as too wide


@dataclass(frozen=True, kw_only=True)
class Budget:
    warmup: int = 2
    min_count: int = 10
    min_duration_s: float = 2.0
    max_count: int = 1_000_000


def summarise(xs: list[float]) -> dict[str, Any]:
    if not xs:
        return {"count": 0}
    a = np.asarray(xs)
    mean = float(a.mean())
    sd = float(a.std(ddof=1)) if a.size > 1 else 0.0
    p = np.percentile(a, [50, 90, 99])
    return {"count": int(a.size), "mean": mean, "p50": float(p[0]), "p90": float(p[1]),
            "p99": float(p[2]), "stdev": sd, "cv": sd / mean if mean else 0.0,
            "spread_too_wide": bool(mean and sd / mean > SPREAD_CV)}


def _loop(fn: Callable[[], float], budget: Budget, on_sample: Callable[[float], None],
          progress: Callable[[int], None] | None) -> list[float]:
    for _ in range(budget.warmup):
        fn()
    out: list[float] = []
    t0 = time.perf_counter()
    while len(out) < budget.max_count and (len(out) < budget.min_count or
                                           time.perf_counter() - t0 < budget.min_duration_s):
        v = fn()
        out.append(v)
        on_sample(v)
        if progress:
            progress(len(out))
    return out


def run_graph(runner: Any, store: Store, run_id: int, *, scenario: str, batches: list[int],
              rate: float | list[float] | None, budget: Budget, progress: Callable[[int], None] | None = None,
              seed: int = 0, meter: EnergyMeter | None = None,
              slo_p99_s: float | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    meter = meter or EnergyMeter()
    meter.start()
    if scenario in ("single-stream", "offline"):
        for b in batches if scenario == "offline" else [1]:
            def one(b: int = b) -> float:
                t = time.perf_counter()
                runner.run(b)
                return time.perf_counter() - t
            def keep(v: float, b: int = b) -> None:
                store.add_sample(run_id, kind="latency", value=v, batch=b)

            xs = _loop(one, budget, keep, progress)
            s = summarise(xs)
            s["throughput_samples_per_s"] = b / s["mean"]
            results[f"batch_{b}"] = s
    elif scenario == "server":
        rates = sorted(rate) if isinstance(rate, list) else ([rate] if rate else [])
        if not rates or min(rates) <= 0:
            from airadar.errors import SpecError
            raise SpecError("--rate", rate, "one rate > 0 or a comma-separated sweep")
        for _ in range(budget.warmup):
            runner.run(1)
        done = 0
        sweep: dict[str, Any] = {"rates": rates, "slo_p99_s": slo_p99_s}
        if slo_p99_s is not None:  # both always present: null when no rate met / broke it
            sweep |= {"max_rate_within_slo": None, "first_rate_breaking_slo": None}
        for r in rates:
            def step(k: int, base: int = done) -> None:
                if progress:
                    progress(base + k)

            s = _server_at(runner, store, run_id, r, budget, seed, step)
            done += s["count"]
            results["server" if len(rates) == 1 else f"rate_{r:g}"] = s
            if slo_p99_s is not None:
                if s["p99"] > slo_p99_s:
                    sweep["first_rate_breaking_slo"] = r
                    break
                sweep["max_rate_within_slo"] = r
        if len(rates) > 1 or slo_p99_s is not None:
            results["server_sweep"] = sweep
    e = meter.stop()
    done = sum(v.get("count", 0) * int(k.split("_")[1]) for k, v in results.items()
               if k.startswith("batch_")) + sum(v.get("count", 0) for k, v in results.items()
                                                if k == "server" or k.startswith("rate_"))
    if e.get("joules") is not None and done:
        e["joules_per_sample"] = e["joules"] / done
    results["energy"] = e
    return results


def _server_at(runner: Any, store: Store, run_id: int, rate: float, budget: Budget, seed: int,
               progress: Callable[[int], Any]) -> dict[str, Any]:
    """Poisson arrivals at ``rate`` to one worker; latency counts from the arrival, so it
    includes queueing (MLPerf LoadGen Server)."""
    rng = np.random.default_rng(seed)
    n = max(budget.min_count, int(math.ceil(rate * budget.min_duration_s)))
    gaps = rng.exponential(1.0 / rate, size=n)
    t0 = time.perf_counter()
    due = t0
    lat = []
    for i, g in enumerate(gaps):
        due += g
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        runner.run(1)
        v = time.perf_counter() - due
        lat.append(v)
        store.add_sample(run_id, kind="latency", value=v, batch=1,
                         extra={"queued": True, "rate": rate})
        progress(i + 1)
    s = summarise(lat)
    s["rate"] = rate
    s["achieved_rps"] = n / (time.perf_counter() - t0)
    return s


def run_llm(runner: Any, store: Store, run_id: int, *, batches: list[int], input_tokens: int,
            output_tokens: int, budget: Budget, progress: Callable[[int], None] | None = None,
            meter: EnergyMeter | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    meter = meter or EnergyMeter()
    meter.start()
    produced = 0
    for b in batches:
        ttfts: list[float] = []
        tpots: list[float] = []

        def one(b: int = b, ttfts: list[float] = ttfts, tpots: list[float] = tpots) -> float:
            nonlocal produced
            t = time.perf_counter()
            runner.prefill(b, input_tokens)
            ttft = time.perf_counter() - t
            steps = []
            for _ in range(max(output_tokens - 1, 0)):
                s = time.perf_counter()
                runner.decode_step()
                steps.append(time.perf_counter() - s)
            tpot = statistics.fmean(steps) if steps else 0.0
            ttfts.append(ttft)
            tpots.append(tpot)
            produced += b * output_tokens
            store.add_sample(run_id, kind="ttft", value=ttft, batch=b, tokens=input_tokens)
            store.add_sample(run_id, kind="tpot", value=tpot, batch=b, tokens=output_tokens)
            return ttft + tpot * max(output_tokens - 1, 0)

        for _ in range(budget.warmup):
            runner.prefill(b, input_tokens)
            runner.decode_step()
        t0 = time.perf_counter()
        while len(ttfts) < budget.max_count and (len(ttfts) < budget.min_count or
                                                 time.perf_counter() - t0 < budget.min_duration_s):
            one()
            if progress:
                progress(len(ttfts))
        st, sp = summarise(ttfts), summarise(tpots)
        results[f"batch_{b}"] = {"ttft_s": st, "tpot_s": sp,
                                 "decode_tokens_per_s": b / sp["mean"] if sp.get("mean") else None}
    e = meter.stop()
    if e.get("joules") is not None and produced:
        e["joules_per_output_token"] = e["joules"] / produced
        e["output_tokens"] = produced
    results["energy"] = e
    return results
