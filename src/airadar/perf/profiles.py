"""Efficiency profiles: the few physically meaningful factors that turn a spec-sheet roofline
into a prediction, per (hardware class, software stack).

A profile is fitted by :mod:`airadar.validation.fit` on measurements (published rows of
``calibration.csv`` copied into the project, or ``airadar bench`` results) and shipped as
``catalog/data/profiles.yaml``; user-fitted profiles in ``$AIRADAR_HOME/profiles.yaml``
override the shipped ones. With no profile, the spec-only default applies: peak FLOP/s and
peak bandwidth, no overhead."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any

from airadar.catalog.loader import DATA, read_yaml, user_dir
from airadar.errors import SpecError

#: names of the fitted factors, in the order the fitter uses
FITTED = ("ce_prefill", "ce_decode", "me", "ovh_layer_s", "ce_other", "server_util",
          "ttft_k", "ttft_tail", "tpot_tail")


@dataclass(frozen=True, kw_only=True)
class EfficiencyProfile:
    """Efficiency factors for one (hardware class, stack).

    ce_prefill / ce_decode: achieved fraction of peak FLOP/s for large (prefill) and small
    (decode) matrix products; me: achieved fraction of peak memory bandwidth; ovh_layer_s:
    fixed time per layer per step (kernel launches, sampling); ce_other: fraction of peak for
    non-LLM models; server_util: highest load (fraction of offline capacity) a server run
    sustains within its SLOs; ttft_k: mean TTFT in units of one step plus one prefill;
    ttft_tail / tpot_tail: p99 / mean; batch_cap: most sequences the stack schedules at once;
    mem_reserve: fraction of device memory the runtime keeps (activations, workspace)."""

    key: str = "spec"
    ce_prefill: float = 1.0
    ce_decode: float = 1.0
    me: float = 1.0
    ovh_layer_s: float = 0.0
    ce_other: float = 1.0
    server_util: float = 1.0
    ttft_k: float = 1.0
    ttft_tail: float = 1.0
    tpot_tail: float = 1.0
    batch_cap: int = 2048
    mem_reserve: float = 0.10
    #: log-space residual spread from cross-validation (for the uncertainty interval)
    sigma_log: float = 0.5
    provenance: str = "spec"
    fitted_on: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def with_values(self, **kw: Any) -> EfficiencyProfile:
        return replace(self, **kw)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


SPEC_ONLY = EfficiencyProfile()

# Stack defaults that are documented facts of the software, not fitted:
#   vLLM: max_num_seqs defaults to 256 (vLLM engine arguments documentation).
#   TensorRT-LLM: max_batch_size defaults to 2048 in trtllm-build >= 0.12 (build docs).
STACK_BATCH_CAP = {"vllm": 256, "tensorrt-llm": 2048, "tensorrt": 2048, "llama.cpp": 1,
                   "pytorch": 64, "onnxruntime": 64}


def stack_family(stack: str) -> str:
    """Normalise a software-stack string ("TensorRT 10.2.0, CUDA 12.4") to a family."""
    s = stack.lower()
    if "tensorrt-llm" in s or "trtllm" in s or "trt-llm" in s:
        return "tensorrt-llm"
    if "vllm" in s:
        return "vllm"
    if "tensorrt" in s or re.fullmatch(r"cuda [\d.]+", s.strip()):
        return "tensorrt"
    if "synapse" in s:
        return "synapseai"
    if "imaigine" in s:
        return "imaigine"
    if "flax" in s or "jax" in s:
        return "jax"
    if "llama.cpp" in s or "llama-cpp" in s or "llamacpp" in s:
        return "llama.cpp"
    if "onnx" in s:
        return "onnxruntime"
    if "pytorch" in s or "torch" in s:
        return "pytorch"
    return s.split()[0] if s.strip() else "default"


#: the stack families airadar knows (what stack_family returns for a recognised stack)
KNOWN_STACKS = ("tensorrt-llm", "vllm", "tensorrt", "synapseai", "imaigine", "jax", "llama.cpp",
                "onnxruntime", "pytorch", "default")


def check_stack(stack: str | None, field: str = "stack") -> None:
    """An unknown stack is an error naming the known ones (not a silent spec-only profile)."""
    if stack is not None and stack_family(stack) not in KNOWN_STACKS:
        raise SpecError(field, stack, "a stack of one of the families "
                        + ", ".join(KNOWN_STACKS))


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
    known = set(EfficiencyProfile.__dataclass_fields__)
    return EfficiencyProfile(**{k: v for k, v in row.items() if k in known})


@lru_cache(maxsize=1)
def load_profiles() -> dict[str, EfficiencyProfile]:
    out: dict[str, EfficiencyProfile] = {}
    for path in (DATA / "profiles.yaml", user_dir() / "profiles.yaml"):
        try:
            if not path.is_file():
                continue
        except OSError:
            continue
        data = read_yaml(path, str(path)) or {}
        for key, row in (data.get("profiles") or {}).items():
            out[key] = _from_row({**row, "key": key})
    return out


def lookup(hw_class: str, stack: str, hw_id: str = "", precision: str | None = None,
           weights: str | None = None) -> EfficiencyProfile:
    """Most specific profile: (class, stack, hardware, weight format), (class, stack,
    hardware), (class, stack, compute precision), (class, stack), (class, *), global,
    spec-only."""
    fam = stack_family(stack)
    profiles = load_profiles()
    keys = [f"{hw_class}/{fam}/{hw_id}@{weights}"] if weights and hw_id else []
    keys.append(f"{hw_class}/{fam}/{hw_id}")
    if precision:
        keys.append(f"{hw_class}/{fam}@{precision}")
    for key in (*keys, f"{hw_class}/{fam}", f"{hw_class}/*", "*/*"):
        if key in profiles:
            p = profiles[key]
            cap = STACK_BATCH_CAP.get(fam, p.batch_cap)
            return replace(p, batch_cap=cap)
    return replace(SPEC_ONLY, batch_cap=STACK_BATCH_CAP.get(fam, SPEC_ONLY.batch_cap))
