"""Operating points from the serving simulator: the one engine behind every latency-bounded
figure (Server and Interactive capacity, latency at a given rate).

``at_rate`` serves a Poisson stream at a rate on the replica (the engine's real limits: batch
cap, KV capacity in tokens, chunked prefill) and reads the mean and p99 of TTFT and TPOT off
the simulated requests, so tails come from queueing and batching, not from a fitted ratio.
``server_capacity`` is the highest Poisson rate whose simulated p99 TTFT and p99 TPOT meet
the limits (MLPerf Server/Interactive; Reddi et al. 2020, "MLPerf Inference Benchmark",
Sec. 3.3), found by bisection in log space on a fixed seed so it is deterministic.

Request lengths: lognormal around the given means with ``LENGTH_SIGMA`` (an airadar
assumption for datasets whose length distribution is not published); fixed where the
caller says the lengths are fixed (vendor tables)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from airadar.perf import serving
from airadar.perf.estimate import Estimate
from airadar.perf.profiles import EfficiencyProfile
from airadar.perf.roofline import Deployment
from airadar.sim.engine import ReplicaModel
from airadar.sim.simulator import SimConfig, replica_model, simulate
from airadar.sim.workload import Requests, arrivals, lengths
from airadar.specs.hardware import HardwareSpec
from airadar.specs.model import ModelSpec
from airadar.specs.precision import Precision, Sparsity

#: log-space spread of request lengths when only their mean is known (an assumption)
LENGTH_SIGMA = 0.6
#: requests per simulated run at light load: enough for a stable p99 (the 99th percentile of
#: 1,500 samples rests on 15 of them), few enough that a capacity search costs well under a
#: second
REQUESTS = 1500
#: requests discarded at the start (the queue filling from empty), at least
WARMUP = 200
#: a loaded replica holds hundreds of sequences and needs about one residence time (its
#: batch's worth of arrivals) to fill from empty; a run is long enough when it discards
#: ``WARMUP_BATCHES`` x the largest batch it reached and then measures ``MEASURE_BATCHES`` x
#: that batch (and at least ``REQUESTS - WARMUP``) requests. Otherwise it is rerun longer, up
#: to ``MAX_REQUESTS``. A fixed 1,500-request run at 45 req/s on a replica that settles at
#: ~1,000 sequences measured mostly the ramp: TPOT 33 ms where the steady state is 70 ms.
WARMUP_BATCHES = 2
MEASURE_BATCHES = 5
MAX_REQUESTS = 60_000


@dataclass(frozen=True, kw_only=True)
class SimPoint:
    rate_rps: float
    throughput_tok_s: float
    ttft_mean_s: float
    ttft_p99_s: float
    tpot_mean_s: float
    tpot_p99_s: float
    mean_batch: float
    ttft_p50_s: float = math.nan
    tpot_p50_s: float = math.nan
    #: the queue was still growing at the end (the rate is above what the replica sustains):
    #: there is no steady state, and the latencies are those of the run that found it
    saturated: bool = False


def poisson_requests(rate: float, inp: float, out: float, *, fixed: bool, n: int,
                     seed: int) -> Requests:
    rng = np.random.default_rng(seed)
    spec_i = f"{max(inp, 1):.0f}" if fixed else f"lognormal:{max(inp, 1):.2f}:{LENGTH_SIGMA}"
    spec_o = f"{max(out, 1):.0f}" if fixed else f"lognormal:{max(out, 1):.2f}:{LENGTH_SIGMA}"
    arr = arrivals(kind="poisson", rate_rps=rate, n=n, rng=rng)
    return Requests(arrival_s=arr, input_tokens=lengths(spec_i, n, rng, name="input"),
                    output_tokens=lengths(spec_o, n, rng, name="output"))


def replica(dep: Deployment, profile: EfficiencyProfile, *, input_tokens: float,
            output_tokens: float, max_batch: int | None = None) -> ReplicaModel:
    return replica_model(dep, profile, mean_input=input_tokens, mean_output=output_tokens,
                         max_batch=max_batch or profile.batch_cap)


def _growing(ttft: np.ndarray) -> bool:
    """The queue still grows: the last quarter of the requests waited for their first token
    more than twice as long as the second quarter (and over a second more)."""
    q = ttft.size // 4
    if q < 10:
        return False
    mid, last = float(ttft[q:2 * q].mean()), float(ttft[-q:].mean())
    return last > 2 * mid and last - mid > 1.0


def _point(rate_rps: float, res: dict, warm: int) -> SimPoint:
    lat = res["latencies"]
    ttft, tpot = lat["ttft_s"][warm:], lat["tpot_s"][warm:]
    if ttft.size == 0:
        inf = math.inf
        return SimPoint(rate_rps=rate_rps, throughput_tok_s=0.0, ttft_mean_s=inf,
                        ttft_p99_s=inf, tpot_mean_s=inf, tpot_p99_s=inf, mean_batch=0.0)
    return SimPoint(rate_rps=rate_rps, throughput_tok_s=res["throughput_output_tokens_per_s"],
                    ttft_mean_s=float(ttft.mean()), ttft_p99_s=float(np.percentile(ttft, 99)),
                    tpot_mean_s=float(tpot.mean()) if tpot.size else 0.0,
                    tpot_p99_s=float(np.percentile(tpot, 99)) if tpot.size else 0.0,
                    mean_batch=float(res["mean_batch"]), ttft_p50_s=float(np.median(ttft)),
                    tpot_p50_s=float(np.median(tpot)) if tpot.size else 0.0,
                    saturated=_growing(lat["ttft_s"]))


def steady_run(rm: ReplicaModel, *, rate_rps: float, input_tokens: float, output_tokens: float,
               fixed_lengths: bool = False, n: int | None = None, seed: int = 0,
               final: Callable[[SimPoint], bool] | None = None,
               start: int = REQUESTS) -> tuple[dict, int, SimPoint]:
    """Simulate Poisson arrivals at ``rate_rps`` long enough to reach the steady state (see
    ``WARMUP_BATCHES``); returns the simulator's summary, the requests discarded and the
    point measured after them. With ``n`` given, exactly ``n`` requests and ``WARMUP``
    discarded. ``final(point)`` true stops early (a capacity search stops at a run that
    already misses its limits: a run from empty under-states the steady state's latency, so
    a longer one would miss them too). A saturated run (the queue still growing) is not
    lengthened: it has no steady state, and a longer run only reports a longer queue.
    ``start``: requests of the first run (a search passes the size its previous probe
    settled on)."""
    size = n or min(max(start, REQUESTS), MAX_REQUESTS)
    while True:
        req = poisson_requests(rate_rps, input_tokens, output_tokens, fixed=fixed_lengths,
                               n=size, seed=seed)
        res = simulate(req, SimConfig(replica=rm, seed=seed), keep_latencies=True)
        if n:
            return res, WARMUP, _point(rate_rps, res, WARMUP)
        warm = max(WARMUP, WARMUP_BATCHES * int(res["max_batch"]))
        need = warm + max(REQUESTS - WARMUP, MEASURE_BATCHES * int(res["max_batch"]))
        warm = min(warm, size // 2)
        pt = _point(rate_rps, res, warm)
        if (need <= size or size >= MAX_REQUESTS or pt.saturated
                or (final is not None and final(pt))):
            return res, warm, pt
        # the largest batch still grows as the run lengthens: aim past it
        size = min(MAX_REQUESTS, max(need * 3 // 2, 2 * size))


def at_rate(rm: ReplicaModel, *, rate_rps: float, input_tokens: float, output_tokens: float,
            fixed_lengths: bool = False, n: int | None = None, seed: int = 0,
            final: Callable[[SimPoint], bool] | None = None) -> SimPoint:
    """Serve Poisson requests at ``rate_rps`` on one replica until the steady state is
    measured (``n`` fixes the count instead; ``final`` as in ``steady_run``)."""
    return steady_run(rm, rate_rps=rate_rps, input_tokens=input_tokens,
                      output_tokens=output_tokens, fixed_lengths=fixed_lengths, n=n, seed=seed,
                      final=final)[2]


def server_capacity(rm: ReplicaModel, *, input_tokens: float, output_tokens: float,
                    ttft_p99_s: float | None, tpot_p99_s: float | None, hi_rps: float,
                    fixed_lengths: bool = False, n: int | None = None, seed: int = 0,
                    iterations: int = 10) -> SimPoint | None:
    """Highest Poisson rate (requests/s, at most ``hi_rps``: the offline capacity) whose p99
    TTFT and TPOT meet the limits; None when even a trickle misses them."""

    def ok(p: SimPoint) -> bool:
        return ((ttft_p99_s is None or p.ttft_p99_s <= ttft_p99_s)
                and (tpot_p99_s is None or p.tpot_p99_s <= tpot_p99_s))

    sizes = [REQUESTS]

    def run(rate: float) -> SimPoint:
        res, _, pt = steady_run(rm, rate_rps=rate, input_tokens=input_tokens,
                                output_tokens=output_tokens, fixed_lengths=fixed_lengths, n=n,
                                seed=seed, final=lambda p: not ok(p), start=sizes[-1])
        if ok(pt):
            sizes.append(int(res["requests"]))
        return pt

    return serving.highest_passing_rate(run, ok, hi_rps=hi_rps, lows=(1 / 64, 1 / 4096),
                                        iterations=iterations, rel_tol=1.02)


def simulated_server(est: Estimate, *, model: ModelSpec, hw: HardwareSpec, precision: Precision,
                     sparsity: Sparsity, profile: EfficiencyProfile, ttft_p99_s: float | None,
                     tpot_p99_s: float | None, batch: int | None = None) -> Estimate:
    """The server-mode answer: the closed-form estimate chose the layout (a screen); the
    capacity and the latency percentiles at it come from the simulator on that layout."""
    if est.mode != "server" or not model.is_llm:
        return est
    lay = est.layout
    dep = Deployment(model=model, hw=hw, precision=precision, sparsity=sparsity, tp=lay.tp,
                     pp=lay.pp)
    full = serving.batch_limit(dep, profile, input_tokens=est.input_tokens,
                               output_tokens=est.output_tokens)
    if batch:
        full = min(full, batch)
    rm = replica(dep, profile, input_tokens=est.input_tokens, output_tokens=est.output_tokens,
                 max_batch=full)
    hi = serving.offline(dep, profile, input_tokens=est.input_tokens,
                         output_tokens=est.output_tokens, batch=full).rate_rps
    pt = server_capacity(rm, input_tokens=est.input_tokens, output_tokens=est.output_tokens,
                         ttft_p99_s=ttft_p99_s, tpot_p99_s=tpot_p99_s, hi_rps=hi)
    if pt is None:
        return est
    tput = pt.rate_rps * est.output_tokens * lay.replicas
    ratio = tput / est.throughput_output_tokens_per_s if est.throughput_output_tokens_per_s else 1.0
    prov = {**est.provenance, "figures": "simulated (airadar.sim: Poisson "
            f"arrivals, runs of {REQUESTS}-{MAX_REQUESTS} requests until steady, lognormal lengths "
            f"sigma {LENGTH_SIGMA}, seed 0)"}
    return replace(est, throughput_output_tokens_per_s=tput,
                   throughput_samples_per_s=tput / est.output_tokens,
                   ttft_mean_s=pt.ttft_mean_s, ttft_p99_s=pt.ttft_p99_s,
                   tpot_mean_s=pt.tpot_mean_s, tpot_p99_s=pt.tpot_p99_s,
                   simulated_p50_s=(pt.ttft_p50_s, pt.tpot_p50_s),
                   batch=pt.mean_batch * lay.replicas,
                   interval=(est.interval[0] * ratio, est.interval[1] * ratio), provenance=prov)
