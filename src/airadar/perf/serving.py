"""Serving modes on one replica: offline (max throughput), server (max throughput while the
p99 TTFT and TPOT limits hold, with queueing), single-stream latency, and the latency at a
given arrival rate.

Steady state of a continuous-batching engine with chunked prefill: every step carries
``batch`` decode tokens at mean context I + O/2 and, on average, batch x I / O prompt tokens
(each sequence's prompt is spread over the O steps it lives). Output tokens per second =
batch / step time (Little's law over the O steps of a sequence).

Beam search (``beams`` > 1, e.g. MLPerf GPT-J, 4 beams): a sequence is one beam. The prompt
is prefilled once per request and its KV blocks are shared by the request's beams (paged KV
with copy-on-write, as in vLLM, Kwon et al. 2023, arXiv:2309.06180, Sec. 4.4, and TensorRT-LLM),
so each beam carries I / beams prompt tokens of prefill work and of KV memory while its
attention still reads the whole context.

Queueing: prompt admission is modelled as a single server with utilisation rho = lambda /
lambda_max; the mean wait scales as 1 / (1 - rho) (M/M/1, Kleinrock 1975, Vol. 1 Sec. 3.2),
the fitted ``ttft_k`` absorbs the engine's scheduling granularity and ``ttft_tail`` /
``tpot_tail`` map means to p99."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from airadar.perf.memory import kv_bytes_per_token, max_sequences
from airadar.perf.profiles import EfficiencyProfile
from airadar.perf.roofline import Deployment, StepTime, iteration_time


@dataclass(frozen=True, kw_only=True)
class OperatingPoint:
    batch: float
    step: StepTime
    throughput_tok_s: float  # output tokens/s of one replica
    ttft_mean_s: float
    tpot_mean_s: float
    ttft_p99_s: float
    tpot_p99_s: float
    rate_rps: float


def kv_per_sequence_bytes(dep: Deployment, *, input_tokens: float, output_tokens: float,
                          beams: int = 1, output_reserved: float = 0.5) -> float:
    """KV-cache bytes one sequence holds on average: its prompt (shared by its beams) and
    ``output_reserved`` of its output (1.0 where the scheduler reserves the whole length at
    admission, 0.5 where blocks are allocated as tokens arrive; the profile's
    ``kv_output_reserved``)."""
    ctx = input_tokens + output_tokens / 2.0
    held = input_tokens / beams + output_tokens * output_reserved
    return kv_bytes_per_token(model=dep.model, precision=dep.precision, context=ctx) * held


def batch_limit(dep: Deployment, profile: EfficiencyProfile, *, input_tokens: float,
                output_tokens: float, beams: int = 1) -> int:
    """Most sequences that fit memory on this replica, capped by the stack's batch limit."""
    n = max_sequences(hw=dep.hw, devices=dep.devices, weights_total_bytes=dep.weights_total_bytes(),
                      kv_per_seq_bytes=kv_per_sequence_bytes(
                          dep, input_tokens=input_tokens, output_tokens=output_tokens,
                          beams=beams, output_reserved=profile.kv_output_reserved),
                      reserve=profile.mem_reserve, of_free=profile.mem_reserve_of_free)
    return min(n, profile.batch_cap)


def steady_step(dep: Deployment, profile: EfficiencyProfile, *, batch: float,
                input_tokens: float, output_tokens: float, beams: int = 1) -> StepTime:
    per_seq = batch / max(output_tokens, 1.0) / beams  # requests admitted per step
    return iteration_time(dep=dep, profile=profile, decode=batch,
                          context=input_tokens + output_tokens / 2.0,
                          prefill_tokens=per_seq * input_tokens, prefill_seqs=per_seq)


def prefill_alone_s(dep: Deployment, profile: EfficiencyProfile, *, input_tokens: float) -> float:
    return iteration_time(dep=dep, profile=profile, decode=0, context=input_tokens,
                          prefill_tokens=input_tokens, prefill_seqs=1).time_s


def _batches(limit: int) -> list[int]:
    out, b = [], 1
    while b < limit:
        out.append(b)
        b *= 2
    out.append(limit)
    return out


def offline(dep: Deployment, profile: EfficiencyProfile, *, input_tokens: float,
            output_tokens: float, batch: int | None = None, beams: int = 1) -> OperatingPoint:
    """Maximum output tokens/s of one replica (all requests queued; with beam search, tokens
    of every beam and ``rate_rps`` in beams per second)."""
    limit = batch_limit(dep, profile, input_tokens=input_tokens, output_tokens=output_tokens,
                        beams=beams)
    if batch is not None:
        limit = min(limit, batch)
    if limit < 1:
        raise ValueError("no sequence fits")
    best: tuple[float, int, StepTime] | None = None
    for b in _batches(limit):
        st = steady_step(dep, profile, batch=b, input_tokens=input_tokens,
                         output_tokens=output_tokens, beams=beams)
        tput = b / st.time_s
        if best is None or tput > best[0] * 1.0001:
            best = (tput, b, st)
    assert best is not None
    tput, b, st = best
    pf = prefill_alone_s(dep, profile, input_tokens=input_tokens)
    return OperatingPoint(batch=b, step=st, throughput_tok_s=tput, ttft_mean_s=pf + st.time_s,
                          tpot_mean_s=st.time_s, ttft_p99_s=(pf + st.time_s) * profile.ttft_tail,
                          tpot_p99_s=st.time_s * profile.tpot_tail,
                          rate_rps=tput / max(output_tokens, 1.0))


def at_rate(dep: Deployment, profile: EfficiencyProfile, *, rate_rps: float, input_tokens: float,
            output_tokens: float, capacity_rps: float, limit: int, batch0: float = 1.0,
            prefill_s: float | None = None, beams: int = 1) -> OperatingPoint:
    """Latency at a given arrival rate (requests/s) on one replica.

    Sequences in service obey Little's law over their service time only (prefill plus O
    decode steps): batch = rate x (prefill + O x step), capped at ``limit``; queueing before
    admission lengthens TTFT, not the batch. ``batch0`` starts the fixed-point search (the
    batch found at a nearby rate converges in a few steps); ``prefill_s``, the prompt's time
    alone, when the caller has it."""
    rho = min(rate_rps / capacity_rps, 0.995) if capacity_rps > 0 else 0.995
    pf = prefill_alone_s(dep, profile, input_tokens=input_tokens) if prefill_s is None \
        else prefill_s
    b = min(max(batch0, 1.0), float(limit))
    st = steady_step(dep, profile, batch=b, input_tokens=input_tokens, output_tokens=output_tokens,
                     beams=beams)
    for _ in range(40):
        st = steady_step(dep, profile, batch=b, input_tokens=input_tokens,
                         output_tokens=output_tokens, beams=beams)
        nb = min(max(rate_rps * (pf + output_tokens * st.time_s), 1.0), float(limit))
        if abs(nb - b) < 1e-3 * b:
            b = nb
            break
        b = 0.5 * (b + nb)
    ttft = profile.ttft_k * (st.time_s + pf) / (1.0 - rho)
    tput = min(rate_rps * output_tokens, b / st.time_s)
    return OperatingPoint(batch=b, step=st, throughput_tok_s=tput, ttft_mean_s=ttft,
                          tpot_mean_s=st.time_s, ttft_p99_s=ttft * profile.ttft_tail,
                          tpot_p99_s=st.time_s * profile.tpot_tail, rate_rps=rate_rps)


def slo_batch_limit(dep: Deployment, profile: EfficiencyProfile, *, input_tokens: float,
                    output_tokens: float, tpot_p99_s: float | None, limit: int,
                    beams: int = 1) -> int:
    """Largest batch whose p99 TPOT meets the limit (engines are configured this way for a
    latency-bounded service); at least 1."""
    if tpot_p99_s is None:
        return limit
    lo, hi = 1, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        st = steady_step(dep, profile, batch=mid, input_tokens=input_tokens,
                         output_tokens=output_tokens, beams=beams)
        if st.time_s * profile.tpot_tail <= tpot_p99_s:
            lo = mid
        else:
            hi = mid - 1
    return lo


def server(dep: Deployment, profile: EfficiencyProfile, *, input_tokens: float,
           output_tokens: float, ttft_p99_s: float | None, tpot_p99_s: float | None,
           batch: int | None = None, beams: int = 1) -> OperatingPoint | None:
    """Highest rate whose p99 TTFT and TPOT meet the limits (None if even a trickle fails)."""
    full = batch_limit(dep, profile, input_tokens=input_tokens, output_tokens=output_tokens,
                       beams=beams)
    if batch:
        full = min(full, batch)
    limit = slo_batch_limit(dep, profile, input_tokens=input_tokens, output_tokens=output_tokens,
                            tpot_p99_s=tpot_p99_s, limit=full, beams=beams)
    off = offline(dep, profile, input_tokens=input_tokens, output_tokens=output_tokens,
                  batch=limit, beams=beams)
    cap = off.rate_rps

    def ok(p: OperatingPoint) -> bool:
        return ((ttft_p99_s is None or p.ttft_p99_s <= ttft_p99_s)
                and (tpot_p99_s is None or p.tpot_p99_s <= tpot_p99_s))

    pf = prefill_alone_s(dep, profile, input_tokens=input_tokens)
    last = [1.0]  # the batch at the previous rate tried: the bisection's rates are close

    def run(rate: float) -> OperatingPoint:
        p = at_rate(dep, profile, rate_rps=rate, input_tokens=input_tokens,
                    output_tokens=output_tokens, capacity_rps=cap, limit=limit,
                    batch0=last[0], prefill_s=pf, beams=beams)
        last[0] = p.batch
        return p

    return highest_passing_rate(run, ok, hi_rps=cap * profile.server_util, lows=(1e-4,),
                                iterations=40, rel_tol=1.002)


P = TypeVar("P")


def highest_passing_rate(run: Callable[[float], P], ok: Callable[[P], bool], *, hi_rps: float,
                         lows: tuple[float, ...], iterations: int, rel_tol: float) -> P | None:
    """The operating point at the highest rate in (lowest, ``hi_rps``] that passes ``ok``,
    by bisection in log space (pass/fail is monotone in the rate); ``lows`` are the fractions
    of ``hi_rps`` tried, in turn, as the passing lower end. None when none of them passes."""
    top = run(hi_rps)
    if ok(top):
        return top
    p_lo: P | None = None
    lo = hi_rps
    for frac in lows:
        lo = hi_rps * frac
        p_lo = run(lo)
        if ok(p_lo):
            break
    else:
        return None
    hi = hi_rps
    for _ in range(iterations):
        mid = math.sqrt(lo * hi)
        p = run(mid)
        if ok(p):
            lo, p_lo = mid, p
        else:
            hi = mid
        if hi / lo < rel_tol:
            break
    return p_lo


def single_stream(dep: Deployment, profile: EfficiencyProfile, *, input_tokens: float,
                  output_tokens: float) -> OperatingPoint:
    """One request at a time."""
    pf = prefill_alone_s(dep, profile, input_tokens=input_tokens)
    st = iteration_time(dep=dep, profile=profile, decode=1,
                        context=input_tokens + output_tokens / 2.0, prefill_tokens=0)
    e2e = pf + (output_tokens - 1) * st.time_s
    return OperatingPoint(batch=1, step=st, throughput_tok_s=output_tokens / e2e,
                          ttft_mean_s=pf, tpot_mean_s=st.time_s, ttft_p99_s=pf * profile.ttft_tail,
                          tpot_p99_s=st.time_s * profile.tpot_tail, rate_rps=1.0 / e2e)
