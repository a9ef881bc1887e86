"""Heterogeneous plans, each compared with the best single-type fleet:

* a mix of hardware types chosen by an integer program (HiGHS through
  ``scipy.optimize.milp``) that serves the request-size classes at least cost;
* prefill and decode on different hardware (disaggregated serving, as in DistServe, Zhong et
  al. 2024, arXiv:2401.09670), with the KV cache moved over the link between them;
* base load on owned hardware with burst to cloud, sized hour by hour from the daily curve;
* edge devices against a central deployment."""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from airadar.errors import AiradarError
from airadar.perf import serving
from airadar.perf.estimate import estimate
from airadar.perf.memory import kv_bytes_per_token
from airadar.perf.profiles import select_profile
from airadar.perf.roofline import Deployment, iteration_time
from airadar.specs.model import ModelSpec
from airadar.specs.precision import Precision, Sparsity
from airadar.specs.scenario import Lengths, Workload
from airadar.units import ms_to_s, s_to_ms


@dataclass(frozen=True, kw_only=True)
class FleetType:
    """One candidate replica type for the mix: what it costs and what it serves."""

    label: str
    hw_id: str
    precision: str
    devices_per_replica: int
    site: str
    term: str
    usd_per_replica_hour: float


#: quantile bins of the derived classes and their names
BINS = ((0.0, 0.5, "short"), (0.5, 0.9, "long"), (0.9, 1.0, "longest"))


def request_classes(wl: Workload) -> tuple[list[tuple[str, float, float, float]], str]:
    """(name, input tokens, output tokens, share) and how they were obtained.

    The scenario's ``workload.request_classes`` when given (validated to keep the mean).
    Else, with a mean above the median: a log-normal with the median p50 and the scenario's
    mean (sigma = sqrt(2 ln(mean / p50))), cut at its 50% and 90% quantiles; each class is the
    conditional mean of its bin, E[X | a < Z < b] = mean x (Phi(b - s) - Phi(a - s)) /
    (Phi(b) - Phi(a)), so the classes' weighted mean is the scenario's mean exactly. Else one
    class at the mean."""
    from scipy.stats import norm

    out = wl.output_mean
    if wl.request_classes:
        return ([(c.name, c.input_tokens, c.output_tokens or out, c.share)
                 for c in wl.request_classes], "the scenario's workload.request_classes")
    it = wl.input_tokens
    if isinstance(it, Lengths) and it.p50 and it.mean > it.p50:
        s = math.sqrt(2 * math.log(it.mean / it.p50))
        rows = []
        for lo, hi, name in BINS:
            a, b = norm.ppf(lo), norm.ppf(hi)
            val = it.mean * (norm.cdf(b - s) - norm.cdf(a - s)) / (hi - lo)
            rows.append((name, float(val), out, hi - lo))
        fit_p90 = it.p50 * math.exp(s * norm.ppf(0.9))
        how = (f"input lengths log-normal with median {it.p50:,.0f} and mean {it.mean:,.0f} "
               f"tokens (its p90 is {fit_p90:,.0f}"
               + (f" vs the scenario's {it.p90:,.0f}" if it.p90 else "") + "); classes are "
               "the conditional means of its 0-50%, 50-90% and 90-100% bins ("
               + ", ".join(f"{n} {v:,.0f}" for n, v, _, _ in rows)
               + f" tokens), weighted mean {it.mean:,.0f} = the scenario's; output "
               f"{out:,.0f} tokens in every class")
        return rows, how
    return [("all", wl.input_mean, out, 1.0)], ("one class at the mean input length (no p50 "
                                                "below the mean to derive classes from)")


@contextlib.contextmanager
def _solver_output_to_stderr() -> Iterator[None]:
    """HiGHS (inside scipy) prints some diagnostics with C printf on file descriptor 1, e.g.
    "HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();", which would
    corrupt ``plan --json`` and the plan's table; send them to stderr while it solves."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def solve_mix(types: list[FleetType], caps: np.ndarray, demand: np.ndarray
              ) -> tuple[np.ndarray, float] | None:
    """Integer replicas x_t and continuous class routing y_tc minimising sum cost_t x_t,
    subject to sum_t y_tc = demand_c and sum_c y_tc / cap_tc <= x_t. Returns (x, cost)."""
    nt, nc = caps.shape
    nv = nt + nt * nc
    # in units of the smallest class demand, so that routing is above the solver's tolerance
    pos = demand[demand > 0]
    k = 1.0 / float(pos.min()) if pos.size and pos.min() < 1.0 else 1.0
    demand, caps = demand * k, caps * k
    cost = np.concatenate([[t.usd_per_replica_hour for t in types], np.zeros(nt * nc)])
    a_eq = np.zeros((nc, nv))
    for c in range(nc):
        for t in range(nt):
            a_eq[c, nt + t * nc + c] = 1.0
    a_cap = np.zeros((nt, nv))
    for t in range(nt):
        a_cap[t, t] = -1.0
        for c in range(nc):
            if caps[t, c] > 0:
                a_cap[t, nt + t * nc + c] = 1.0 / caps[t, c]
    ub = np.full(nv, np.inf)
    for t in range(nt):
        for c in range(nc):
            if caps[t, c] <= 0:
                ub[nt + t * nc + c] = 0.0
    with _solver_output_to_stderr():
        res = milp(c=cost, constraints=[LinearConstraint(a_eq, demand, demand),
                                        LinearConstraint(a_cap, -np.inf, 0.0)],
                   integrality=np.concatenate([np.ones(nt), np.zeros(nt * nc)]),
                   bounds=Bounds(np.zeros(nv), ub), options={"time_limit": 10.0})
    if res.x is None or not res.success:
        return None
    x = np.round(res.x[:nt])
    # the solver's feasibility tolerance (1e-7) can still leave a tiny load on no replica:
    # every type that carries load gets the replicas that load needs
    y = np.clip(res.x[nt:].reshape(nt, nc), 0.0, None)
    safe = np.where(caps > 0, caps, np.inf)
    load = (y / safe).sum(axis=1)
    x = np.maximum(x, np.where(load > 0, np.maximum(np.ceil(load - 1e-9), 1.0), 0.0))
    return x, float(cost[:nt] @ x)


def class_capacity(model: ModelSpec, hw_lookup: dict[str, Any], t: FleetType, inp: float,
                   out: float, ttft: float | None, tpot: float | None, stack: str | None) -> float:
    """Requests/s one replica of type ``t`` serves for requests of ``inp`` input tokens."""
    try:
        e = estimate(model=model, hw=hw_lookup[t.hw_id], count=t.devices_per_replica,
                     precision=Precision.parse(t.precision), input_tokens=inp,
                     output_tokens=out, mode="server", ttft_p99_s=ttft, tpot_p99_s=tpot,
                     stack=stack)
    except AiradarError:
        return 0.0
    return (e.throughput_output_tokens_per_s or 0.0) / out


def mixed_fleet(model: ModelSpec, wl: Workload, types: list[FleetType], hw_lookup: dict[str, Any],
                stack: str | None, ranked_best: tuple[str, float] | None = None
                ) -> dict[str, Any]:
    """The least-cost mix of ``types`` serving the request classes at the peak rate with
    headroom, compared with ``ranked_best`` (label, $/h): the plan's ranked #1."""
    classes, how = request_classes(wl)
    ttft = ms_to_s(wl.slo.ttft_p99_ms) if wl.slo.ttft_p99_ms else None
    tpot = ms_to_s(wl.slo.tpot_p99_ms) if wl.slo.tpot_p99_ms else None
    need = wl.peak_rps * (1 + wl.headroom)
    demand = np.array([need * share for _, _, _, share in classes])
    caps = np.array([[class_capacity(model, hw_lookup, t, inp, out, ttft, tpot, stack)
                      for _, inp, out, _ in classes] for t in types])
    single = []
    for i, t in enumerate(types):
        if np.all(caps[i] > 0):
            # at least one replica for any demand (a 1e-9 req/s peak rounded to none)
            n = max(1, math.ceil(float(np.sum(demand / caps[i])) - 1e-9))
            single.append((n * t.usd_per_replica_hour, i, n))
    best_single = min(single) if single else None
    sol = solve_mix(types, caps, demand) if len(types) else None
    res: dict[str, Any] = {
        "classes": [{"name": n, "input_tokens": i, "output_tokens": o, "share": s}
                    for n, i, o, s in classes],
        "classes_source": how,
        "types": [t.label for t in types],
        "capacity_rps_per_replica": caps.tolist(),
        "solver": "HiGHS (scipy.optimize.milp)",
    }
    if best_single:
        c, i, n = best_single
        res["best_single"] = {"type": types[i].label, "replicas": n, "usd_per_hour": c,
                              "what": "the cheapest single type of the mix's candidates, "
                                      "sized for the same request classes"}
    if sol is not None:
        x, cost = sol
        res["mix"] = {"replicas": {types[i].label: int(v) for i, v in enumerate(x) if v > 0},
                      "usd_per_hour": cost}
        if best_single and best_single[0] > 0:
            res["saving_vs_single"] = 1 - cost / best_single[0]
        if ranked_best:
            res["compared_with"] = {"label": ranked_best[0], "usd_per_hour": ranked_best[1],
                                    "what": "the ranked #1"}
            res["saving_vs_ranked_best"] = 1 - cost / ranked_best[1] if ranked_best[1] else 0.0
    return res


def disaggregated(model: ModelSpec, wl: Workload, pools: list[tuple[FleetType, Any]],
                  stack: str | None) -> dict[str, Any] | None:
    """Best (prefill type, decode type) pair: prefill pool sized on prompt tokens/s, decode pool
    on output tokens/s at the TPOT limit, KV moved over the prefill device's scale-out link."""
    if not model.is_llm or len(pools) < 1:
        return None
    inp, out = wl.input_mean, wl.output_mean
    need = wl.peak_rps * (1 + wl.headroom)
    tpot = ms_to_s(wl.slo.tpot_p99_ms) if wl.slo.tpot_p99_ms else None
    ttft = ms_to_s(wl.slo.ttft_p99_ms) if wl.slo.ttft_p99_ms else None
    rows = []
    for t, hw in pools:
        prec = Precision.parse(t.precision)
        prof = select_profile(hw, prec, stack)
        dep = Deployment(model=model, hw=hw, precision=prec, sparsity=Sparsity(),
                         tp=t.devices_per_replica, pp=1)
        limit = serving.batch_limit(dep, prof, input_tokens=inp, output_tokens=out)
        if limit < 1:
            continue
        pf_batch = max(1, min(limit, 8))
        pf_s = iteration_time(dep=dep, profile=prof, decode=0, context=inp,
                              prefill_tokens=inp * pf_batch, prefill_seqs=pf_batch).time_s
        prefill_rps = pf_batch / pf_s
        b = serving.slo_batch_limit(dep, prof, input_tokens=inp, output_tokens=out,
                                    tpot_p99_s=tpot, limit=limit)
        st = iteration_time(dep=dep, profile=prof, decode=b, context=inp + out / 2, prefill_tokens=0)
        decode_rps = b / st.time_s / out
        kv_s = kv_bytes_per_token(model=model, precision=prec, context=inp) * inp / max(
            hw.scale_out_bandwidth_bytes_per_s, 1e8)
        rows.append({"type": t, "prefill_rps": prefill_rps, "decode_rps": decode_rps,
                     "prefill_s": pf_s / pf_batch * pf_batch, "kv_transfer_s": kv_s,
                     "tpot_s": st.time_s * prof.tpot_tail})
    if not rows:
        return None
    best = None
    for p in rows:
        for d in rows:
            if tpot and d["tpot_s"] > tpot:
                continue
            ttft_est = p["prefill_s"] + p["kv_transfer_s"]
            if ttft and ttft_est > ttft:
                continue
            n_p = math.ceil(need / p["prefill_rps"] - 1e-9)
            n_d = math.ceil(need / d["decode_rps"] - 1e-9)
            cost = n_p * p["type"].usd_per_replica_hour + n_d * d["type"].usd_per_replica_hour
            if best is None or cost < best[0]:
                best = (cost, p, d, n_p, n_d, ttft_est)
    if best is None:
        return {"note": "no prefill/decode pair meets the SLOs"}
    cost, p, d, n_p, n_d, ttft_est = best
    return {"prefill": {"type": p["type"].label, "replicas": n_p},
            "decode": {"type": d["type"].label, "replicas": n_d},
            "kv_transfer_ms": s_to_ms(p["kv_transfer_s"]), "ttft_estimate_ms": s_to_ms(ttft_est),
            "usd_per_hour": cost,
            "method": "prefill pool sized on prompt throughput (batch of up to 8 prompts), decode "
                      "pool at the largest batch meeting the TPOT limit; KV bytes over the "
                      "prefill device's scale-out bandwidth"}


def base_plus_burst(wl: Workload, owned: FleetType | None, owned_cap_rps: float,
                    cloud: FleetType | None, cloud_cap_rps: float) -> dict[str, Any] | None:
    """Owned replicas k for the base, on-demand cloud replicas for each hour's remainder."""
    if owned is None or cloud is None or owned_cap_rps <= 0 or cloud_cap_rps <= 0:
        return None
    need_h = [wl.peak_rps * f * (1 + wl.headroom) for f in wl.curve]
    kmax = math.ceil(max(need_h) / owned_cap_rps - 1e-9)

    def day_cost(k: int) -> float:
        c = k * owned.usd_per_replica_hour * 24
        for n in need_h:
            rest = max(0.0, n - k * owned_cap_rps)
            c += math.ceil(rest / cloud_cap_rps - 1e-9) * cloud.usd_per_replica_hour
        return c

    costs = [day_cost(k) for k in range(kmax + 1)]
    k = int(np.argmin(costs))
    return {"owned": owned.label, "cloud": cloud.label, "owned_replicas": k,
            "usd_per_day": costs[k], "all_owned_usd_per_day": costs[kmax],
            "all_cloud_usd_per_day": costs[0],
            "saving_vs_all_owned": 1 - costs[k] / costs[kmax] if costs[kmax] else 0.0,
            "method": "hour-by-hour over the 24-value daily curve; cloud replicas scale with the "
                      "hour's demand, owned replicas are paid around the clock"}
