"""The public prediction: :func:`estimate` answers "how fast, how much memory, what limits it"
for a model on N devices, choosing the parallel layout, with an uncertainty interval and the
provenance of every input."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from airadar.errors import InfeasibleError, SLOInfeasibleError, SpecError
from airadar.perf import nonllm, serving
from airadar.perf.memory import memory_shortfall_bytes, usable_bytes
from airadar.perf.parallelism import Layout, layouts_for
from airadar.perf.profiles import EfficiencyProfile, check_stack, default_stack, select_profile
from airadar.perf.roofline import Deployment, kernel_format_factor, kernel_weight_read
from airadar.specs.hardware import HardwareSpec
from airadar.specs.model import ModelSpec
from airadar.specs.precision import Precision, Sparsity
from airadar.units import s_to_ms

Mode = Literal["offline", "server", "single-stream"]
MODES = ("offline", "server", "single-stream")
#: z for a two-sided 80% interval of a normal in log space
Z80 = 1.2816


@dataclass(frozen=True, kw_only=True)
class Estimate:
    model: str
    hardware: str
    count: int
    precision: str
    sparsity: str
    mode: str
    layout: Layout
    input_tokens: float
    output_tokens: float
    throughput_output_tokens_per_s: float | None
    throughput_samples_per_s: float
    ttft_mean_s: float
    ttft_p99_s: float
    tpot_mean_s: float
    tpot_p99_s: float
    max_batch: int
    batch: float
    memory_bytes: float
    memory_capacity_bytes: float
    bottleneck: str
    interval: tuple[float, float]
    provenance: dict[str, Any]
    step_breakdown_s: dict[str, float] = field(default_factory=dict)
    #: (TTFT p50, TPOT p50) read off simulated requests, when the simulator made the figures
    simulated_p50_s: tuple[float, float] | None = None
    #: log-space spread of latency predictions (the profile's ``sigma_log_latency``)
    latency_sigma: float = 0.5

    @property
    def ttft_p50_s(self) -> float:
        """Median TTFT: of the simulated requests, else of a log-normal with the predicted
        mean and p99 (see :func:`p50_from_mean_p99`)."""
        if self.simulated_p50_s is not None:
            return self.simulated_p50_s[0]
        return p50_from_mean_p99(self.ttft_mean_s, self.ttft_p99_s)

    @property
    def tpot_p50_s(self) -> float:
        if self.simulated_p50_s is not None:
            return self.simulated_p50_s[1]
        return p50_from_mean_p99(self.tpot_mean_s, self.tpot_p99_s)

    @property
    def e2e_mean_s(self) -> float:
        return self.ttft_mean_s + max(self.output_tokens - 1, 0) * self.tpot_mean_s

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model, "hardware": self.hardware, "count": self.count,
            "precision": self.precision, "sparsity": self.sparsity, "mode": self.mode,
            "layout": {"tp": self.layout.tp, "pp": self.layout.pp,
                       "replicas": self.layout.replicas},
            "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
            "throughput_output_tokens_per_s": self.throughput_output_tokens_per_s,
            "throughput_samples_per_s": self.throughput_samples_per_s,
            "ttft_s": {"mean": self.ttft_mean_s, "p50": self.ttft_p50_s, "p99": self.ttft_p99_s,
                       "p99_interval": _interval(self.ttft_p99_s, self.latency_sigma)},
            "tpot_s": {"mean": self.tpot_mean_s, "p50": self.tpot_p50_s, "p99": self.tpot_p99_s,
                       "p99_interval": _interval(self.tpot_p99_s, self.latency_sigma)},
            "e2e_s": {"mean": self.e2e_mean_s},
            "percentiles": P50_METHOD if self.simulated_p50_s is None
            else "p50, mean and p99 of the simulated requests (airadar.sim)",
            "max_batch": self.max_batch, "batch": self.batch,
            "memory_bytes": self.memory_bytes, "memory_capacity_bytes": self.memory_capacity_bytes,
            "bottleneck": self.bottleneck,
            "interval": {"low": self.interval[0], "high": self.interval[1],
                         "coverage": self.provenance.get("interval", "")},
            "step_breakdown_s": self.step_breakdown_s,
            "provenance": self.provenance,
        }


def _check_positive(name: str, v: float | None, *, allow_zero: bool = False) -> None:
    if v is None:
        return
    if (v < 0) or (v == 0 and not allow_zero) or math.isnan(v):
        raise SpecError(name, v, "a number > 0")


P50_METHOD = ("mean and p99 from the queueing model and the profile's measured p99/mean tails; "
              "p50 is the median of a log-normal with that mean and p99")


def p50_from_mean_p99(mean: float, p99: float) -> float:
    """Median of the log-normal whose mean and 99th percentile are given: with
    s solving s^2/2 - z99 s + ln(p99/mean) = 0 (the smaller root; z99 = 2.326),
    p50 = mean x exp(-s^2/2). p99 <= mean gives the mean (no spread)."""
    if mean <= 0 or p99 <= mean:
        return mean
    z = 2.3263
    disc = z * z - 2 * math.log(p99 / mean)
    s = z - math.sqrt(disc) if disc > 0 else z
    return mean * math.exp(-s * s / 2)


def _fitted_hardware(profile: EfficiencyProfile) -> list[str]:
    """Hardware ids a profile was fitted on ('N rows on K hardware: a, b, c')."""
    _, _, names = profile.fitted_on.partition(": ")
    return [n.strip() for n in names.replace("\n", " ").split(",") if n.strip()]


def profile_kind(hw: HardwareSpec, profile: EfficiencyProfile) -> tuple[str, str]:
    """What the efficiency figures of ``hw`` are: ``spec`` (no profile: peak everything),
    ``calibrated`` (fitted on rows of this hardware), or ``inherited`` (borrowed from a
    profile fitted on other hardware: its class's, or the global one for a class with none)."""
    if profile.kind == "spec":
        return "spec", "no calibration profile: datasheet peaks"
    if profile.kind == "measured":
        return "measured", f"profile {profile.key}, fitted on this host's own runs"
    fitted = _fitted_hardware(profile)
    if hw.id in fitted or profile.key.split("@")[0].endswith(f"/{hw.id}"):
        return "calibrated", f"profile {profile.key}, fitted on rows that include {hw.id}"
    other = "" if profile.key.startswith(f"{hw.hw_class}/") else \
        f" (a {hw.hw_class} borrowing a profile of other classes)"
    return "inherited", (f"borrowed from profile {profile.key}{other}, fitted on "
                         f"{', '.join(fitted) or profile.fitted_on}; {hw.id} has no "
                         "calibration rows")


def provenance(model: ModelSpec, hw: HardwareSpec, profile: EfficiencyProfile,
               precision: Precision | None = None) -> dict[str, Any]:
    kind, why = profile_kind(hw, profile)
    interval = {
        "spec": f"80% if a log-space spread of {profile.sigma_log:g} holds: an assumed spread "
                "(spec-only, no residuals to measure it)",
        "calibrated": f"80% from the cross-validated residuals of profile {profile.key} "
                      f"(log-space spread {profile.sigma_log:.3g})",
        "measured": f"80% from the leave-one-model-out residuals of this host's profile "
                    f"{profile.key} (log-space spread {profile.sigma_log:.3g})",
        "inherited": f"80% from the cross-validated residuals of profile {profile.key} on the "
                     f"hardware it was fitted on (log-space spread {profile.sigma_log:.3g}); "
                     f"not validated on {hw.id}",
    }[kind]
    out: dict[str, Any] = {
        "kind": kind, "profile_status": why, "interval": interval,
        "latency_interval": "80% p99 TTFT/TPOT bands from the cross-validated residuals of "
                            f"latency rows (log-space spread {profile.sigma_log_latency:.3g})"
                            if kind in ("calibrated", "inherited") else
                            f"80% if a log-space spread of {profile.sigma_log_latency:g} holds",
        "profile": profile.key, "profile_fitted_on": profile.fitted_on,
        "profile_fitted_fields": list(profile.fitted),
        "profile_inherited_fields": dict(profile.inherited),
        "hardware_sources": {k: f"{v.source} ({v.as_of})" for k, v in hw.sources.items()},
        "hardware_derived": dict(hw.derived),
        "model_source": f"{model.source.source} ({model.source.as_of})",
        "method": "per-operator roofline per serving iteration x efficiency profile "
                  "(airadar.perf.roofline)",
    }
    if precision is not None and model.is_llm:
        fmt = precision.compute_dtype
        factor, where = kernel_format_factor(hw, fmt)
        out["kernel_format_factor"] = {"format": fmt, "factor": factor, "source": where}
        rel, floor, where = kernel_weight_read(hw, fmt, me=profile.me)
        out["kernel_weight_read"] = {"format": fmt, "bandwidth_vs_fp8": rel,
                                     "floor_s_per_gemm": floor, "source": where}
    return out


def _interval(x: float, sigma: float) -> tuple[float, float]:
    return (x * math.exp(-Z80 * sigma), x * math.exp(Z80 * sigma))


def estimate(*, model: ModelSpec, hw: HardwareSpec, count: int = 1,
             precision: Precision | None = None, sparsity: Sparsity | None = None,
             input_tokens: float = 1024, output_tokens: float = 256, mode: Mode = "offline",
             ttft_p99_s: float | None = None, tpot_p99_s: float | None = None,
             batch: int | None = None, stack: str | None = None, layout: Layout | None = None,
             profile: EfficiencyProfile | None = None, beams: int = 1) -> Estimate:
    """Predict one deployment; chooses the best layout for the mode unless one is given.
    ``beams`` > 1: beam search, each request decodes that many beams sharing one prefilled
    prompt (perf.serving); throughput then counts the tokens of every beam."""
    precision = precision or Precision()
    sparsity = sparsity or Sparsity()
    if count < 1:
        raise SpecError("count", count, "an integer >= 1")
    _check_positive("input_tokens", input_tokens)
    _check_positive("output_tokens", output_tokens)
    _check_positive("ttft_p99_ms", ttft_p99_s)
    _check_positive("tpot_p99_ms", tpot_p99_s)
    if batch is not None and batch < 1:
        raise SpecError("batch", batch, "an integer >= 1")
    if beams < 1:
        raise SpecError("beams", beams, "an integer >= 1")
    if mode not in MODES:
        raise SpecError("mode", mode, "offline, server or single-stream")
    if hw.peak_flops(precision.compute_dtype) is None:
        raise SpecError("precision", precision.label,
                        f"a format {hw.id} supports: {', '.join(sorted(hw.peak_flops_dense))}")
    if model.kind == "diffusion":
        raise SpecError("model", model.id, "an LLM, encoder, vision or speech model "
                        "(diffusion pipelines are not modelled)")
    check_stack(stack)
    stack = stack or default_stack(hw.hw_class, hw.vendor)
    prof = profile or select_profile(hw, precision, stack)
    if not model.is_llm:
        return _estimate_nonllm(model=model, hw=hw, count=count, precision=precision,
                                sparsity=sparsity, mode=mode, batch=batch, profile=prof,
                                latency_limit_s=ttft_p99_s)
    candidates = [layout] if layout else layouts_for(count)
    best: tuple[float, Estimate] | None = None
    nearest_short = math.inf
    for lay in candidates:
        dep = Deployment(model=model, hw=hw, precision=precision, sparsity=sparsity, tp=lay.tp,
                         pp=lay.pp)
        limit = serving.batch_limit(dep, prof, input_tokens=input_tokens,
                                    output_tokens=output_tokens, beams=beams)
        if limit < 1:
            need = serving.kv_per_sequence_bytes(
                dep, input_tokens=input_tokens, output_tokens=output_tokens, beams=beams,
                output_reserved=prof.kv_output_reserved)
            nearest_short = min(nearest_short, memory_shortfall_bytes(
                hw=hw, devices=dep.devices, weights_total_bytes=dep.weights_total_bytes(),
                kv_bytes=need, reserve=prof.mem_reserve, of_free=prof.mem_reserve_of_free))
            continue
        if mode == "offline":
            op = serving.offline(dep, prof, input_tokens=input_tokens,
                                 output_tokens=output_tokens, batch=batch, beams=beams)
        elif mode == "server":
            op_s = serving.server(dep, prof, input_tokens=input_tokens,
                                  output_tokens=output_tokens, ttft_p99_s=ttft_p99_s,
                                  tpot_p99_s=tpot_p99_s, batch=batch, beams=beams)
            if op_s is None:
                continue
            op = op_s
        else:
            op = serving.single_stream(dep, prof, input_tokens=input_tokens,
                                       output_tokens=output_tokens)
        tput = op.throughput_tok_s * lay.replicas
        score = -op.ttft_mean_s - output_tokens * op.tpot_mean_s if mode == "single-stream" \
            else tput
        mem = dep.weights_total_bytes() + op.batch * serving.kv_per_sequence_bytes(
            dep, input_tokens=input_tokens, output_tokens=output_tokens, beams=beams,
            output_reserved=prof.kv_output_reserved)
        est = Estimate(
            model=model.id, hardware=hw.id, count=count, precision=precision.label,
            sparsity=sparsity.label, mode=mode, layout=lay, input_tokens=input_tokens,
            output_tokens=output_tokens, throughput_output_tokens_per_s=tput,
            throughput_samples_per_s=tput / output_tokens / beams,
            ttft_mean_s=op.ttft_mean_s, ttft_p99_s=op.ttft_p99_s, tpot_mean_s=op.tpot_mean_s,
            tpot_p99_s=op.tpot_p99_s, max_batch=limit * lay.replicas,
            batch=op.batch * lay.replicas, memory_bytes=mem * lay.replicas,
            memory_capacity_bytes=sum(t.capacity_bytes for t in hw.memory_tiers) * count,
            bottleneck=op.step.bottleneck, interval=_interval(tput, prof.sigma_log),
            latency_sigma=prof.sigma_log_latency,
            provenance=provenance(model, hw, prof, precision),
            step_breakdown_s={"compute": op.step.compute_s, "memory": op.step.memory_s,
                              "interconnect": op.step.comm_s, "overhead": op.step.overhead_s},
        )
        # near-ties go to the wider tensor-parallel group (same throughput, lower latency)
        if best is None or score > best[0] + abs(best[0]) * 0.02 or (
                score > best[0] - abs(best[0]) * 0.02 and lay.tp > best[1].layout.tp):
            best = (score, est)
    if best is None:
        if nearest_short < math.inf:
            raise InfeasibleError(
                f"{model.id} at {precision.label} does not fit {count}x {hw.id}: needs "
                f"{nearest_short / 1e9:.1f} GB more than the usable memory (weights + KV for one "
                f"sequence of {input_tokens + output_tokens:.0f} tokens)")
        raise SLOInfeasibleError(
            f"{model.id} on {count}x {hw.id} cannot meet the limits (TTFT p99 "
            f"{ttft_p99_s and s_to_ms(ttft_p99_s)} ms, TPOT p99 {tpot_p99_s and s_to_ms(tpot_p99_s)} ms)"
            " even at the lowest load")
    return best[1]


def _estimate_nonllm(*, model: ModelSpec, hw: HardwareSpec, count: int, precision: Precision,
                     sparsity: Sparsity, mode: str, batch: int | None,
                     profile: EfficiencyProfile, latency_limit_s: float | None) -> Estimate:
    weights = model.params_total * precision.weight_bytes
    cap = usable_bytes(hw, reserve=profile.mem_reserve)
    if weights > cap:
        raise InfeasibleError(f"{model.id} needs {weights / 1e9:.2f} GB of weights; one {hw.id} "
                              f"has {cap / 1e9:.2f} GB usable")

    def bt(b: float) -> nonllm.BatchTime:
        return nonllm.batch_time(model=model, hw=hw, devices=count, precision=precision,
                                 sparsity=sparsity, profile=profile, batch=b)

    if mode == "single-stream":
        b = 1.0
    elif batch:
        b = float(batch)
    else:
        b = float(profile.batch_cap * count)
    t = bt(b)
    if mode == "server" and latency_limit_s:
        # largest batch whose batch time (the p99 latency proxy) fits the limit
        while b > 1 and t.time_s > latency_limit_s:
            b = max(1.0, b / 2)
            t = bt(b)
    tput = b / t.time_s
    if mode == "server":
        tput *= profile.server_util
    lat = t.time_s if mode != "single-stream" else bt(1).time_s
    return Estimate(
        model=model.id, hardware=hw.id, count=count, precision=precision.label,
        sparsity=sparsity.label, mode=mode, layout=Layout(tp=1, pp=1, replicas=count),
        input_tokens=float(model.seq_len or 1), output_tokens=0.0,
        throughput_output_tokens_per_s=None, throughput_samples_per_s=tput,
        ttft_mean_s=lat, ttft_p99_s=lat, tpot_mean_s=0.0, tpot_p99_s=0.0,
        max_batch=int(b), batch=b, memory_bytes=weights * count,
        memory_capacity_bytes=sum(t_.capacity_bytes for t_ in hw.memory_tiers) * count,
        bottleneck=t.bottleneck, interval=_interval(tput, profile.sigma_log),
        latency_sigma=profile.sigma_log_latency,
        provenance=provenance(model, hw, profile),
        step_breakdown_s={"compute": t.compute_s, "memory": t.memory_s, "overhead": t.overhead_s},
    )
