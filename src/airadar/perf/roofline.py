"""The roofline of one LLM serving iteration.

An iteration (one step of a continuous-batching engine, vLLM/Orca style, with chunked
prefill as in Sarathi-Serve, Agrawal et al. 2024, arXiv:2403.02310) processes ``decode``
sequences producing one token each at mean context ``context`` plus ``prefill_tokens``
prompt tokens. Its time on one tensor-parallel group is

    max(FLOPs / (peak x ce), bytes / (bandwidth x me)) + communication + layers x overhead

(Williams, Waterman & Patterson 2009, "Roofline", CACM 52(4)). FLOPs = 2 x active
parameters per token plus attention (Kaplan et al. 2020, Table 1); bytes = the weight
share read once per step (for MoE only the experts the step's tokens touch) plus the KV
cache the decode tokens attend to. Pipeline stages split the layers; in steady state every
stage is busy and reads its weights once per micro-batch, so pipeline stages add memory
for the KV cache but do not shorten a memory-bound decode step.
"""

from __future__ import annotations

from dataclasses import dataclass

from airadar.perf.memory import Placement, kv_bytes_per_token, place, weight_bytes
from airadar.perf.parallelism import pp_comm_time_s, tp_comm_time_s
from airadar.perf.profiles import EfficiencyProfile
from airadar.specs.hardware import HardwareSpec
from airadar.specs.model import ModelSpec
from airadar.specs.precision import Precision, Sparsity


@dataclass(frozen=True, kw_only=True)
class StepTime:
    time_s: float
    compute_s: float
    memory_s: float
    comm_s: float
    overhead_s: float

    @property
    def bottleneck(self) -> str:
        parts = {"compute": self.compute_s, "memory": self.memory_s,
                 "interconnect": self.comm_s, "overhead": self.overhead_s}
        return max(parts, key=lambda k: parts[k])


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """One model on one replica: hardware, devices per replica and their split."""

    model: ModelSpec
    hw: HardwareSpec
    precision: Precision
    sparsity: Sparsity
    tp: int = 1
    pp: int = 1

    @property
    def devices(self) -> int:
        return self.tp * self.pp

    def peak_flops(self) -> float:
        sparse = self.sparsity.kind == "2:4" and bool(self.hw.peak_flops_sparse)
        p = self.hw.peak_flops(self.precision.compute_dtype, sparse=sparse)
        if p is None:
            p = self.hw.peak_flops(self.precision.compute_dtype)
        return float(p or 0.0)

    def weights_total_bytes(self) -> float:
        return weight_bytes(model=self.model, precision=self.precision, sparsity=self.sparsity)

    def weights_placement(self, reserve: float) -> Placement:
        return place(self.hw, nbytes=self.weights_total_bytes() / self.devices, reserve=reserve)


def iteration_time(*, dep: Deployment, profile: EfficiencyProfile, decode: float,
                   context: float, prefill_tokens: float,
                   prefill_seqs: float | None = None) -> StepTime:
    """Time of one engine iteration on one replica (see module docstring).

    ``prefill_seqs``: how many sequences the prompt tokens belong to. Engines run the output
    projection only for each sequence's last prompt token; given the count, the projection
    is charged that many times instead of once per prompt token."""
    m, p = dep.model, dep.precision
    tokens = decode + prefill_tokens
    flops = tokens * 2.0 * m.params_active + decode * m.attention_flops_per_token(context)
    if prefill_seqs is not None and prefill_tokens > prefill_seqs:
        flops -= (prefill_tokens - prefill_seqs) * 2.0 * m.vocab_size * m.hidden_size
    if prefill_tokens:
        # prompt tokens attend on average to half of the prompt processed so far
        flops += prefill_tokens * m.attention_flops_per_token(max(context / 2, 1))
    flops /= dep.devices
    # weights read this step: dense part always; routed experts only those touched
    w_total = dep.weights_total_bytes()
    if m.is_moe:
        expert_bytes = m.params_moe_experts * p.weight_bytes * (w_total / (m.params_total *
                                                                          p.weight_bytes))
        touched = m.expected_experts_touched(tokens) / m.num_experts
        w_read = (w_total - expert_bytes) + expert_bytes * touched
    else:
        w_read = w_total
    kv_read = decode * context * kv_bytes_per_token(model=m, precision=p, context=context)
    # tier placement: weights first in the fastest tier, the read follows that split
    wp = dep.weights_placement(profile.mem_reserve)
    if wp.total_bytes > 0:
        # with pp micro-batches in flight each stage reads its weights once per micro-batch
        read_s = wp.read_time_s(memory_efficiency=profile.me) * (
            (w_read / dep.devices) / wp.total_bytes) * dep.pp
    else:
        read_s = 0.0
    kv_dev = kv_read / dep.devices
    if kv_dev > 0:
        kv_tier = place(dep.hw, nbytes=wp.total_bytes + kv_dev, reserve=profile.mem_reserve)
        # KV is read from where it lands after the weights
        kv_s = kv_tier.read_time_s(memory_efficiency=profile.me) - wp.read_time_s(
            memory_efficiency=profile.me)
        read_s += max(kv_s, kv_dev / (dep.hw.fast_memory.bandwidth_bytes_per_s * profile.me))
    peak = dep.peak_flops()
    # small-M GEMMs (decode-dominated steps) reach a lower fraction of peak
    share_prefill = prefill_tokens / tokens if tokens else 0.0
    ce = profile.ce_prefill * share_prefill + profile.ce_decode * (1 - share_prefill)
    compute_s = flops / (peak * ce) if peak > 0 else float("inf")
    layers_per_stage = m.num_layers / dep.pp
    comm = tp_comm_time_s(hw=dep.hw, tp=dep.tp, tokens=tokens, hidden=m.hidden_size,
                          layers=int(layers_per_stage), act_bytes=p.activation_bytes)
    comm += pp_comm_time_s(hw=dep.hw, pp=dep.pp, tokens=tokens, hidden=m.hidden_size,
                           act_bytes=p.activation_bytes) / dep.pp
    overhead = profile.ovh_layer_s * m.num_layers
    t = max(compute_s, read_s) + comm + overhead
    return StepTime(time_s=t, compute_s=compute_s, memory_s=read_s, comm_s=comm,
                    overhead_s=overhead)
