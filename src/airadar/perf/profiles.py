"""Efficiency profiles: the few physically meaningful factors that turn a spec-sheet roofline
into a prediction, per (hardware class, software stack, precision), and the one selector that
every caller uses to pick them.

Profiles form a tree, general to specific::

    */*  ->  gpu/*  ->  gpu/tensorrt-llm  ->  gpu/tensorrt-llm@fp8  ->  gpu/tensorrt-llm/h200-sxm
                                                                    ->  .../h200-sxm@fp8

A profile stores only the fields its rows could inform (``fitted``); every other field is
inherited from the nearest ancestor that fitted it, and from the spec-only defaults at the
root. The fitter (:mod:`airadar.validation.fit`) shrinks each child toward its parent and
never writes a group it could not fit, so a new device or stack falls back to its class.
Shipped profiles live in ``catalog/data/profiles.yaml``; user-fitted ones in
``$AIRADAR_HOME/profiles.yaml`` override them. With no profile at all, the spec-only default
applies: peak FLOP/s and peak bandwidth, no overhead."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airadar.catalog.loader import DATA, read_yaml, user_dir
from airadar.errors import SpecError

if TYPE_CHECKING:
    from airadar.specs.hardware import HardwareSpec
    from airadar.specs.precision import Precision

#: fields a fit can set (everything else is a documented stack fact or bookkeeping)
FITTED = ("ce_prefill", "ce_decode", "gemm_m_half", "ce_moe", "me", "ovh_layer_s", "ce_other",
          "ovh_other_layer_s", "overlap_p", "server_util", "ttft_k", "ttft_tail", "tpot_tail",
          "ovh_request_s", "ovh_token_s")


@dataclass(frozen=True, kw_only=True)
class EfficiencyProfile:
    """Efficiency factors for one (hardware class, stack, precision).

    ce_prefill: achieved fraction of peak FLOP/s of large GEMMs (many tokens per step);
    gemm_m_half: tokens per step at which a GEMM reaches half of it (perf.roofline); with
    gemm_m_half = 0 (host profiles fitted by phase) GEMMs of decode steps run at ce_decode
    and prompt tokens at ce_prefill; ce_moe: grouped-GEMM efficiency of
    routed experts relative to a dense GEMM of the same M (routing and permutation included);
    me: achieved fraction of peak memory bandwidth; ovh_layer_s: fixed time per layer per
    step (kernel launches, sampling); overlap_p: exponent of the smooth maximum of compute
    and memory time inside one operator; ce_other: fraction of peak for non-LLM models;
    server_util: highest load (fraction of offline capacity) a server run sustains within
    its SLOs; ttft_k: mean TTFT in units of one step plus one prefill; ttft_tail / tpot_tail:
    measured p99 / measured mean; ovh_request_s / ovh_token_s: what an HTTP serving front end
    adds per request (parsing, tokenization, scheduling) and per streamed token (detokenizing,
    one server-sent event), fitted only from ``airadar loadtest`` runs of a served stack
    (``llama.cpp-server``; 0 for engines measured in-process and for MLPerf rows, whose
    LoadGen calls the engine without HTTP); batch_cap: most sequences the stack schedules at once;
    mem_reserve: fraction of device memory the runtime keeps (activations, workspace), of the
    whole memory or (``mem_reserve_of_free``) of what the weights leave free;
    kv_output_reserved: share of a sequence's output tokens whose KV cache its scheduler holds
    for it on average (1.0: the whole length is reserved when the request is admitted; 0.5:
    blocks are allocated as tokens arrive, the mean over the sequence's life)."""

    key: str = "spec"
    ce_prefill: float = 1.0
    ce_decode: float = 1.0
    gemm_m_half: float = 0.0
    ce_moe: float = 1.0
    me: float = 1.0
    ovh_layer_s: float = 0.0
    #: per-layer (per-node) overhead of non-LLM models, fitted on their per-query latency rows
    #: (MLPerf SingleStream/MultiStream); the LLM engine's per-layer step overhead does not
    #: carry over to a ResNet or an ONNX graph
    ovh_other_layer_s: float = 0.0
    ce_other: float = 1.0
    ovh_request_s: float = 0.0
    ovh_token_s: float = 0.0
    overlap_p: float = 4.0
    server_util: float = 1.0
    ttft_k: float = 1.0
    ttft_tail: float = 1.0
    tpot_tail: float = 1.0
    batch_cap: int = 2048
    mem_reserve: float = 0.10
    mem_reserve_of_free: bool = False
    kv_output_reserved: float = 0.5
    #: log-space residual spread from cross-validation (for the uncertainty interval) of
    #: throughput predictions, and of latency ones (TTFT, TPOT, per-query latency), which
    #: miss by more: a latency at a given rate amplifies the capacity's error near saturation
    sigma_log: float = 0.5
    sigma_log_latency: float = 0.5
    provenance: str = "spec"
    fitted_on: str = ""
    #: fields this profile's own rows set; the rest come from ``inherited``
    fitted: tuple[str, ...] = ()
    #: field -> key of the ancestor profile it was inherited from ("spec" = datasheet default)
    inherited: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def with_values(self, **kw: Any) -> EfficiencyProfile:
        return replace(self, **kw)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def kind(self) -> str:
        """What the figures built on this profile are: ``spec`` (datasheet only),
        ``calibrated`` (fitted on rows of this group), ``inherited`` (borrowed from a parent
        group: the hardware or stack has no rows of its own) or ``measured`` (fitted on this
        host's own benchmark runs)."""
        if self.provenance == "measured":
            return "measured"
        if self.fitted and not self.key.endswith("/*"):
            return "calibrated"
        if self.fitted:  # a class-wide or global profile: borrowed from other stacks/devices
            return "inherited"
        if any(v != "spec" for v in self.inherited.values()):
            return "inherited"
        return "spec"


SPEC_ONLY = EfficiencyProfile()

# Stack defaults that are documented facts of the software, not fitted:
#   vLLM: max_num_seqs defaults to 256 (vLLM engine arguments documentation).
#   TensorRT-LLM: max_batch_size defaults to 2048 in trtllm-build >= 0.12 (build docs).
STACK_BATCH_CAP = {"vllm": 256, "tensorrt-llm": 2048, "tensorrt": 2048, "llama.cpp": 1,
                   "llama.cpp-server": 1,
                   "pytorch": 64, "onnxruntime": 64}
#   TensorRT-LLM: the capacity scheduler's default policy is GUARANTEED_NO_EVICT, which admits
#   a request only when the KV blocks of its whole length (prompt + output) can be reserved
#   ("Useful Runtime Options", nvidia.github.io/TensorRT-LLM/performance/performance-tuning-
#   guide/useful-runtime-flags.html; trtllm-bench throughput's --scheduler_policy defaults to
#   guaranteed_no_evict, tensorrt_llm/bench/benchmark/throughput.py). Every other stack
#   allocates KV blocks as tokens arrive (vLLM's paged attention, preempting when full), so a
#   sequence holds half its output on average. MLPerf's NVIDIA LLM runs ("TensorRT x") are
#   TensorRT-LLM runs.
STACK_KV_OUTPUT_RESERVED = {"tensorrt-llm": 1.0, "tensorrt": 1.0}
#   TensorRT-LLM sizes its KV cache as kv_cache_free_gpu_mem_fraction (0.9 by default, e.g.
#   trtllm-bench's --kv_cache_free_gpu_mem_fraction) of the memory free after the engine is
#   loaded; vLLM's gpu_memory_utilization (0.9) bounds weights + KV cache together. airadar's
#   reserve of 10% therefore applies to the free memory on TensorRT-LLM, to the whole on others.
STACK_RESERVE_OF_FREE = ("tensorrt-llm", "tensorrt")


def stack_facts(stack: str) -> dict[str, Any]:
    """The documented, unfitted facts of a stack that a profile carries: its batch cap (where
    known), the share of the output's KV cache its scheduler reserves, and whether its memory
    reserve is taken from the free memory."""
    fam = stack_family(stack)
    out: dict[str, Any] = {"kv_output_reserved": STACK_KV_OUTPUT_RESERVED.get(fam, 0.5),
                           "mem_reserve_of_free": fam in STACK_RESERVE_OF_FREE}
    if fam in STACK_BATCH_CAP:
        out["batch_cap"] = STACK_BATCH_CAP[fam]
    return out


def stack_family(stack: str) -> str:
    """Normalise a software-stack string ("TensorRT 10.2.0, CUDA 12.4") to a family."""
    s = stack.lower()
    if "tensorrt-llm" in s or "trtllm" in s or "trt-llm" in s:
        return "tensorrt-llm"
    if "vllm" in s:
        return "vllm"
    if "tensorrt" in s or re.fullmatch(r"cuda [\d.]+", s.strip()):
        return "tensorrt"
    if "sglang" in s:
        return "sglang"
    if "synapse" in s:
        return "synapseai"
    if "imaigine" in s:
        return "imaigine"
    if "flax" in s or "jax" in s:
        return "jax"
    if "llama.cpp" in s or "llama-cpp" in s or "llamacpp" in s:
        return "llama.cpp-server" if "server" in s else "llama.cpp"
    if "onnx" in s:
        return "onnxruntime"
    if "openvino" in s:
        return "openvino"
    if "pytorch" in s or "torch" in s:
        return "pytorch"
    return s.split()[0] if s.strip() else "default"


#: the stack families airadar knows (what stack_family returns for a recognised stack)
KNOWN_STACKS = ("tensorrt-llm", "vllm", "tensorrt", "synapseai", "imaigine", "jax", "llama.cpp",
                "llama.cpp-server", "onnxruntime", "pytorch", "default")

#: served stacks: an engine behind an HTTP front end (``airadar loadtest`` measures them). Their
#: profiles inherit everything from the engine's own profile chain and add the front end's
#: per-request and per-token overheads (``ovh_request_s``, ``ovh_token_s``)
SERVED_STACKS = {"llama.cpp-server": "llama.cpp"}


def served_family(stack: str) -> str:
    """The family of what an HTTP endpoint runs: an engine that has a served stack (llama.cpp
    -> llama.cpp-server) measured over HTTP is that served stack; any other family as is."""
    fam = stack_family(stack)
    return next((s for s, eng in SERVED_STACKS.items() if eng == fam), fam)


def profiled_families() -> tuple[str, ...]:
    """Stack families with a fitted profile (``<class>/<family>...`` keys), e.g. an MLPerf
    submitter's own engine that calibration rows named."""
    return tuple(sorted({k.split("/")[1].split("@")[0] for k in load_profiles()
                         if "/" in k} - {"*"} - set(KNOWN_STACKS)))


def check_stack(stack: str | None, field: str = "stack") -> None:
    """An unknown stack is an error naming the known ones (not a silent spec-only profile);
    known = a modelled family or one with a fitted profile."""
    if stack is None:
        return
    fam = stack_family(stack)
    if fam in KNOWN_STACKS:
        return
    extra = profiled_families()
    if fam not in extra:
        raise SpecError(field, stack, "a stack of one of the families "
                        + ", ".join(KNOWN_STACKS + extra))


def default_stack(hw_class: str, vendor: str) -> str:
    """The stack assumed when the user names none."""
    if vendor == "NVIDIA":
        return "tensorrt-llm"
    if hw_class == "cpu":
        return "pytorch"
    if vendor == "AMD":
        return "vllm"
    return "default"


def _from_row(row: dict[str, Any]) -> EfficiencyProfile:
    known = {f.name for f in fields(EfficiencyProfile)}
    vals = {k: v for k, v in row.items() if k in known}
    if "fitted" in vals:
        vals["fitted"] = tuple(vals["fitted"] or ())
    else:  # older files: every listed factor was set by its own fit
        vals["fitted"] = tuple(k for k in FITTED if k in row)
    return EfficiencyProfile(**vals)


#: profiles files named with ``--profiles`` (plan, estimate, simulate), over the user's own
_EXTRA_FILES: list[Path] = []


def use_profiles_file(path: Path, option: str = "--profiles") -> None:
    """Layer a profiles file (what ``calibrate --out`` writes: a ``profiles`` mapping of key ->
    fields) over the shipped and the user's profiles, after checking every row."""
    import math

    if not path.is_file():
        raise SpecError(option, str(path), "an existing profiles YAML file (calibrate --out "
                                           "writes one)")
    data = read_yaml(path, str(path))
    rows = data.get("profiles") if isinstance(data, dict) else None
    if not isinstance(rows, dict) or not rows:
        raise SpecError(option, str(path), "a YAML file with a non-empty 'profiles' mapping "
                                           "(profile key -> fields)")
    known = {f.name for f in fields(EfficiencyProfile)}
    numeric = {f.name for f in fields(EfficiencyProfile) if f.type in ("float", "int")}
    for key, row in rows.items():
        where = f"{path}: profiles.{key}"
        if not isinstance(row, dict):
            raise SpecError(where, row, "a mapping of profile fields")
        if unknown := sorted(set(row) - known):
            raise SpecError(where, ", ".join(unknown), f"fields among {', '.join(sorted(known))}")
        for k in numeric & set(row):
            v = row[k]
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
                    or v < 0:
                raise SpecError(f"{where}.{k}", v, "a finite number >= 0")
    _EXTRA_FILES.append(path)
    load_profiles.cache_clear()


@lru_cache(maxsize=1)
def load_profiles() -> dict[str, EfficiencyProfile]:
    out: dict[str, EfficiencyProfile] = {}
    for path in (DATA / "profiles.yaml", user_dir() / "profiles.yaml", *_EXTRA_FILES):
        try:
            if not path.is_file():
                continue
        except OSError:
            continue
        data = read_yaml(path, str(path)) or {}
        for key, row in (data.get("profiles") or {}).items():
            out[key] = _from_row({**row, "key": key})
    return out


@lru_cache(maxsize=1)
def profiles_meta() -> dict[str, Any]:
    """The shipped profiles file's ``meta`` block (fit statistics, fitted dataset lengths)."""
    path = DATA / "profiles.yaml"
    return (read_yaml(path, str(path)) or {}).get("meta") or {} if path.is_file() else {}


def chain(hw_class: str, family: str, hw_id: str = "", precision: str | None = None,
          weights: str | None = None) -> list[str]:
    """Profile keys from the most general to the most specific for one deployment. A served
    stack's chain is its engine's whole chain followed by the served stack's own keys."""
    if family in SERVED_STACKS:
        served = [f"{hw_class}/{family}"] + ([f"{hw_class}/{family}/{hw_id}"] if hw_id else [])
        return chain(hw_class, SERVED_STACKS[family], hw_id, precision, weights) + served
    keys = ["*/*", f"{hw_class}/*", f"{hw_class}/{family}"]
    if precision:
        keys.append(f"{hw_class}/{family}@{precision}")
    if hw_id:
        keys.append(f"{hw_class}/{family}/{hw_id}")
        if weights:
            keys.append(f"{hw_class}/{family}/{hw_id}@{weights}")
    return keys


def resolve_chain(keys: list[str], profiles: dict[str, EfficiencyProfile],
                  batch_cap: int | None = None) -> EfficiencyProfile:
    """Merge the profiles found along ``keys`` (general to specific): each one overrides only
    the fields it fitted. The result carries the most specific key, the fields fitted there
    and, for every other fitted-type field, the key it came from."""
    vals: dict[str, Any] = {f: getattr(SPEC_ONLY, f) for f in FITTED}
    src: dict[str, str] = {f: "spec" for f in FITTED}
    last: EfficiencyProfile | None = None
    for k in keys:
        p = profiles.get(k)
        if p is None:
            continue
        last = p
        for f in p.fitted:
            vals[f] = getattr(p, f)
            src[f] = k
    if last is None:
        return replace(SPEC_ONLY, batch_cap=batch_cap or SPEC_ONLY.batch_cap)
    own = tuple(f for f in FITTED if src[f] == last.key)
    inherited = {f: s for f, s in src.items() if s != last.key}
    return replace(last, **vals, fitted=own, inherited=inherited,
                   batch_cap=batch_cap or last.batch_cap)


def lookup(hw_class: str, stack: str, hw_id: str = "", precision: str | None = None,
           weights: str | None = None,
           profiles: dict[str, EfficiencyProfile] | None = None) -> EfficiencyProfile:
    """The profile for (class, stack, hardware, compute precision, weight format): the
    merged chain of :func:`chain` (``profiles`` defaults to the shipped + user files)."""
    fam = stack_family(stack)
    table = load_profiles() if profiles is None else profiles
    facts = stack_facts(stack)
    return resolve_chain(chain(hw_class, fam, hw_id, precision, weights), table,
                         batch_cap=facts.get("batch_cap")).with_values(
        kv_output_reserved=facts["kv_output_reserved"],
        mem_reserve_of_free=facts["mem_reserve_of_free"])


def select_profile(hw: HardwareSpec, precision: Precision, stack: str | None = None,
                   profiles: dict[str, EfficiencyProfile] | None = None) -> EfficiencyProfile:
    """The one profile selector: every prediction (estimate, validate, plan, simulate, the
    report) picks its profile here, by hardware, compute precision, weight format and stack
    (the hardware's default stack when none is named)."""
    st = stack or default_stack(hw.hw_class, hw.vendor)
    return lookup(hw.hw_class, st, hw.id, precision.compute_dtype, precision.weights,
                  profiles=profiles)
