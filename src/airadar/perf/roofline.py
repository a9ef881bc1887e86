"""The time of one LLM serving iteration, operator by operator.

An iteration (one step of a continuous-batching engine, vLLM/Orca style, with chunked
prefill as in Sarathi-Serve, Agrawal et al. 2024, arXiv:2403.02310) processes ``decode``
sequences producing one token each at mean context ``context`` plus ``prefill_tokens``
prompt tokens. Its kernels run one after another, so the step is a sum over operators, each
bounded by its own roofline (Williams, Waterman & Patterson 2009, "Roofline", CACM 52(4)):

* **dense GEMMs** (attention projections, dense MLPs, shared experts, output projection):
  2 x parameters FLOPs per token (Kaplan et al. 2020, Table 1) in the format the weights are
  quantized to (FP8/FP4/INT8 tensor cores), against the weight bytes read once per step.
  The fitted efficiency is scaled by what the format's kernels measurably reach relative to
  FP8 on the same GPU, capped at the datasheet peak (``catalog/data/gemm_kernels.yaml``, from
  the kernel timings aiconfigurator ships, ``scripts/fit_gemm_kernels.py``): datasheet
  peaks double from BF16 to FP8 to FP4, kernels do not (H100 FP8 GEMMs reach 0.65x the
  fraction of peak BF16 ones do; B200 FP4 0.74x FP8's), and the profiles are fitted mostly
  on FP8 rows.
  The achieved fraction of peak grows with the tokens per step M (the GEMM's M dimension):
  ``ce(M) = ce_prefill x M / (M + gemm_m_half)`` (profiles fitted on published rows); host
  profiles fitted by phase (``gemm_m_half = 0``) blend ``ce_prefill`` and ``ce_decode`` by
  the step's share of prompt tokens.
  Weight reads of few-row GEMMs (decode steps) follow the same kernel tables: each format
  reads at the bandwidth its kernels reach relative to FP8's (B200: NVFP4 0.50 of the
  datasheet, FP8 0.76, so FP4 weights read at 0.66x FP8's rate), and every GEMM kernel takes
  a fixed 11-15 us (FP8/FP4, H100 to GB300) or 3-5 us (BF16) however few its rows, four
  kernels per layer (``floor_us``, ``read_fraction``; none on accelerators without a table);
* **routed experts** (MoE): grouped GEMMs whose M is the tokens each touched expert receives
  (tokens x k / experts touched, uniform routing), at the same curve times ``ce_moe`` (grouped-
  GEMM and routing/permute cost relative to a dense GEMM), against the bytes of the experts
  the step touches;
* **attention**: QK^T and AV FLOPs in the KV-cache format (attention is never run in FP4 or
  INT4; FP8 attention where the device has FP8 and the cache is FP8) against the KV bytes the
  decode tokens read; MLA in its absorbed form (DeepSeek-V3, arXiv:2412.19437);
* **communication**: tensor-parallel all-reduces and pipeline hand-offs on the catalog's links;
* **overhead**: a fixed time per layer per step (launches, sampling, scheduling).

Within an operator compute and memory traffic overlap imperfectly: its time is the smooth
maximum ``(c^p + m^p)^(1/p)`` (``p = overlap_p``; p -> infinity is the ideal roofline), so both
bandwidth and FLOPs show in every regime. Pipeline stages split the layers; in steady state
every stage reads its weights once per micro-batch, so pipeline stages add memory for the KV
cache but do not shorten a memory-bound decode step.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from airadar.catalog.loader import DATA, read_yaml
from airadar.perf.memory import Placement, kv_bytes_per_token, place, weight_bytes
from airadar.perf.parallelism import pp_comm_time_s, tp_comm_time_s
from airadar.perf.profiles import EfficiencyProfile
from airadar.specs.hardware import HardwareSpec
from airadar.specs.model import ModelSpec
from airadar.specs.precision import Precision, Sparsity

#: formats attention kernels run in, narrowest first (FP8 FMHA on Hopper/Blackwell/MI300)
_ATTENTION_FORMATS = ("fp8", "bf16", "fp16", "fp32")


@lru_cache(maxsize=1)
def _gemm_kernels() -> dict[str, Any]:
    return read_yaml(DATA / "gemm_kernels.yaml", "GEMM kernel factors")


def _kernel_row(hw: HardwareSpec) -> tuple[str, dict[str, Any]] | None:
    """(table id, row) of ``hw``'s GEMM kernel table: its own, else that of the GPU it shares
    its chip with; None without one."""
    k = _gemm_kernels()
    for hid in (hw.id, k["same_kernels_as"].get(hw.id)):
        row = k["hardware"].get(hid or "")
        if row:
            return str(hid), row
    return None


def _kernel_format(fmt: str) -> str:
    return "bf16" if fmt == "fp16" else fmt  # same tensor-core rate and kernels


def kernel_format_factor(hw: HardwareSpec, fmt: str) -> tuple[float, str]:
    """GEMM efficiency of ``fmt`` relative to FP8 on ``hw`` (fraction of the format's peak
    reached over fraction of FP8's, median over transformer-shaped GEMMs of the GPU's kernel
    table), and where it comes from: the GPU's own table, the table of the GPU it shares its
    chip with, or none (1.0: the datasheet ratio is taken as is)."""
    f = _kernel_format(fmt)
    if f == "fp8":
        return 1.0, "fp8 (the reference format)"
    found = _kernel_row(hw)
    if found and f in found[1] and "factor" in found[1][f]:
        hid, row = found
        return float(row[f]["factor"]), f"kernel table {hid}: {row['source']}"
    return 1.0, "none"


#: GEMM kernels per transformer layer: fused QKV projection, output projection, and the MLP's
#: two (fused gate/up, down; grouped expert GEMMs in a MoE layer)
GEMMS_PER_LAYER = 4


def capped_read_rate(rel: float, me: float) -> float:
    """A format's weight-read rate relative to FP8's, so capped that ``me`` times it never
    passes the datasheet bandwidth (uncapped for ``me`` <= 0)."""
    return min(rel, 1.0 / me) if me > 0 else rel


def kernel_weight_read(hw: HardwareSpec, fmt: str, *, me: float = 0.0
                       ) -> tuple[float, float, str]:
    """How a GEMM of few rows (a decode step) reads its weights when it computes in ``fmt`` on
    ``hw``, from the GPU's kernel table: the bandwidth it reaches relative to what FP8 GEMMs
    reach (the fitted ``me`` is mostly FP8's), capped so that ``me`` times it never passes
    the datasheet bandwidth (given ``me`` > 0), and the fixed time of one GEMM kernel in
    seconds, with the source; (1.0, 0.0, "none") for an accelerator without a table.

    The tables time GEMMs whose weights are stored in the format they compute in (BF16, FP8,
    NVFP4); a weight-only format (INT4 weights, BF16 compute) is taken at its compute format's
    figures, an assumption."""
    f = _kernel_format(fmt)
    found = _kernel_row(hw)
    if found and "read_fraction" in found[1].get(f, {}) and \
            "read_fraction" in found[1].get("fp8", {}):
        hid, row = found
        rel = float(row[f]["read_fraction"]) / float(row["fp8"]["read_fraction"])
        return (capped_read_rate(rel, me), float(row[f]["floor_us"]) * 1e-6,
                f"kernel table {hid}: {row['source']}")
    return 1.0, 0.0, "none"


def smooth_max(a: float, b: float, p: float) -> float:
    """``(a^p + b^p)^(1/p)``: between max(a, b) (p -> inf) and a + b (p = 1)."""
    if a <= 0 or b <= 0:
        return max(a, b)
    hi = max(a, b)
    return hi * ((a / hi) ** p + (b / hi) ** p) ** (1.0 / p)


def gemm_efficiency(profile: EfficiencyProfile, m_tokens: float, prefill_share: float) -> float:
    """Achieved fraction of peak of a GEMM with ``m_tokens`` rows, ``prefill_share`` of them
    prompt tokens (see module docstring)."""
    if profile.gemm_m_half <= 0:
        return profile.ce_prefill * prefill_share + profile.ce_decode * (1.0 - prefill_share)
    m = max(m_tokens, 1e-9)
    return profile.ce_prefill * m / (m + profile.gemm_m_half)


@dataclass(frozen=True, kw_only=True)
class StepTime:
    """One step's time and its parts. ``linear_compute_s`` / ``linear_memory_s`` are the dense
    and expert GEMMs' compute and weight-read times (they overlap), ``serial_s`` the attention
    and communication that run after them; the simulator adds prompt work to the GEMMs."""

    time_s: float
    compute_s: float
    memory_s: float
    comm_s: float
    overhead_s: float
    linear_compute_s: float = 0.0
    linear_memory_s: float = 0.0
    attention_s: float = 0.0
    #: a served stack's per-token front-end work (one streamed token per decoding sequence)
    stream_s: float = 0.0

    @property
    def serial_s(self) -> float:
        return self.attention_s + self.comm_s + self.stream_s

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

    # derived constants of the deployment, computed once (a step is evaluated thousands of
    # times per deployment by the operating-point searches)
    @cached_property
    def _weights_bytes(self) -> float:
        return weight_bytes(model=self.model, precision=self.precision, sparsity=self.sparsity)

    @cached_property
    def _params_active(self) -> float:
        return self.model.params_active

    @cached_property
    def _routed_flops_per_token(self) -> float:
        m = self.model
        return 2.0 * m.params_moe_experts / m.num_experts * m.experts_per_token if m.is_moe else 0.0

    @cached_property
    def _expert_bytes(self) -> float:
        m = self.model
        if not m.is_moe:
            return 0.0
        return m.params_moe_experts / max(m.params_total, 1.0) * self._weights_bytes

    @cached_property
    def _peaks(self) -> tuple[float, float]:
        return self.peak_flops(), self.attention_peak_flops()

    @cached_property
    def kernel_factor(self) -> float:
        """What the linear layers' format reaches relative to FP8 on this GPU
        (:func:`kernel_format_factor`); scales the fitted GEMM efficiency, capped at the
        datasheet peak."""
        return kernel_format_factor(self.hw, self.precision.compute_dtype)[0]

    @cached_property
    def weight_read(self) -> tuple[float, float]:
        """(weight-read bandwidth relative to FP8's, fixed seconds per GEMM kernel) of the
        linear layers' format (:func:`kernel_weight_read`)."""
        rel, floor, _ = kernel_weight_read(self.hw, self.precision.compute_dtype)
        return rel, floor

    @cached_property
    def _placements(self) -> dict[float, Placement]:
        return {}

    def peak_flops(self) -> float:
        """Datasheet peak of the format the linear layers run in (2:4 sparse where used)."""
        fmt = self.precision.compute_dtype
        sparse = self.sparsity.kind == "2:4" and bool(self.hw.peak_flops_sparse)
        p = self.hw.peak_flops(fmt, sparse=sparse)
        if p is None:
            p = self.hw.peak_flops(fmt)
        return float(p or 0.0)

    def attention_peak_flops(self) -> float:
        """Peak of the format attention runs in: the KV-cache format if the device has it
        natively and it is FP8 or wider, else BF16 (never FP4/INT4/INT8)."""
        kv = self.precision.kv_cache
        fmt = kv if kv in _ATTENTION_FORMATS and self.hw.supports_native(kv) else "bf16"
        return float(self.hw.peak_flops(fmt) or self.hw.peak_flops("fp16") or
                     self.hw.peak_flops("fp32") or 0.0)

    def weights_total_bytes(self) -> float:
        return self._weights_bytes

    def weights_placement(self, reserve: float) -> Placement:
        wp = self._placements.get(reserve)
        if wp is None:
            wp = place(self.hw, nbytes=self._weights_bytes / self.devices, reserve=reserve)
            self._placements[reserve] = wp
        return wp


def iteration_time(*, dep: Deployment, profile: EfficiencyProfile, decode: float,
                   context: float, prefill_tokens: float,
                   prefill_seqs: float | None = None) -> StepTime:
    """Time of one engine iteration on one replica (see module docstring).

    ``prefill_seqs``: how many sequences the prompt tokens belong to. Engines run the output
    projection only for each sequence's last prompt token; given the count, the projection
    is charged that many times instead of once per prompt token."""
    m, p = dep.model, dep.precision
    tokens = decode + prefill_tokens
    pexp = profile.overlap_p
    n_dev = dep.devices
    me = profile.me
    # --- linear layers: FLOPs per device
    head_flops = 2.0 * m.vocab_size * m.hidden_size
    routed_per_token = dep._routed_flops_per_token
    dense_flops = tokens * (2.0 * dep._params_active - routed_per_token)
    if prefill_seqs is not None and prefill_tokens > prefill_seqs:
        dense_flops -= (prefill_tokens - prefill_seqs) * head_flops
    dense_flops /= n_dev
    expert_flops = tokens * routed_per_token / n_dev
    # --- weight bytes read this step, per device (fastest tier first)
    wp = dep.weights_placement(profile.mem_reserve)
    w_dev = dep._weights_bytes / n_dev
    # bytes beyond the usable capacity (a model that barely fits) are read at the same rate
    wp_total = wp.total_bytes
    wp_read_s = wp.read_time_s(memory_efficiency=me)
    read_rel, gemm_floor_s = dep.weight_read
    read_rel = capped_read_rate(read_rel, me)  # never past the datasheet bandwidth
    full_read_s = wp_read_s * (w_dev / wp_total) * dep.pp / read_rel if wp_total > 0 else 0.0
    e_dev = dep._expert_bytes / n_dev
    touched = m.expected_experts_touched(tokens) / m.num_experts if m.is_moe else 0.0
    dense_read_s = full_read_s * ((w_dev - e_dev) / w_dev) if w_dev > 0 else 0.0
    expert_read_s = full_read_s * (e_dev * touched / w_dev) if w_dev > 0 else 0.0
    peak, apeak = dep._peaks
    if peak <= 0:
        inf = float("inf")
        return StepTime(time_s=inf, compute_s=inf, memory_s=full_read_s, comm_s=0.0,
                        overhead_s=0.0, linear_compute_s=inf, linear_memory_s=full_read_s)
    share = prefill_tokens / tokens if tokens else 0.0
    kf = dep.kernel_factor
    dense_c = dense_flops / (peak * min(1.0, kf * gemm_efficiency(profile, tokens, share)))
    # every GEMM kernel takes a fixed time however few its rows (kernel tables): a floor
    # under the weight reads of every layer (pipeline stages run one after another)
    floors_s = GEMMS_PER_LAYER * m.num_layers * gemm_floor_s if tokens > 0 else 0.0
    dense_t = smooth_max(dense_c, dense_read_s + floors_s, pexp)
    expert_c = expert_t = 0.0
    if m.is_moe and tokens > 0:
        per_expert_m = tokens * m.experts_per_token / max(m.expected_experts_touched(tokens), 1e-9)
        expert_c = expert_flops / (peak * min(1.0, kf * profile.ce_moe * gemm_efficiency(
            profile, per_expert_m, share)))
        expert_t = smooth_max(expert_c, expert_read_s, pexp)
    # --- attention: decode tokens read the KV cache; prompt tokens attend to half their prompt
    kv_dev = decode * context * kv_bytes_per_token(model=m, precision=p, context=context) / n_dev
    kv_s = 0.0
    if kv_dev > 0:
        kv_s = kv_dev / (dep.hw.fast_memory.bandwidth_bytes_per_s * me)
        if len(dep.hw.memory_tiers) > 1:
            # KV is read from where it lands after the weights (GH200: LPDDR once HBM is full)
            kv_tier = place(dep.hw, nbytes=wp_total + kv_dev, reserve=profile.mem_reserve)
            kv_s = max(kv_tier.read_time_s(memory_efficiency=me) - wp_read_s, kv_s)
    dec_attn_c = decode * m.attention_flops_per_token(context) / n_dev / (apeak * profile.ce_prefill)
    attn_t = smooth_max(dec_attn_c, kv_s, pexp)
    pre_attn_c = 0.0
    if prefill_tokens:
        pre_attn_c = prefill_tokens * m.attention_flops_per_token(max(context / 2, 1)) / n_dev / (
            apeak * profile.ce_prefill)
        attn_t += pre_attn_c
    # --- communication and overhead
    layers_per_stage = m.num_layers / dep.pp
    comm = tp_comm_time_s(hw=dep.hw, tp=dep.tp, tokens=tokens, hidden=m.hidden_size,
                          layers=int(layers_per_stage), act_bytes=p.activation_bytes)
    comm += pp_comm_time_s(hw=dep.hw, pp=dep.pp, tokens=tokens, hidden=m.hidden_size,
                           act_bytes=p.activation_bytes) / dep.pp
    # a served stack's front end: per request admitted with its prompt, per streamed token
    seqs = prefill_seqs if prefill_seqs is not None else (1.0 if prefill_tokens else 0.0)
    overhead = profile.ovh_layer_s * m.num_layers + profile.ovh_request_s * seqs
    stream = profile.ovh_token_s * decode
    t = dense_t + expert_t + attn_t + comm + overhead + stream
    # the kernels' floors count with the weight reads they sit under (the simulator rebuilds
    # the step from linear_memory_s and linear_compute_s)
    return StepTime(time_s=t, compute_s=dense_c + expert_c + dec_attn_c + pre_attn_c,
                    memory_s=dense_read_s + floors_s + expert_read_s + kv_s, comm_s=comm,
                    overhead_s=overhead, linear_compute_s=dense_c + expert_c,
                    linear_memory_s=dense_read_s + floors_s + expert_read_s, attention_s=attn_t,
                    stream_s=stream)
