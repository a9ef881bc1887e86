"""``plan``: enumerate, size, filter, score, rank, Pareto, and the heterogeneous options.
Every rejected candidate keeps its reason; an infeasible scenario names the constraint that
removed the last candidates and how close the nearest came."""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from airadar.catalog import resolve
from airadar.catalog.loader import load_hardware
from airadar.catalog.prices import cloud_price_table
from airadar.catalog.sites import load_prices, load_sites
from airadar.catalog.sites import site as get_site
from airadar.cost.deployment import DeploymentCost, deployment_cost
from airadar.cost.pricing import PriceAge, max_age_days, usd_per
from airadar.errors import AiradarError, InfeasibleError, SpecError
from airadar.perf.profiles import check_stack
from airadar.plan import hetero
from airadar.plan.options import PerfOption, Rejection, build_options
from airadar.plan.pareto import pareto_mask
from airadar.plan.scoring import OK, REASONS, Grid, score
from airadar.policy.licence import excluded, load_licence_rules
from airadar.policy.sovereignty import SiteVerdict, evaluate
from airadar.sim.engine import ReplicaModel
from airadar.specs.hardware import HardwareSpec
from airadar.specs.model import ModelSpec, spec_from_config_file
from airadar.specs.scenario import Scenario
from airadar.specs.site import Site
from airadar.units import HOURS_PER_MONTH, kg_to_tonnes, ms_to_s, s_to_ms

TOP_DETAIL = 15


@dataclass(frozen=True, kw_only=True)
class Candidate:
    option: PerfOption
    site: Site
    term: str
    usd_per_hour: float
    usd_per_month: float
    usd_per_mtok: float
    kwh_month: float
    kgco2e_month: float
    facility_kw: float
    billed_devices: int
    utilization: float
    verdict: SiteVerdict
    pareto: bool = False
    detail: dict[str, Any] = field(default_factory=dict)
    #: the oldest price this cost uses, whether it is old, and its labels
    price_age: PriceAge | None = None

    @property
    def label(self) -> str:
        if self.site.kind == "device":  # per-user devices: no replicas to show
            o = self.option
            return f"{o.hw.id} 1 per user {o.precision} {o.mode} @ {self.site.id}"
        return f"{self.option.label} @ {self.site.id} ({self.term})"

    def to_json(self) -> dict[str, Any]:
        o = self.option
        llm = o.est.throughput_output_tokens_per_s is not None
        return {
            "label": self.label, "hardware": o.hw.id, "hardware_class": o.hw.hw_class,
            "devices": o.devices, "billed_devices": self.billed_devices,
            "replicas": o.replicas, "devices_per_replica": o.devices_per_replica,
            "layout": o.est.layout.label, "precision": o.precision, "sparsity": o.sparsity,
            "mode": o.mode, "site": self.site.id, "site_kind": self.site.kind,
            "country": self.site.country, "term": self.term,
            "usd_per_hour": self.usd_per_hour, "usd_per_month": self.usd_per_month,
            **({"usd_per_million_output_tokens": self.usd_per_mtok,
                "ttft_mean_ms": s_to_ms(o.ttft_mean_s), "ttft_p99_ms": s_to_ms(o.ttft_p99_s),
                "tpot_p99_ms": s_to_ms(o.tpot_p99_s)} if llm else
               {"usd_per_million_inferences": self.usd_per_mtok,
                "latency_mean_ms": s_to_ms(o.ttft_mean_s), "latency_p99_ms": s_to_ms(o.ttft_p99_s)}),
            "e2e_p99_ms": s_to_ms(o.e2e_p99_s),
            "capacity_rps": o.capacity_rps_per_replica * o.replicas,
            "utilization": self.utilization, "bottleneck": o.bottleneck,
            "kwh_per_month": self.kwh_month, "tco2e_per_month": kg_to_tonnes(self.kgco2e_month),
            "facility_kw": self.facility_kw, "quality": o.quality,
            "quality_source": o.quality_source, "verdict": self.verdict.decision,
            "verdict_reasons": self.verdict.reasons,
            "policy": self.verdict.to_json(), "pareto": self.pareto,
            "perf_provenance": o.est.provenance["kind"] + " / " + o.est.provenance["profile"],
            "latency_source": "analytical queueing model (perf.serving)",
            **(self.price_age.to_json() if self.price_age else {}),
            **({"cost_detail": self.detail} if self.detail else {}),
        }


@dataclass(frozen=True, kw_only=True)
class PlanResult:
    scenario: Scenario
    model: ModelSpec
    ranked: list[Candidate]
    rejected: dict[str, Any]
    heterogeneous: dict[str, Any]
    stats: dict[str, Any]
    verdicts: dict[str, SiteVerdict]

    @property
    def pareto(self) -> list[Candidate]:
        return [c for c in self.ranked if c.pareto]

    def to_json_assumptions(self) -> list[dict[str, str]]:
        return assumptions(self)

    def to_json(self, limit: int | None = None) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name, "model": self.model.id,
            "objective": self.scenario.objective,
            "workload": self.scenario.workload.model_dump(mode="json"),
            "ranked": [c.to_json() for c in self.ranked[:limit]],
            "pareto": [c.label for c in self.pareto],
            "rejected": self.rejected, "heterogeneous": self.heterogeneous,
            "policy": {k: v.to_json() for k, v in self.verdicts.items()},
            "stats": self.stats,
            "assumptions": assumptions(self),
        }


def assumptions(res: PlanResult) -> list[dict[str, str]]:
    """The figures every ranked number depends on, with their sources."""
    out = []
    seen = set()
    for c in res.ranked[:TOP_DETAIL]:
        hw = c.option.hw
        for k, v in hw.sources.items():
            key = (hw.id, k)
            if key not in seen:
                seen.add(key)
                out.append({"what": f"{hw.id} {k}", "source": f"{v.source} ({v.as_of})"})
        for k, v in (c.detail.get("provenance") or {}).items():
            if isinstance(v, str) and (c.site.id, k) not in seen:
                seen.add((c.site.id, k))
                out.append({"what": f"{c.site.id} {k}", "source": v})
    fin = res.scenario.financial
    _rate, fx = usd_per("EUR", fin)
    out.append({"what": "exchange rate", "source": fx})
    out.append({"what": "price age", "source": f"prices older than {max_age_days(fin):g} days "
                "are flagged (financial.max_price_age_days); aged against "
                f"{res.stats.get('price_date', '')}"})
    mix = res.heterogeneous.get("mix") or {}
    if mix.get("classes_source"):
        out.append({"what": "request classes (mixed fleet)", "source": mix["classes_source"]})
    out.append({"what": "model", "source": f"{res.model.source.source} ({res.model.source.as_of})"})
    out.append({"what": "performance", "source": "roofline x calibration profile "
                "(catalog/data/profiles.yaml, fitted on data/calibration.csv)"})
    return out


def check_inputs(sc: Scenario, model: ModelSpec) -> None:
    """What the scenario's schema cannot check alone, each a one-line error naming the field:
    the stack is one airadar knows, every price override names a known site and hardware,
    and a request fits the model's context."""
    check_stack(sc.candidates.stack, "candidates.stack")
    for key in sc.financial.price_overrides:
        field = f"financial.price_overrides[{key}]"
        site_id, sep, hw_name = key.partition("/")
        if not sep or not site_id or not hw_name:
            raise SpecError(field, key, "a key 'site/hardware', e.g. 'ovhcloud-gra/h100-sxm'")
        try:
            get_site(site_id)
            hw_id = resolve.hardware(hw_name).id
        except AiradarError as exc:
            raise SpecError(field, key, f"a known site and hardware ({exc})") from None
        if hw_id != hw_name:
            raise SpecError(field, key, f"the catalog id of the hardware: '{site_id}/{hw_id}'")
    wl = sc.workload
    model.check_context(input_tokens=wl.input_mean, output_tokens=wl.output_mean,
                        field="workload.input_tokens")


def load_model(sc: Scenario, base: Path | None = None) -> ModelSpec:
    m = sc.model
    if m.endswith(".json"):
        p = Path(m)
        if not p.is_absolute() and base is not None:
            p = base / p
        return spec_from_config_file(p)
    return resolve.model(m)


def _objective(c: Candidate, objective: str) -> float:
    return {"min_tco": c.usd_per_hour, "min_cost_per_token": c.usd_per_mtok,
            "min_energy": c.kwh_month, "min_latency": c.option.e2e_p99_s}[objective]


def candidate_hardware(sc: Scenario) -> list[HardwareSpec]:
    """The hardware rows a scenario's ``candidates.hardware`` names (or the whole catalog)."""
    h = sc.candidates.hardware
    return list(load_hardware()) if h == "all" else [resolve.hardware(x) for x in h]


def candidate_sites(sc: Scenario) -> list[Site]:
    """The sites a scenario's ``candidates.sites`` names, of the allowed kinds."""
    cand = sc.candidates
    sites = list(load_sites()) if cand.sites == "all" else [get_site(s) for s in cand.sites]
    return [s for s in sites if s.kind in cand.site_kinds]


def average_rps(sc: Scenario) -> float:
    wl = sc.workload
    return wl.average_rps or wl.peak_rps * float(np.mean(wl.curve))


def score_options(sc: Scenario, model: ModelSpec, options: list[PerfOption], sites: list[Site],
                  verdicts: dict[str, SiteVerdict]) -> Grid:
    """Price every option at every site and term of the scenario (the planner's one cost
    model; ``airadar sweep`` calls it once per future with re-sized options)."""
    wl, con, cand = sc.workload, sc.constraints, sc.candidates
    return score(options, sites, verdicts, cand.terms, sc.financial, avg_rps=average_rps(sc),
                 out_tokens=wl.output_mean if model.is_llm else 1.0, users=wl.users,
                 max_devices=con.max_devices, power_cap_kw=con.power_cap_kw,
                 budget_usd_per_month=con.budget_usd_per_month,
                 today=sc.financial.price_date or date.today(),
                 onprem_setting=cand.onprem_setting,
                 peak_rps_per_user=wl.peak_rps * (1 + wl.headroom) / (wl.users or 1))


def plan(sc: Scenario, *, base_dir: Path | None = None, detail: bool = True) -> PlanResult:
    t0 = time.perf_counter()
    today = sc.financial.price_date or date.today()
    model = load_model(sc, base_dir)
    check_inputs(sc, model)
    cand = sc.candidates
    hardware = candidate_hardware(sc)
    sites = candidate_sites(sc)
    options, rejections = build_options(sc, model, hardware)
    t_perf = time.perf_counter()
    verdicts = {s.id: evaluate(s, sc.workload.data) for s in sites}
    cloud_price_table(today)  # load the price catalogs here, not inside the timed scoring loop
    load_prices()
    load_licence_rules()
    avg = average_rps(sc)
    con = sc.constraints
    grid: Grid | None = None
    ranked: list[Candidate] = []
    t_score0 = time.perf_counter()
    if options:
        grid = score_options(sc, model, options, sites, verdicts)
    t_score = time.perf_counter()
    reason_counts: Counter[str] = Counter(r.category for r in rejections)
    examples: dict[str, list[str]] = defaultdict(list)
    for r in rejections:
        if len(examples[r.category]) < 5:
            examples[r.category].append(f"{r.what}: {r.reason}")
    if grid is not None:
        ok = np.argwhere(grid.reason == OK)
        for code, cat in REASONS.items():
            n = int(np.sum(grid.reason == code))
            if n and cat != "price":
                reason_counts[cat] += n
        # keep one example per category with its site-specific reason
        for i, j, k in np.argwhere((grid.reason != OK) & (grid.reason != 1))[:2000]:
            cat = REASONS[int(grid.reason[i, j, k])]
            if len(examples[cat]) >= 5:
                continue
            s = sites[j]
            if cat == "policy":
                why = "; ".join(verdicts[s.id].reasons)
            elif cat == "licence":
                why = excluded(options[i].hw, s, onprem_setting=cand.onprem_setting) or ""
            elif cat == "per-user device":
                why = ("the users' own devices run one request at a time on one device per "
                       "user: only single-stream options on one device qualify")
            elif cat == "price":
                why = "no sourced price or tariff (user parameter)"
            elif cat == "devices":
                why = f"needs {int(grid.billed_devices[i, j, k])} devices > max {con.max_devices}"
            elif cat == "power":
                why = f"{grid.facility_kw[i, j]:.1f} kW > cap {con.power_cap_kw} kW"
            elif cat == "no power figure":
                why = (f"{options[i].hw.id} has no sourced power figure (tdp_w): its energy "
                       "at an owned site cannot be priced (add power.tdp_w to its hardware "
                       "row)")
            else:
                why = (f"${grid.usd_per_hour[i, j, k] * HOURS_PER_MONTH:,.0f}/month > budget "
                       f"${con.budget_usd_per_month or 0:,.0f}")
            examples[cat].append(f"{options[i].label} @ {s.id}: {why}")
        reason_counts["price"] += int(np.sum(grid.reason == 2) + np.sum(grid.reason == 3))
        for i, j, k in ok:
            o, s = options[i], sites[j]
            ranked.append(Candidate(
                option=o, site=s, term=cand.terms[k], usd_per_hour=float(grid.usd_per_hour[i, j, k]),
                usd_per_month=float(grid.usd_per_hour[i, j, k] * HOURS_PER_MONTH),
                usd_per_mtok=float(grid.usd_per_mtok[i, j, k]),
                kwh_month=_finite(grid.kwh_month[i, j]),
                kgco2e_month=_finite(grid.kgco2e_month[i, j]),
                facility_kw=float(grid.facility_kw[i, j]),
                billed_devices=int(grid.billed_devices[i, j, k]),
                utilization=float(grid.load[i, j]), verdict=verdicts[s.id],
                price_age=grid.price_age.get((int(grid.hw_index[i]), int(j),
                                              0 if s.owned else int(k)))))
    rank = {"allow": 0, "conditions": 1, "deny": 2}
    ranked.sort(key=lambda c: (_objective(c, sc.objective), rank[c.verdict.decision],
                               c.usd_per_hour, c.option.e2e_p99_s, c.kwh_month, c.label))
    if not ranked:
        raise InfeasibleError(_why_infeasible(sc, rejections, reason_counts, examples, grid))
    pts = np.array([[c.usd_per_hour, c.option.e2e_p99_s, c.kwh_month] for c in ranked])
    mask = pareto_mask(np.nan_to_num(pts, nan=np.inf))
    ranked = [Candidate(**{**c.__dict__, "pareto": bool(m)}) for c, m in zip(ranked, mask,
                                                                              strict=True)]
    if detail:
        ranked = _with_detail(ranked, sc, avg, model, today)
        ranked = _simulate_top(ranked, sc, model)
    het = _heterogeneous(sc, model, ranked) if detail else {}
    t_end = time.perf_counter()
    n_scored = grid.count if grid is not None else 0
    stats = {"options": len(options), "sites": len(sites), "terms": len(cand.terms),
             "candidates_scored": n_scored, "feasible": len(ranked),
             "seconds": {"perf": round(t_perf - t0, 3), "scoring": round(t_score - t_score0, 4),
                         "total": round(t_end - t0, 3)},
             "candidates_per_second": n_scored / max(t_score - t_score0, 1e-9),
             "price_date": today.isoformat()}
    unlock = grid.unlock.most_common(5) if grid is not None else []
    rejected = {"by_reason": dict(reason_counts), "examples": dict(examples),
                "unlock": [{"missing": k, "would_add_candidates": v} for k, v in unlock]}
    return PlanResult(scenario=sc, model=model, ranked=ranked, rejected=rejected,
                      heterogeneous=het, stats=stats, verdicts=verdicts)


def _finite(x: float) -> float:
    """NaN (power not published) sorts last as +inf."""
    return math.inf if math.isnan(x) else float(x)


def detail_cost(c: Candidate, sc: Scenario, avg_rps: float, model: ModelSpec,
                today: date) -> DeploymentCost:
    """The detailed cost of a ranked candidate, from ``cost.deployment`` with the figures the
    ranking used (devices billed, load per device, average rate for egress): the same
    ``cost.fleet`` formula, so its $/hour equals the ranked one (tested)."""
    fin = sc.financial.model_copy(update={"utilization": max(min(c.utilization, 1.0), 1e-6),
                                           "term": c.term})
    devices = c.billed_devices if c.site.kind == "device" else c.option.devices
    tput = avg_rps * sc.workload.output_mean / fin.utilization if model.is_llm else None
    return deployment_cost(hw=c.option.hw, devices=devices, site=c.site, fin=fin,
                           throughput_tok_s=tput, bottleneck=c.option.bottleneck,
                           requests_per_s=avg_rps, today=today)


def _with_detail(ranked: list[Candidate], sc: Scenario, avg: float, model: ModelSpec,
                 today: date) -> list[Candidate]:
    out = []
    for n, c in enumerate(ranked):
        if n < TOP_DETAIL or c.pareto:
            try:
                d = detail_cost(c, sc, avg, model, today)
                c = Candidate(**{**c.__dict__, "detail": d.to_json()})
            except AiradarError as exc:  # the score stands; say why the detail is missing
                c = Candidate(**{**c.__dict__, "detail": {"cost_error": str(exc)}})
        out.append(c)
    return out


SIM_TOP = 3


def engine_for(o: PerfOption, sc: Scenario, model: ModelSpec) -> ReplicaModel:
    """The serving engine of one replica of an option as the planner configures it: the batch
    cap that keeps TPOT within its limit and, with a TPOT limit, a prefill chunk small enough
    that a step carrying one stays within half of it (Sarathi-Serve tuning)."""
    from airadar.perf import serving
    from airadar.perf.profiles import select_profile
    from airadar.perf.roofline import Deployment
    from airadar.sim.simulator import replica_model
    from airadar.specs.precision import Precision, Sparsity

    wl = sc.workload
    lay = o.est.layout
    dep = Deployment(model=model, hw=o.hw, precision=Precision.parse(o.precision),
                     sparsity=Sparsity.parse(o.sparsity if o.sparsity != "dense" else "none"),
                     tp=lay.tp, pp=lay.pp)
    prof = select_profile(o.hw, dep.precision, sc.candidates.stack)
    tpot = ms_to_s(wl.slo.tpot_p99_ms) if wl.slo.tpot_p99_ms else None
    cap_b = serving.slo_batch_limit(
        dep, prof, input_tokens=wl.input_mean, output_tokens=wl.output_mean,
        tpot_p99_s=tpot, limit=serving.batch_limit(
            dep, prof, input_tokens=wl.input_mean, output_tokens=wl.output_mean))
    rm = replica_model(dep, prof, mean_input=wl.input_mean, mean_output=wl.output_mean,
                       max_batch=cap_b)
    if tpot:
        chunk = int(max(64, min(8192, 0.5 * tpot / max(rm.prefill_s_per_token, 1e-12))))
        rm = replica_model(dep, prof, mean_input=wl.input_mean, mean_output=wl.output_mean,
                           max_batch=cap_b, prefill_chunk_tokens=chunk)
    return rm


def _simulate_top(ranked: list[Candidate], sc: Scenario, model: ModelSpec) -> list[Candidate]:
    """Run the serving simulator on the top LLM server candidates at the peak rate and keep
    its tail latencies beside the analytical ones."""
    if not model.is_llm:
        return ranked
    from airadar.sim.simulator import MAX_REPLICAS, SimConfig, simulate
    from airadar.sim.workload import Requests, arrivals, lengths

    wl = sc.workload
    out, done = [], 0
    simulated: dict[int, dict[str, Any]] = {}  # one run per performance option, whatever site
    for c in ranked:
        o = c.option
        if id(o) in simulated:
            c = Candidate(**{**c.__dict__, "detail": {**c.detail, "simulated": simulated[id(o)]}})
        elif done < SIM_TOP and o.mode == "server" and c.site.kind not in ("device",) \
                and o.replicas * o.est.layout.replicas <= MAX_REPLICAS:
            lay = o.est.layout
            try:
                rm = engine_for(o, sc, model)
                n = int(min(20_000, max(2_000, wl.peak_rps * 900)))
                rng = np.random.default_rng(0)
                req = Requests(arrival_s=arrivals(kind="poisson", rate_rps=wl.peak_rps, n=n, rng=rng),
                               input_tokens=lengths(str(round(wl.input_mean)), n, rng, name="input"),
                               output_tokens=lengths(str(round(wl.output_mean)), n, rng, name="output"))
                res = simulate(req, SimConfig(replica=rm, replicas=o.replicas * lay.replicas,
                                              ttft_slo_s=ms_to_s(wl.slo.ttft_p99_ms or 0) or None,
                                              tpot_slo_s=ms_to_s(wl.slo.tpot_p99_ms or 0) or None))
                sim = {"requests": n, "ttft_p99_ms": s_to_ms(res["ttft_s"]["p99"]),
                       "tpot_p99_ms": s_to_ms(res["tpot_s"]["p99"] or 0),
                       "e2e_p99_ms": s_to_ms(res["e2e_s"]["p99"]),
                       "goodput_fraction": res["goodput_requests_per_s"] * res["wall_s"] / n,
                       "prefill_chunk_tokens": rm.prefill_chunk_tokens, "max_batch": rm.max_batch,
                       "method": "airadar.sim at the peak rate, Poisson arrivals, round-robin"}
                c = Candidate(**{**c.__dict__, "detail": {**c.detail, "simulated": sim}})
                simulated[id(o)] = sim
                done += 1
            except AiradarError as exc:  # the rank stands; say why there is no simulation
                c = Candidate(**{**c.__dict__, "detail": {**c.detail,
                                                          "simulated_error": str(exc)}})
        out.append(c)
    return out


def _why_infeasible(sc: Scenario, rejections: list[Rejection], counts: Counter[str],
                    examples: dict[str, list[str]], grid: Grid | None) -> str:
    order = ["quality", "precision", "memory", "slo", "price", "licence", "per-user device",
             "policy", "devices", "power", "budget"]
    last = next((c for c in reversed(order) if counts.get(c)), None)
    near = ""
    slo = [r for r in rejections if r.category == "slo" and r.miss]
    if last == "slo" and slo:
        best = min(slo, key=lambda r: r.miss or math.inf)
        near = f"; nearest: {best.what} ({best.reason})"
    elif last and examples.get(last):
        near = f"; e.g. {examples[last][0]}"
    summary = ", ".join(f"{k}: {v}" for k, v in counts.most_common())
    return (f"no candidate satisfies scenario {sc.name!r}: the last candidates were removed by "
            f"{last or 'the candidate filters'} ({summary}){near}")


def _fleet_type(c: Candidate) -> hetero.FleetType:
    o = c.option
    label = (f"{o.hw.id} x{o.devices_per_replica} {o.precision} @ {c.site.id}"
             + ("" if c.term == "on-demand" else f" ({c.term})"))
    return hetero.FleetType(label=label, hw_id=c.option.hw.id, precision=c.option.precision,
                            devices_per_replica=c.option.devices_per_replica, site=c.site.id,
                            term=c.term, usd_per_replica_hour=c.usd_per_hour / c.option.replicas)


def _heterogeneous(sc: Scenario, model: ModelSpec, ranked: list[Candidate]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not model.is_llm:
        out["note"] = "mix and disaggregation are computed for LLMs only"
    central = [c for c in ranked if c.site.kind not in ("edge", "device")]
    # distinct replica types by hardware+precision+site, cheapest first
    seen, types = set(), []
    for c in central:
        key = (c.option.hw.id, c.option.precision, c.site.id, c.option.devices_per_replica)
        if key not in seen and c.option.mode == "server":
            seen.add(key)
            types.append(c)
        if len(types) >= 6:
            break
    hw_lookup = {c.option.hw.id: c.option.hw for c in ranked}
    if model.is_llm and types:
        best = ranked[0]
        out["mix"] = hetero.mixed_fleet(model, sc.workload, [_fleet_type(c) for c in types],
                                        hw_lookup, sc.candidates.stack,
                                        ranked_best=(best.label, best.usd_per_hour))
        out["disaggregated"] = hetero.disaggregated(
            model, sc.workload, [(_fleet_type(c), c.option.hw) for c in types[:4]],
            sc.candidates.stack)
        out["ranked_best"] = {"label": best.label, "usd_per_hour": best.usd_per_hour}
        dis = out["disaggregated"]
        if dis and dis.get("usd_per_hour") and best.usd_per_hour:
            dis["saving_vs_ranked_best"] = 1 - dis["usd_per_hour"] / best.usd_per_hour
    owned = next((c for c in central if c.site.owned), None)
    cloud = next((c for c in central if not c.site.owned), None)
    if owned and cloud:
        out["base_plus_burst"] = hetero.base_plus_burst(
            sc.workload, _fleet_type(owned), owned.option.capacity_rps_per_replica,
            _fleet_type(cloud), cloud.option.capacity_rps_per_replica)
        if out["base_plus_burst"]:
            out["base_plus_burst"]["ranked_best_usd_per_day"] = ranked[0].usd_per_hour * 24
    edge = next((c for c in ranked if c.site.kind in ("edge", "device")), None)
    if edge and central:
        out["edge_vs_central"] = {
            "edge": {"label": edge.label, "usd_per_month": edge.usd_per_month,
                     "e2e_p99_ms": s_to_ms(edge.option.e2e_p99_s), "kwh_per_month": edge.kwh_month},
            "central": {"label": central[0].label, "usd_per_month": central[0].usd_per_month,
                        "e2e_p99_ms": s_to_ms(central[0].option.e2e_p99_s),
                        "kwh_per_month": central[0].kwh_month}}
    return out
