"""Performance options of a plan: every (hardware, precision, sparsity, devices per replica,
serving mode) that fits and meets the SLOs, sized in replicas for the peak rate with headroom.
Each option is computed once and priced at every site afterwards (``scoring``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from airadar.catalog.quality import recovery
from airadar.errors import AiradarError, InfeasibleError, SLOInfeasibleError, SpecError
from airadar.perf.estimate import Estimate, estimate
from airadar.specs.hardware import HardwareSpec
from airadar.specs.model import ModelSpec
from airadar.specs.precision import Precision, Sparsity
from airadar.specs.scenario import Scenario
from airadar.units import ms_over_limit, ms_to_s, s_to_ms


@dataclass(frozen=True, kw_only=True)
class Rejection:
    what: str
    category: str  # memory | slo | quality | precision | policy | price | budget | power | devices
    reason: str
    #: how far from feasible (ratio of the failing figure to its limit), when meaningful
    miss: float | None = None


@dataclass(frozen=True, kw_only=True)
class PerfOption:
    hw: HardwareSpec
    precision: str
    sparsity: str
    mode: str
    devices_per_replica: int
    replicas: int
    capacity_rps_per_replica: float
    ttft_mean_s: float
    ttft_p99_s: float
    tpot_p99_s: float
    e2e_p99_s: float
    bottleneck: str
    quality: float
    quality_source: str
    est: Estimate
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def devices(self) -> int:
        return self.devices_per_replica * self.replicas

    @property
    def label(self) -> str:
        return (f"{self.hw.id} x{self.devices} ({self.replicas}x{self.devices_per_replica}) "
                f"{self.precision}{'' if self.sparsity == 'dense' else ' ' + self.sparsity} "
                f"{self.mode}")


def _quality(precision: Precision, sparsity: Sparsity) -> tuple[float, str] | None:
    q = recovery(precision.weights)
    if q is None:
        return None
    val, src = q
    if sparsity.kind == "2:4":
        s = recovery("2:4")
        if s is None:
            return None
        val, src = val * s[0], f"{src}; {s[1]}"
    elif sparsity.kind == "unstructured":
        return None
    return val, src


def sizes(max_devices: int) -> list[int]:
    out, n = [], 1
    while n <= max_devices:
        out.append(n)
        n *= 2
    return out


def build_options(sc: Scenario, model: ModelSpec, hardware: list[HardwareSpec],
                  ) -> tuple[list[PerfOption], list[Rejection]]:
    """Every feasible performance option and every rejection with its reason."""
    wl = sc.workload
    slo = wl.slo
    ttft = ms_to_s(slo.ttft_p99_ms) if slo.ttft_p99_ms else None
    tpot = ms_to_s(slo.tpot_p99_ms) if slo.tpot_p99_ms else None
    e2e = ms_to_s(slo.e2e_p99_ms) if slo.e2e_p99_ms else None
    inp, out = wl.input_mean, wl.output_mean
    need_rps = wl.peak_rps * (1.0 + wl.headroom)
    options: list[PerfOption] = []
    rejected: list[Rejection] = []
    for hw in hardware:
        for ptext in sc.candidates.precisions:
            prec = Precision.parse(ptext)
            if hw.peak_flops(prec.compute_dtype) is None:
                rejected.append(Rejection(what=f"{hw.id} {ptext}", category="precision",
                                          reason=f"{hw.id} has no {prec.compute_dtype} support"))
                continue
            for stext in sc.candidates.sparsity:
                sp = Sparsity.parse(stext)
                q = _quality(prec, sp)
                what = f"{hw.id} {prec.label}{'' if sp.kind == 'none' else ' ' + sp.label}"
                if q is None:
                    rejected.append(Rejection(what=what, category="quality", reason=(
                        f"no sourced quality figure for {prec.weights}/{sp.label}")))
                    continue
                if q[0] < wl.quality_floor:
                    rejected.append(Rejection(what=what, category="quality", reason=(
                        f"keeps {q[0]:.1%} of full quality < floor {wl.quality_floor:.1%}"),
                        miss=wl.quality_floor / q[0]))
                    continue
                for mode in sc.candidates.modes:
                    _size_one(sc, model, hw, prec, sp, q, mode, ttft, tpot, e2e, inp, out,
                              need_rps, options, rejected)
    return options, rejected


def _size_one(sc: Scenario, model: ModelSpec, hw: HardwareSpec, prec: Precision, sp: Sparsity,
              q: tuple[float, str], mode: str, ttft: float | None, tpot: float | None,
              e2e: float | None, inp: float, out: float, need_rps: float,
              options: list[PerfOption], rejected: list[Rejection]) -> None:
    what = f"{hw.id} {prec.label} {mode}"
    fitted: list[int] = []
    last_err: AiradarError | None = None
    for n in sizes(sc.candidates.max_devices_per_replica):
        try:
            est = estimate(model=model, hw=hw, count=n, precision=prec, sparsity=sp,
                           input_tokens=inp, output_tokens=out, mode=mode,  # type: ignore[arg-type]
                           ttft_p99_s=ttft if model.is_llm else (e2e or ttft),
                           tpot_p99_s=tpot, stack=sc.candidates.stack)
        except SLOInfeasibleError:
            rej = _slo_at_lowest_load(model, hw, n, prec, sp, inp, out, ttft, tpot, sc, what)
            if rej is not None:
                rejected.append(rej)
            continue
        except InfeasibleError as exc:
            last_err = exc
            continue
        except SpecError as exc:
            rejected.append(Rejection(what=what, category="precision", reason=str(exc)))
            return
        # per replica: an estimate over n devices may itself use data parallel replicas
        if model.is_llm:
            cap = (est.throughput_output_tokens_per_s or 0.0) / out
            e2e_p99 = est.ttft_p99_s + max(out - 1, 0) * est.tpot_p99_s
        else:
            cap = est.throughput_samples_per_s
            e2e_p99 = est.ttft_p99_s
        if mode == "single-stream":  # one request at a time per group
            mean_e2e = est.ttft_mean_s + (max(out - 1, 0) * est.tpot_mean_s if model.is_llm else 0)
            cap = est.layout.replicas / max(mean_e2e, 1e-9)
        slo_miss = []
        if ttft and model.is_llm and est.ttft_p99_s > ttft * (1 + 1e-9):
            slo_miss.append(("TTFT p99", est.ttft_p99_s, ttft))
        if tpot and est.tpot_p99_s > tpot * (1 + 1e-9):
            slo_miss.append(("TPOT p99", est.tpot_p99_s, tpot))
        if e2e and e2e_p99 > e2e * (1 + 1e-9):
            slo_miss.append(("end-to-end p99", e2e_p99, e2e))
        slo = sc.workload.slo
        if model.is_llm and slo.ttft_p50_ms and est.ttft_p50_s > ms_to_s(slo.ttft_p50_ms) * (
                1 + 1e-9):
            slo_miss.append(("TTFT p50", est.ttft_p50_s, ms_to_s(slo.ttft_p50_ms)))
        if model.is_llm and slo.tpot_p50_ms and est.tpot_p50_s > ms_to_s(slo.tpot_p50_ms) * (
                1 + 1e-9):
            slo_miss.append(("TPOT p50", est.tpot_p50_s, ms_to_s(slo.tpot_p50_ms)))
        if slo_miss:
            name, got, lim = max(slo_miss, key=lambda t: t[1] / t[2])
            rejected.append(Rejection(what=f"{what} x{n}", category="slo", reason=(
                f"{name} {ms_over_limit(got, lim)}"), miss=got / lim))
            continue
        if cap <= 0:
            continue
        replicas = max(1, math.ceil(need_rps / cap - 1e-9))
        lat = (est.ttft_mean_s, est.ttft_p99_s, est.tpot_p99_s, e2e_p99)
        if model.is_llm and mode == "server":
            lat = _at_peak(sc, model, hw, prec, sp, est, inp, out, peak_rps=sc.workload.peak_rps,
                           groups=replicas, tpot=tpot) or lat
        options.append(PerfOption(
            hw=hw, precision=prec.label, sparsity=sp.label, mode=mode, devices_per_replica=n,
            replicas=replicas, capacity_rps_per_replica=cap, ttft_mean_s=lat[0],
            ttft_p99_s=lat[1], tpot_p99_s=lat[2], e2e_p99_s=lat[3],
            bottleneck=est.bottleneck, quality=q[0], quality_source=q[1], est=est,
            extra={"at_capacity_ms": {"ttft_p99": s_to_ms(est.ttft_p99_s),
                                      "tpot_p99": s_to_ms(est.tpot_p99_s)}}))
        fitted.append(n)
        if len(fitted) >= 2:
            break
    if not fitted and last_err is not None:
        rejected.append(Rejection(what=what, category="memory", reason=str(last_err)))


def _slo_at_lowest_load(model: ModelSpec, hw: HardwareSpec, n: int, prec: Precision,
                        sp: Sparsity, inp: float, out: float, ttft: float | None,
                        tpot: float | None, sc: Scenario, what: str) -> Rejection | None:
    """How far a group misses the latency limits with one request in flight."""
    try:
        est = estimate(model=model, hw=hw, count=n, precision=prec, sparsity=sp,
                       input_tokens=inp, output_tokens=out, mode="single-stream",
                       stack=sc.candidates.stack)
    except AiradarError:
        return None
    misses = []
    if ttft:
        misses.append(("TTFT p99", est.ttft_p99_s, ttft))
    if tpot:
        misses.append(("TPOT p99", est.tpot_p99_s, tpot))
    if not misses:
        return None
    name, got, lim = max(misses, key=lambda t: t[1] / t[2])
    return Rejection(what=f"{what} x{n}", category="slo", miss=got / lim, reason=(
        f"even at the lowest load {name} is {ms_over_limit(got, lim)}"))


def _at_peak(sc: Scenario, model: ModelSpec, hw: HardwareSpec, prec: Precision, sp: Sparsity,
             est: Estimate, inp: float, out: float, *, peak_rps: float, groups: int,
             tpot: float | None) -> tuple[float, float, float, float] | None:
    """Latencies at the peak rate spread over the sized replicas (the SLO check above used the
    replica's capacity, the worst case); ``None`` if it cannot be computed."""
    from airadar.perf import serving
    from airadar.perf.profiles import select_profile
    from airadar.perf.roofline import Deployment

    lay = est.layout
    dep = Deployment(model=model, hw=hw, precision=prec, sparsity=sp, tp=lay.tp, pp=lay.pp)
    prof = select_profile(hw, prec, sc.candidates.stack)
    try:
        full = serving.batch_limit(dep, prof, input_tokens=inp, output_tokens=out)
        limit = serving.slo_batch_limit(dep, prof, input_tokens=inp, output_tokens=out,
                                        tpot_p99_s=tpot, limit=full)
        cap = serving.offline(dep, prof, input_tokens=inp, output_tokens=out, batch=limit).rate_rps
        op = serving.at_rate(dep, prof, rate_rps=peak_rps / (groups * lay.replicas),
                             input_tokens=inp, output_tokens=out, capacity_rps=cap, limit=limit)
    except (AiradarError, ValueError, ZeroDivisionError):
        return None
    return (op.ttft_mean_s, op.ttft_p99_s, op.tpot_p99_s,
            op.ttft_p99_s + max(out - 1, 0) * op.tpot_p99_s)
