"""One future of a sweep: a grid point, draws of the uncertain inputs and of every
candidate's speed inside its prediction interval, then the planner's own scoring.

What does not change between futures is computed once: the performance options of a grid
point (``PerfTable``: the slow part of a plan, seconds) depend only on the fields perf reads;
a future then re-sizes each option's replica count for its traffic and its drawn speed and
prices everything with ``plan.planner.score_options`` (the one cost model, milliseconds).

Randomness: future ``i`` is grid point ``i mod G`` with draw ``k = i div G``; it draws its
inputs from ``SeedSequence(seed, spawn_key=(k,))`` and the candidates' speeds from a hash of
(seed, k, crc32(hardware|precision)) (``_speed_z``: one normal per (hardware, precision)).
So a future's answer depends on (seed, i) and the scenario only, never on which worker
computes it or in what order, and the G grid points of one draw see the same traffic, prices
and speeds (common random numbers: a grid comparison is paired).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from airadar.errors import AiradarError
from airadar.plan.options import PerfOption, build_options
from airadar.plan.planner import (
    candidate_hardware,
    candidate_sites,
    engine_for,
    load_model,
    score_options,
)
from airadar.plan.scoring import OK
from airadar.policy.sovereignty import SiteVerdict, evaluate
from airadar.specs.model import ModelSpec
from airadar.specs.scenario import Scenario
from airadar.specs.site import Site
from airadar.sweep.spec import SweepSpec, with_values
from airadar.units import HOURS_PER_MONTH, SECONDS_PER_HOUR, ms_to_s, s_to_ms

#: scenario fields the performance options read (a grid over any of them means a new table)
PERF_FIELDS = ("model", "workload.input_tokens", "workload.output_tokens", "workload.slo",
               "workload.quality_floor", "workload.peak_rps", "workload.headroom",
               "candidates.hardware", "candidates.precisions", "candidates.sparsity",
               "candidates.modes", "candidates.max_devices_per_replica", "candidates.stack")
VERSION = "sweep-3"


def perf_key(sc: Scenario) -> str:
    d = sc.model_dump(mode="json")
    sub = {}
    for p in PERF_FIELDS:
        cur: Any = d
        for part in p.split("."):
            cur = cur[part]
        sub[p] = cur
    return hashlib.sha256(json.dumps(sub, sort_keys=True).encode()).hexdigest()[:16]


def option_type(o: PerfOption) -> str:
    """A candidate's identity across futures: everything but the replica count."""
    sp = "" if o.sparsity == "dense" else f" {o.sparsity}"
    return f"{o.hw.id} x{o.devices_per_replica}/replica {o.precision}{sp} {o.mode}"


@dataclass(frozen=True, kw_only=True)
class PerfTable:
    """The performance options of one grid point and their log-normal speed uncertainty."""

    key: str
    model: ModelSpec
    options: tuple[PerfOption, ...]
    types: tuple[str, ...]
    #: log-space centre (relative to the point prediction) and sigma of each option's
    #: throughput: the estimate's 80% interval read as the 10th/90th percentiles
    mu: np.ndarray
    sigma: np.ndarray
    speed_keys: tuple[int, ...]
    seconds: float


def build_table(sc: Scenario, base_dir: str | None) -> PerfTable:
    import time

    from airadar.sweep.spec import Z80

    t0 = time.perf_counter()
    model = load_model(sc, Path(base_dir) if base_dir else None)
    options, _ = build_options(sc, model, candidate_hardware(sc))
    mu, sig = [], []
    for o in options:
        point = o.est.throughput_output_tokens_per_s if model.is_llm else o.est.throughput_samples_per_s
        lo, hi = o.est.interval
        if point and lo > 0 and hi >= lo:
            mu.append(0.5 * (math.log(lo) + math.log(hi)) - math.log(point))
            sig.append(math.log(hi / lo) / (2 * Z80))
        else:
            mu.append(0.0)
            sig.append(0.0)
    return PerfTable(key=perf_key(sc), model=model, options=tuple(options),
                     types=tuple(option_type(o) for o in options), mu=np.array(mu),
                     sigma=np.array(sig),
                     speed_keys=tuple(zlib.crc32(f"{o.hw.id}|{o.precision}".encode())
                                      for o in options),
                     seconds=time.perf_counter() - t0)


@dataclass(frozen=True, kw_only=True)
class SweepPlan:
    """Everything a worker needs: the scenario, the sweep, the grid points and their tables."""

    sweep_id: str
    spec: SweepSpec
    scenario_name: str
    objective: str
    base: dict[str, Any]
    base_dir: str | None
    nominal: tuple[Scenario, ...]
    tables: dict[str, PerfTable] = field(default_factory=dict)

    @property
    def perf_scenarios(self) -> dict[str, Scenario]:
        """One scenario per distinct performance table."""
        out: dict[str, Scenario] = {}
        for sc in self.nominal:
            out.setdefault(perf_key(sc), sc)
        return out


def make_plan(sc: Scenario, spec: SweepSpec, base_dir: str | None) -> SweepPlan:
    base = sc.model_dump(mode="json")
    nominal = tuple(with_values(base, gp, f"sweep.grid point {n}")
                    for n, gp in enumerate(spec.grid_points))
    # the scenario's folder matters only when the model is a config.json path relative to it
    ident = {"version": VERSION, "scenario": base,
             "base_dir": base_dir if sc.model.endswith(".json") else None,
             "spec": {**spec.to_json(), "futures": None}}
    sid = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]
    return SweepPlan(sweep_id=sid, spec=spec, scenario_name=sc.name, objective=sc.objective,
                     base=base, base_dir=base_dir, nominal=nominal)


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def _speed_z(seed: int, draw: int, keys: tuple[int, ...]) -> np.ndarray:
    """A standard normal per (hardware, precision) key of a draw: the inverse normal CDF of a
    64-bit BLAKE2b hash of (seed, draw, key). Each key's value depends on nothing else, so
    adding a hardware row to the catalog leaves every other candidate's draws as they were,
    and it costs microseconds (a Generator per key would cost more than scoring)."""
    from scipy.special import ndtri

    uniq = sorted(set(keys))
    u = np.array([(int.from_bytes(hashlib.blake2b(f"{seed}:{draw}:{k}".encode(), digest_size=8)
                                  .digest(), "little") + 0.5) / 2.0**64 for k in uniq])
    z = dict(zip(uniq, ndtri(u), strict=True))
    return np.array([z[k] for k in keys])


class Evaluator:
    """Evaluates futures of one plan; caches the sites and policy verdicts it meets."""

    def __init__(self, plan: SweepPlan) -> None:
        self.plan = plan
        self._sites: dict[str, tuple[list[Site], dict[str, SiteVerdict]]] = {}

    def _sites_of(self, sc: Scenario) -> tuple[list[Site], dict[str, SiteVerdict]]:
        key = json.dumps([sc.candidates.sites, sc.candidates.site_kinds,
                          sc.workload.data.model_dump(mode="json")], sort_keys=True)
        if key not in self._sites:
            sites = candidate_sites(sc)
            self._sites[key] = (sites, {s.id: evaluate(s, sc.workload.data) for s in sites})
        return self._sites[key]

    def evaluate(self, i: int) -> dict[str, Any]:
        plan, spec = self.plan, self.plan.spec
        gp, draw = i % len(plan.nominal), i // len(plan.nominal)
        nominal = plan.nominal[gp]
        table = plan.tables[perf_key(nominal)]
        rng = _rng(spec.seed, draw)
        drawn = {p: d.sample(rng) for p, d in spec.vary.items()}
        fut = with_values(nominal.model_dump(mode="json"), drawn, f"future {i}") if drawn else nominal
        wl = fut.workload
        opts = table.options
        factor = np.ones(len(opts))
        if spec.prediction_interval and opts:
            # one draw per (hardware, precision): their options share a profile, so their
            # prediction errors move together
            factor = np.exp(table.mu + table.sigma * _speed_z(spec.seed, draw, table.speed_keys))
        need = wl.peak_rps * (1.0 + wl.headroom)
        resized = [_resized(o, o.capacity_rps_per_replica * f,
                            max(1, math.ceil(need / (o.capacity_rps_per_replica * f) - 1e-9)))
                   for o, f in zip(opts, factor, strict=True)]
        # the plan as bought (sized at the grid point's peak from the point prediction)
        # misses its SLO when the drawn peak exceeds what those replicas really serve
        miss = np.array([wl.peak_rps > o.replicas * o.capacity_rps_per_replica * f
                         for o, f in zip(opts, factor, strict=True)], dtype=bool)
        sites, verdicts = self._sites_of(fut)
        out: dict[str, Any] = {"i": i, "grid": gp,
                               "inputs": {**{k: v for k, v in plan.spec.grid_points[gp].items()
                                             if _scalar(v)}, **drawn}, "c": {}}
        if not resized or not sites:
            return out
        g = score_options(fut, table.model, resized, sites, verdicts)
        month = g.usd_per_hour * HOURS_PER_MONTH
        obj = {"min_tco": month, "min_cost_per_token": g.usd_per_mtok,
               "min_energy": np.broadcast_to(g.kwh_month[:, :, None], month.shape),
               "min_latency": np.broadcast_to(
                   np.array([o.e2e_p99_s for o in resized])[:, None, None], month.shape),
               }[fut.objective]
        terms = fut.candidates.terms
        c: dict[str, list[Any]] = {}
        for a, b, k in np.argwhere(g.reason == OK):
            key = f"{table.types[a]} @ {sites[b].id} ({terms[k]})"
            c[key] = [float(month[a, b, k]), _f(g.usd_per_mtok[a, b, k]), _f(obj[a, b, k]),
                      int(miss[a]), int(resized[a].replicas), round(float(factor[a]), 6)]
        out["c"] = c
        if spec.simulate_top and table.model.is_llm and c:
            out["sim"] = self._simulate(draw, fut, table, c, opts, factor, sites)
        return out

    def _simulate(self, draw: int, fut: Scenario, table: PerfTable, c: dict[str, list[Any]],
                  opts: tuple[PerfOption, ...], factor: np.ndarray, sites: list[Site]
                  ) -> dict[str, Any]:
        """The serving simulator over a full day of the future's traffic (Poisson arrivals
        following the daily curve) for its top K candidates, each as bought (replicas sized
        at the grid point) and running at its drawn speed."""
        from airadar.sim.simulator import SimConfig, simulate
        from airadar.sim.workload import Requests, arrivals, lengths

        wl = fut.workload
        by_type = {t: n for n, t in enumerate(table.types)}
        top = sorted(c, key=lambda k: (c[k][2], k))[:self.plan.spec.simulate_top]
        curve = np.asarray(wl.curve, dtype=float)
        n_req = max(1, int(round(float(curve.sum()) * SECONDS_PER_HOUR * wl.peak_rps)))
        out: dict[str, Any] = {}
        for key in top:
            a = by_type[key.split(" @ ")[0]]
            o = opts[a]
            if o.mode != "server":
                continue
            try:
                rm = engine_for(o, fut, table.model)
            except AiradarError:
                continue
            f = float(factor[a])
            rm = replace(rm, memory_s=rm.memory_s / f, compute_s=rm.compute_s / f,
                         serial_s=None if rm.serial_s is None else rm.serial_s / f,
                         overhead_s=rm.overhead_s / f,
                         prefill_s_per_token=rm.prefill_s_per_token / f)
            rng = _rng(self.plan.spec.seed, draw, 2)
            req = Requests(arrival_s=arrivals(kind="daily", rate_rps=wl.peak_rps, n=n_req, rng=rng,
                                              daily_curve=tuple(curve)),
                           input_tokens=lengths(str(round(wl.input_mean)), n_req, rng, name="input"),
                           output_tokens=lengths(str(round(wl.output_mean)), n_req, rng,
                                                 name="output"))
            ttft = ms_to_s(wl.slo.ttft_p99_ms or 0) or None
            tpot = ms_to_s(wl.slo.tpot_p99_ms or 0) or None
            res = simulate(req, SimConfig(replica=rm, replicas=o.replicas * o.est.layout.replicas,
                                          ttft_slo_s=ttft, tpot_slo_s=tpot))
            t99, p99 = res["ttft_s"]["p99"], res["tpot_s"]["p99"] or 0.0
            out[key] = {"requests": n_req, "ttft_p99_ms": s_to_ms(t99), "tpot_p99_ms": s_to_ms(p99),
                        "miss": int(bool((ttft and t99 > ttft) or (tpot and p99 > tpot)))}
        return out


def _resized(o: PerfOption, capacity: float, replicas: int) -> PerfOption:
    """``o`` with another capacity and replica count (a shallow copy; faster than
    ``dataclasses.replace``, which re-runs ``__init__``)."""
    c = copy.copy(o)
    object.__setattr__(c, "capacity_rps_per_replica", float(capacity))
    object.__setattr__(c, "replicas", int(replicas))
    return c


def _f(x: float) -> float | None:
    return None if not math.isfinite(float(x)) else float(x)


def _scalar(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def inputs_of(plan: SweepPlan) -> list[str]:
    return [*sorted(plan.spec.grid), *plan.spec.vary]
