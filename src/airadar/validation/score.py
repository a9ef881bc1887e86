"""Predict mapped measurement rows and summarise the errors (APE = |pred - meas| / meas)."""

from __future__ import annotations

import math
import multiprocessing
import re
import statistics
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from airadar.errors import AiradarError, SLOInfeasibleError
from airadar.host import usable_cpus
from airadar.perf import estimate as est_mod
from airadar.perf import nonllm, serving
from airadar.perf.parallelism import Layout
from airadar.perf.profiles import EfficiencyProfile, select_profile, stack_facts
from airadar.perf.roofline import Deployment
from airadar.sim import operating
from airadar.specs.precision import Sparsity
from airadar.validation.rows import Query

DENSE = Sparsity()


def _stated_layout(q: Query) -> Layout | None:
    """The row's stated tensor-parallel degree as a layout, where it has one."""
    if q.tp and q.count % q.tp == 0:
        return Layout(tp=q.tp, pp=1, replicas=q.count // q.tp)
    return None


def _llm_offline_dep(q: Query, prof: EfficiencyProfile) -> tuple[Deployment, int, float]:
    """The layout ``estimate`` chooses for offline throughput (the row's stated TP degree
    where it has one); returns (deployment, replicas, tok/s)."""
    lay = _stated_layout(q)
    est = est_mod.estimate(model=q.model, hw=q.hw, count=q.count, precision=q.precision,
                           sparsity=DENSE, input_tokens=q.input_tokens,
                           output_tokens=q.output_tokens, mode="offline", stack=q.stack,
                           layout=lay, profile=prof, beams=q.beams)
    dep = Deployment(model=q.model, hw=q.hw, precision=q.precision, sparsity=DENSE,
                     tp=est.layout.tp, pp=est.layout.pp)
    assert est.throughput_output_tokens_per_s is not None
    return dep, est.layout.replicas, est.throughput_output_tokens_per_s / q.beams


def _llm_server_dep(q: Query, prof: EfficiencyProfile) -> tuple[Deployment, int]:
    """The layout ``estimate --mode server`` chooses under the row's latency limits (the
    closed-form screen; the row's stated TP degree where it has one), as (deployment,
    replicas). A row whose limits the screen finds infeasible on every layout keeps the
    offline layout, and the simulator decides."""
    lay = _stated_layout(q)
    try:
        est = est_mod.estimate(model=q.model, hw=q.hw, count=q.count, precision=q.precision,
                               sparsity=DENSE, input_tokens=q.input_tokens,
                               output_tokens=q.output_tokens, mode="server", stack=q.stack,
                               layout=lay, profile=prof, beams=q.beams, ttft_p99_s=q.ttft_slo_s,
                               tpot_p99_s=q.tpot_slo_s)
    except SLOInfeasibleError:
        dep, replicas, _ = _llm_offline_dep(q, prof)
        return dep, replicas
    dep = Deployment(model=q.model, hw=q.hw, precision=q.precision, sparsity=DENSE,
                     tp=est.layout.tp, pp=est.layout.pp)
    return dep, est.layout.replicas


def under_limits(q: Query) -> bool:
    """A run served under latency limits (Server, Interactive and their latency rows)."""
    return q.mode in ("server", "rate") and bool(q.ttft_slo_s or q.tpot_slo_s)


def _llm_dep(q: Query, prof: EfficiencyProfile) -> tuple[Deployment, int]:
    """The layout a row is predicted on: a run under latency limits on the one the
    server-mode answer chooses, every other run on the offline one."""
    if under_limits(q):
        return _llm_server_dep(q, prof)
    dep, replicas, _ = _llm_offline_dep(q, prof)
    return dep, replicas


def _layout(q: Query, prof: EfficiencyProfile,
            memo: dict[tuple[Any, ...], Any] | None) -> tuple[Deployment, int]:
    """:func:`_llm_dep`, once per measured run and profile in ``memo`` (the rows of one run
    share its layout; the fitter holds one memo per fit)."""
    key = ("layout", prof.key, prof.batch_cap, prof.kv_output_reserved, prof.mem_reserve_of_free,
           q.model.name, q.hw.name, q.count, q.precision, q.stack, q.tp, q.input_tokens,
           q.output_tokens, q.ttft_slo_s, q.tpot_slo_s, under_limits(q), q.beams)
    got = memo.get(key) if memo is not None else None
    if got is None:
        got = _llm_dep(q, prof)
        if memo is not None:
            memo[key] = got
    return got


def stack_profile(q: Query, prof: EfficiencyProfile) -> EfficiencyProfile:
    """``prof`` with the row's stack facts: the batch cap the submission configured (else the
    stack's documented one) and how much of the output's KV cache its scheduler reserves."""
    facts = stack_facts(q.stack)
    cap = q.batch_cap or facts.get("batch_cap", prof.batch_cap)
    kv, of_free = facts["kv_output_reserved"], facts["mem_reserve_of_free"]
    if (cap, kv, of_free) != (prof.batch_cap, prof.kv_output_reserved, prof.mem_reserve_of_free):
        prof = prof.with_values(batch_cap=cap, kv_output_reserved=kv, mem_reserve_of_free=of_free)
    return prof


def predict(q: Query, prof: EfficiencyProfile, *, engine: str = "sim",
            memo: dict[tuple[Any, ...], Any] | None = None,
            latency_at: str = "operating") -> float:
    """Predicted value of the row's metric, in SI units (the batch cap is the row's stack's,
    or what the submission configured). Server, Interactive and at-a-rate rows come from the
    serving simulator (``engine="sim"``, what ``validate`` scores); ``engine="closed"`` uses
    the closed-form screen (what the fitter uses for the screen's own factors). ``memo``
    (one dict per set of profiles) shares one simulated run among the TTFT/TPOT rows of the
    same measured run. The TTFT/TPOT rows of a run under latency limits (an MLPerf Server or
    Interactive run) are predicted at the simulated operating point under those limits
    (``latency_at="operating"``, what ``estimate --mode server`` shows) or at the run's
    measured rate (``latency_at="rate"``, what ``simulate`` at that rate shows)."""
    prof = stack_profile(q, prof)
    if not q.model.is_llm:
        def bt(b: float) -> float:
            return nonllm.batch_time(model=q.model, hw=q.hw, devices=q.count, precision=q.precision,
                                     sparsity=DENSE, profile=prof, batch=b).time_s
        if q.mode == "single-stream":
            return bt(1) if q.target == "latency" else 1 / bt(1)
        if q.mode == "multistream":
            return bt(8)
        b = float(prof.batch_cap * q.count)
        if q.mode == "server" and q.latency_slo_s:
            while b > 1 and bt(b) > q.latency_slo_s:
                b /= 2
            return b / bt(b) * prof.server_util
        return b / bt(b)
    if q.mode == "offline" and q.target == "tok_s":
        return _llm_offline_dep(q, prof)[2]
    dep, replicas = _layout(q, prof, memo)
    beams = q.beams
    limit = serving.slo_batch_limit(
        dep, prof, input_tokens=q.input_tokens, output_tokens=q.output_tokens,
        tpot_p99_s=q.tpot_slo_s, beams=beams,
        limit=serving.batch_limit(dep, prof, input_tokens=q.input_tokens,
                                  output_tokens=q.output_tokens, beams=beams))
    cap_rps = serving.offline(dep, prof, input_tokens=q.input_tokens, output_tokens=q.output_tokens,
                              batch=limit, beams=beams).rate_rps
    if q.mode == "single-stream":
        op = serving.single_stream(dep, prof, input_tokens=q.input_tokens,
                                   output_tokens=q.output_tokens * q.beams)
        return (op.ttft_mean_s + (q.output_tokens - 1) * op.tpot_mean_s) * prof.ttft_tail
    fixed = not q.source.startswith("github:mlcommons")
    if engine == "sim" and q.mode in ("server", "rate") and q.rate_rps != 0 and (
            q.mode == "server" or q.rate_rps):
        def replica() -> operating.ReplicaModel:
            full = serving.batch_limit(dep, prof, input_tokens=q.input_tokens,
                                       output_tokens=q.output_tokens, beams=beams)
            return operating.replica(dep, prof, input_tokens=q.input_tokens,
                                     output_tokens=q.output_tokens, max_batch=full)

        # with beam search a simulated request is one beam holding its share of the prompt
        # (prefill work and KV blocks); the replica's steps still see the whole context
        beam_input = q.input_tokens / beams
        run = (prof.key, prof.batch_cap, prof.kv_output_reserved, prof.mem_reserve_of_free,
               q.model.name, q.hw.name, q.count, q.precision, q.stack, q.tp, q.input_tokens,
               q.output_tokens, q.beams, fixed, dep.tp, dep.pp, replicas)
        if q.mode == "server" or (latency_at == "operating" and under_limits(q)):
            # a run under latency limits is measured at its operating point: the highest rate
            # that met them. Its throughput and the latencies measured during it are predicted
            # at the simulator's operating point (what `estimate --mode server` shows), one
            # capacity search per run shared by its rows
            cap_key = ("capacity", *run, q.ttft_slo_s, q.tpot_slo_s)
            if memo is None or cap_key not in memo:
                hi = serving.offline(dep, prof, input_tokens=q.input_tokens,
                                     output_tokens=q.output_tokens, beams=beams).rate_rps
                got = operating.server_capacity(
                    replica(), input_tokens=beam_input, output_tokens=q.output_tokens,
                    ttft_p99_s=q.ttft_slo_s, tpot_p99_s=q.tpot_slo_s, hi_rps=hi,
                    fixed_lengths=fixed)
                if memo is not None:
                    memo[cap_key] = got
            else:
                got = memo[cap_key]
            if got is None:
                raise AiradarError("predicted infeasible under the SLOs")
            return {"tok_s": got.rate_rps * q.output_tokens * replicas / q.beams,
                    "ttft_mean": got.ttft_mean_s, "ttft_p99": got.ttft_p99_s,
                    "tpot_mean": got.tpot_mean_s, "tpot_p99": got.tpot_p99_s}[q.target]
        assert q.rate_rps is not None
        key = (*run, q.rate_rps)
        pt = memo.get(key) if memo is not None else None
        if pt is None:  # the replica is built only for a run not simulated yet
            pt = operating.at_rate(replica(), rate_rps=q.rate_rps / replicas * q.beams,
                                   input_tokens=beam_input, output_tokens=q.output_tokens,
                                   fixed_lengths=fixed)
            if memo is not None:
                memo[key] = pt
        return {"tok_s": min(pt.throughput_tok_s, q.rate_rps / replicas * q.output_tokens)
                * replicas / q.beams, "ttft_mean": pt.ttft_mean_s, "ttft_p99": pt.ttft_p99_s,
                "tpot_mean": pt.tpot_mean_s, "tpot_p99": pt.tpot_p99_s}[q.target]
    if q.mode == "server":
        op_s = serving.server(dep, prof, input_tokens=q.input_tokens,
                              output_tokens=q.output_tokens, ttft_p99_s=q.ttft_slo_s,
                              tpot_p99_s=q.tpot_slo_s, beams=beams)
        if op_s is None:
            raise AiradarError("predicted infeasible under the SLOs")
        return op_s.throughput_tok_s * replicas / q.beams
    # at a given rate (companion latency rows, online QPS rows)
    if not q.rate_rps:
        return _burst(q, dep, prof, replicas)
    rate = q.rate_rps / replicas * q.beams
    op = serving.at_rate(dep, prof, rate_rps=rate, input_tokens=q.input_tokens,
                         output_tokens=q.output_tokens, capacity_rps=cap_rps, limit=limit,
                         beams=beams)
    return {"tok_s": op.throughput_tok_s * replicas / q.beams, "ttft_mean": op.ttft_mean_s,
            "ttft_p99": op.ttft_p99_s, "tpot_mean": op.tpot_mean_s,
            "tpot_p99": op.tpot_p99_s}[q.target]


def step_at_measured_batch(q: Query, prof: EfficiencyProfile, *,
                           memo: dict[tuple[Any, ...], Any] | None = None) -> float:
    """Predicted decode step time at the batch a Server/online run actually held: by
    Little's law over its decode phase, batch = output tokens/s x mean TPOT (per replica),
    with that batch's share of prompt tokens chunked into every step. Compared with the
    measured mean TPOT it fits the step model where the engine really operated, not only at
    its offline peak."""
    if q.target != "tpot_mean" or not q.rate_rps:
        raise AiradarError("not a mean-TPOT row at a known load")
    dep, replicas = _layout(q, stack_profile(q, prof), memo)
    b = max(q.rate_rps / replicas * q.beams * q.output_tokens * q.measured, 1.0)
    return serving.steady_step(dep, prof, batch=b, input_tokens=q.input_tokens,
                               output_tokens=q.output_tokens, beams=q.beams).time_s


def _burst(q: Query, dep: Deployment, prof: EfficiencyProfile, replicas: int) -> float:
    """All requests sent at once (QPS=INF): they are served in waves of the largest batch;
    the mean request waits half the waves before it, then its own prefill."""
    found = re.search(r"(\d+) requests", q.scenario)
    if not found:
        raise AiradarError("all-at-once run without its request count")
    n = float(found.group(1))
    limit = serving.batch_limit(dep, prof, input_tokens=q.input_tokens,
                                output_tokens=q.output_tokens, beams=q.beams)
    b = max(1.0, min(float(limit), n / replicas))
    st = serving.steady_step(dep, prof, batch=b, input_tokens=q.input_tokens,
                             output_tokens=q.output_tokens, beams=q.beams)
    waves = max(n / replicas / b, 1.0)
    wave_s = q.output_tokens * st.time_s
    pf = serving.prefill_alone_s(dep, prof, input_tokens=q.input_tokens * b)
    ttft = prof.ttft_k * ((waves - 1.0) / 2.0 * wave_s + pf)
    return {"tok_s": b * replicas / st.time_s / q.beams, "ttft_mean": ttft,
            "ttft_p99": ttft * prof.ttft_tail, "tpot_mean": st.time_s,
            "tpot_p99": st.time_s * prof.tpot_tail}[q.target]


@dataclass(frozen=True, kw_only=True)
class Scored:
    query: Query
    predicted: float
    profile: str
    low: float
    high: float

    @property
    def ape(self) -> float:
        return abs(self.predicted - self.query.measured) / self.query.measured

    @property
    def log_ratio(self) -> float:
        return math.log(self.predicted / self.query.measured)

    @property
    def inside(self) -> bool:
        return self.low <= self.query.measured <= self.high


#: the share of the rows' cost each kind of row takes (a Server capacity search is several
#: simulated runs; a row at a measured rate one; everything else a closed form)
_COST = {"server": 6.0, "rate": 1.0}
#: below this many simulated rows the rows are scored in this process
PARALLEL_MIN_SIMULATED = 40


def _predict_chunk(items: list[tuple[int, Query, EfficiencyProfile]],
                   latency_at: str = "operating") -> list[tuple[int, float | str]]:
    """Predict a chunk of rows with one memo (rows of one measured run share its simulated run):
    each index with its prediction or the reason it cannot be predicted."""
    memo: dict[tuple[Any, ...], Any] = {}
    out: list[tuple[int, float | str]] = []
    for i, q, prof in items:
        try:
            out.append((i, predict(q, prof, memo=memo, latency_at=latency_at)))
        except AiradarError as exc:
            out.append((i, str(exc)))
    return out


def default_workers() -> int:
    """Processes for scoring: the usable CPUs, at most 8."""
    return min(usable_cpus(), 8)


def _chunks(items: list[tuple[int, Query, EfficiencyProfile]], n: int
            ) -> list[list[tuple[int, Query, EfficiencyProfile]]]:
    """Rows of one measured run (one source) stay together; groups are dealt, costliest first,
    into ``n`` chunks of about equal cost."""
    groups: dict[str, list[tuple[int, Query, EfficiencyProfile]]] = defaultdict(list)
    for it in items:
        groups[it[1].source].append(it)

    def cost(g: list[tuple[int, Query, EfficiencyProfile]]) -> float:
        return sum(_COST.get(q.mode, 0.02) for _, q, _ in g)

    bins: list[tuple[float, int]] = [(0.0, k) for k in range(n)]
    out: list[list[tuple[int, Query, EfficiencyProfile]]] = [[] for _ in range(n)]
    for g in sorted(groups.values(), key=cost, reverse=True):
        load, k = min(bins)
        out[k].extend(g)
        bins[k] = (load + cost(g), k)
    return [c for c in out if c]


def score(queries: list[Query], profiles: dict[str, EfficiencyProfile] | None = None,
          workers: int | None = None, latency_at: str = "operating"
          ) -> tuple[list[Scored], dict[str, int]]:
    """Predict every query with its profile (given mapping, else the shipped lookup).

    The simulated rows dominate (a Server row is a capacity search over simulated runs); with
    ``workers`` > 1 (default: the usable CPUs, at most 8) and enough of them, rows are scored in
    that many processes. Profiles are chosen here, so the workers need no state of this
    process; the results do not depend on the number of workers. ``latency_at`` as in
    :func:`predict`."""
    items = [(i, q, _profile_for(q, profiles)) for i, q in enumerate(queries)]
    n = default_workers() if workers is None else max(1, workers)
    simulated = sum(1 for q in queries if q.mode in _COST and q.model.is_llm)
    if n > 1 and simulated >= PARALLEL_MIN_SIMULATED:
        parts = _chunks(items, n * 4)
        with ProcessPoolExecutor(max_workers=n,
                                 mp_context=multiprocessing.get_context("spawn")) as ex:
            results = [r for part in ex.map(partial(_predict_chunk, latency_at=latency_at), parts)
                       for r in part]
    else:
        results = _predict_chunk(items, latency_at)
    by_index = dict(results)
    out: list[Scored] = []
    skipped: dict[str, int] = {}
    for i, q, prof in items:
        p = by_index[i]
        if isinstance(p, str):
            skipped[p] = skipped.get(p, 0) + 1
            continue
        if not (p > 0 and math.isfinite(p)):
            skipped["prediction not finite"] = skipped.get("prediction not finite", 0) + 1
            continue
        lo, hi = est_mod._interval(p, sigma_for(q, prof))
        out.append(Scored(query=q, predicted=p, profile=prof.key, low=lo, high=hi))
    return out, skipped


def sigma_for(q: Query, prof: EfficiencyProfile) -> float:
    """The interval width that applies to the row's metric: throughput or latency."""
    return prof.sigma_log if q.target in ("tok_s", "samples_s") else prof.sigma_log_latency


def _profile_for(q: Query, profiles: dict[str, EfficiencyProfile] | None) -> EfficiencyProfile:
    return select_profile(q.hw, q.precision, q.stack, profiles=profiles)


def summary(scored: list[Scored]) -> dict[str, Any]:
    def block(items: list[Scored]) -> dict[str, Any]:
        if not items:
            return {"rows": 0}
        apes = [s.ape for s in items]
        return {"rows": len(items), "median_ape": statistics.median(apes),
                "within_25pct": sum(a <= 0.25 for a in apes) / len(apes),
                "interval_coverage": sum(s.inside for s in items) / len(items),
                "median_log_bias": statistics.median(s.log_ratio for s in items)}

    groups: dict[str, dict[str, list[Scored]]] = defaultdict(lambda: defaultdict(list))
    for s in scored:
        q = s.query
        groups["scenario"][q.scenario_kind].append(s)
        groups["subset"][q.subset].append(s)
        groups["metric"][q.target].append(s)
        groups["hardware"][q.hw.id].append(s)
        groups["model"][q.model.id].append(s)
        groups["source"][q.source.split(" ")[0]].append(s)
        groups["profile"][s.profile].append(s)
    return {"overall": block(scored),
            "groups": {g: {k: block(v) for k, v in sorted(d.items())} for g, d in groups.items()}}


#: smallest group a "worst model / worst hardware" figure is reported for
WORST_MIN_ROWS = 4


def subsets(scored: list[Scored]) -> dict[str, dict[str, Any]]:
    """Per validation subset: rows, median APE, and the worst model and worst hardware group
    (median APE over groups of at least ``WORST_MIN_ROWS`` rows), so a pooled median never
    hides a whole model or device."""
    by: dict[str, list[Scored]] = defaultdict(list)
    for s in scored:
        by[s.query.subset].append(s)
    by["all"] = list(scored)

    def worst(items: list[Scored], key: Any) -> dict[str, Any] | None:
        g: dict[str, list[float]] = defaultdict(list)
        for s in items:
            g[key(s)].append(s.ape)
        cands = [(statistics.median(v), k, len(v)) for k, v in g.items() if len(v) >= WORST_MIN_ROWS]
        if not cands:
            return None
        m, k, n = max(cands)
        return {"name": k, "median_ape": m, "rows": n}

    out: dict[str, dict[str, Any]] = {}
    for name, items in sorted(by.items()):
        if not items:
            continue
        apes = [s.ape for s in items]
        out[name] = {"rows": len(items), "median_ape": statistics.median(apes),
                     "within_25pct": sum(a <= 0.25 for a in apes) / len(apes),
                     "worst_model": worst(items, lambda s: s.query.model.id),
                     "worst_hardware": worst(items, lambda s: s.query.hw.id),
                     "models_over_30pct": sorted(
                         k for k, v in _groups(items, lambda s: s.query.model.id).items()
                         if len(v) >= WORST_MIN_ROWS and statistics.median(v) > 0.30)}
    return out


def _groups(items: list[Scored], key: Any) -> dict[str, list[float]]:
    g: dict[str, list[float]] = defaultdict(list)
    for s in items:
        g[key(s)].append(s.ape)
    return g
