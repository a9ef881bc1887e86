"""Models as data: :class:`ModelSpec` holds the architecture fields of a Hugging Face
``config.json`` (dense, GQA, MoE with shared experts, MLA, sliding window) or, for
non-transformer models, the published parameter count and FLOPs per sample.

Parameter and FLOP counts follow the standard decoder accounting (Kaplan et al. 2020,
"Scaling Laws for Neural Language Models", Table 1: forward FLOPs ~= 2 x parameters per
token, plus attention 2 x n_layer x context x d_attn per token for QK^T and the same for AV)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from airadar.errors import SpecError
from airadar.specs.base import Frozen, Sourced, build

ModelKind = Literal["llm", "encoder", "vision", "speech", "diffusion"]

_KEYS: dict[str, tuple[str, ...]] = {
    "hidden_size": ("hidden_size", "n_embd", "d_model", "dim"),
    "num_layers": ("num_hidden_layers", "n_layer", "num_layers", "n_layers"),
    "num_heads": ("num_attention_heads", "n_head", "num_heads", "n_heads"),
    "num_kv_heads": ("num_key_value_heads", "n_kv_heads", "num_kv_heads", "multi_query_group_num"),
    "intermediate_size": ("intermediate_size", "n_inner", "ffn_dim", "ffn_hidden_size"),
    "vocab_size": ("vocab_size", "padded_vocab_size"),
    "max_context": ("max_position_embeddings", "n_positions", "seq_length", "max_seq_len"),
    "head_dim": ("head_dim",),
    "num_experts": ("num_local_experts", "n_routed_experts", "num_experts"),
    "experts_per_token": ("num_experts_per_tok", "moe_top_k", "top_k"),
    "moe_intermediate_size": ("moe_intermediate_size",),
    "num_shared_experts": ("n_shared_experts", "num_shared_experts"),
    "first_dense_layers": ("first_k_dense_replace",),
    "moe_layer_step": ("interleave_moe_layer_step", "decoder_sparse_step", "moe_layer_freq"),
    "kv_lora_rank": ("kv_lora_rank",),
    "q_lora_rank": ("q_lora_rank",),
    "qk_rope_head_dim": ("qk_rope_head_dim",),
    "qk_nope_head_dim": ("qk_nope_head_dim",),
    "v_head_dim": ("v_head_dim",),
    "sliding_window": ("sliding_window",),
    "sliding_window_pattern": ("sliding_window_pattern",),
}
_NON_GATED = {"gptj", "gpt2", "gpt_neox", "bert", "opt", "falcon", "bloom", "phi", "starcoder2"}


class ModelSpec(Frozen):
    id: str
    name: str
    kind: ModelKind = "llm"
    family: str = ""
    aliases: tuple[str, ...] = ()
    # transformer architecture (LLM decoders and transformer encoders)
    hidden_size: int = Field(default=0, ge=0)
    num_layers: int = Field(default=0, ge=0)
    num_heads: int = Field(default=0, ge=0)
    num_kv_heads: int = Field(default=0, ge=0)
    head_dim: int = Field(default=0, ge=0)
    intermediate_size: int = Field(default=0, ge=0)
    vocab_size: int = Field(default=0, ge=0)
    max_context: int = Field(default=0, ge=0)
    tie_embeddings: bool = False
    mlp_gated: bool = True
    # mixture of experts
    num_experts: int = Field(default=0, ge=0)
    experts_per_token: int = Field(default=0, ge=0)
    moe_intermediate_size: int = Field(default=0, ge=0)
    num_shared_experts: int = Field(default=0, ge=0)
    first_dense_layers: int = Field(default=0, ge=0)
    moe_layer_step: int = Field(default=1, ge=1)
    # multi-head latent attention (DeepSeek-V2/V3)
    kv_lora_rank: int = Field(default=0, ge=0)
    q_lora_rank: int = Field(default=0, ge=0)
    qk_rope_head_dim: int = Field(default=0, ge=0)
    qk_nope_head_dim: int = Field(default=0, ge=0)
    v_head_dim: int = Field(default=0, ge=0)
    # sliding window: window tokens; pattern N = one global layer in every N; or the exact
    # count of windowed layers (from config.json ``layer_types``), which wins over the pattern
    sliding_window: int = Field(default=0, ge=0)
    sliding_window_pattern: int = Field(default=0, ge=0)
    sliding_window_layers: int = Field(default=0, ge=0)
    # non-LLM models: tokens (or patches/frames) per sample, or explicit figures
    seq_len: int = Field(default=0, ge=0)
    params_override: float = Field(default=0.0, ge=0)
    flops_per_sample_override: float = Field(default=0.0, ge=0)
    stated_params: float = Field(default=0.0, ge=0)
    source: Sourced

    @model_validator(mode="after")
    def _check(self) -> ModelSpec:
        if self.kind == "llm" or (self.kind == "encoder" and self.params_override == 0):
            for f in ("hidden_size", "num_layers", "num_heads", "intermediate_size"):
                if getattr(self, f) <= 0 and not (f == "intermediate_size" and self.num_experts):
                    raise ValueError(f"{self.id}: {f} must be > 0 for a transformer")
            if self.num_experts and not (0 < self.experts_per_token <= self.num_experts):
                raise ValueError(f"{self.id}: experts_per_token must be in 1..num_experts")
            if self.first_dense_layers > self.num_layers:
                raise ValueError(f"{self.id}: first_dense_layers={self.first_dense_layers} "
                                 f"exceeds num_layers={self.num_layers}")
            if self.sliding_window_layers > self.num_layers:
                raise ValueError(f"{self.id}: sliding_window_layers="
                                 f"{self.sliding_window_layers} exceeds num_layers="
                                 f"{self.num_layers}")
            mla_parts = {"qk_rope_head_dim": self.qk_rope_head_dim,
                         "qk_nope_head_dim": self.qk_nope_head_dim,
                         "v_head_dim": self.v_head_dim}
            if self.kv_lora_rank:
                missing = [k for k, v in mla_parts.items() if v <= 0]
                if missing:
                    raise ValueError(f"{self.id}: multi-head latent attention (kv_lora_rank="
                                     f"{self.kv_lora_rank}) needs {missing[0]} > 0")
            elif self.q_lora_rank or any(mla_parts.values()):
                given = next(k for k, v in {"q_lora_rank": self.q_lora_rank,
                                            **mla_parts}.items() if v)
                raise ValueError(f"{self.id}: {given} is a multi-head latent attention field "
                                 "and needs kv_lora_rank > 0")
        elif self.params_override <= 0:
            raise ValueError(f"{self.id}: non-transformer models need params_override > 0")
        return self

    # ---- architecture views ---------------------------------------------------------
    @property
    def is_llm(self) -> bool:
        return self.kind == "llm"

    def check_context(self, *, input_tokens: float, output_tokens: float, field: str) -> None:
        """Raise ``SpecError`` on ``field`` when a request of ``input_tokens`` +
        ``output_tokens`` is longer than this LLM's context (unknown context: no check)."""
        need = input_tokens + output_tokens
        if self.is_llm and self.max_context and need > self.max_context:
            raise SpecError(field, input_tokens, f"input + output ({need:,.0f} tokens) within "
                            f"{self.id}'s context of {self.max_context:,} tokens")

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    @property
    def kv_heads(self) -> int:
        return self.num_kv_heads or self.num_heads

    @property
    def dim_head(self) -> int:
        return self.head_dim or (self.hidden_size // max(self.num_heads, 1))

    def _local_fraction(self) -> float:
        """Share of layers whose attention is limited to the sliding window."""
        if self.sliding_window_layers:
            return self.sliding_window_layers / max(self.num_layers, 1)
        if self.sliding_window_pattern:
            return 1 - 1 / self.sliding_window_pattern
        return 1.0

    def _attn_params(self) -> float:
        h, nh = self.hidden_size, self.num_heads
        if self.is_mla:
            qk = self.qk_nope_head_dim + self.qk_rope_head_dim
            q = (h * self.q_lora_rank + self.q_lora_rank * nh * qk) if self.q_lora_rank else h * nh * qk
            kv_a = h * (self.kv_lora_rank + self.qk_rope_head_dim)
            kv_b = self.kv_lora_rank * nh * (self.qk_nope_head_dim + self.v_head_dim)
            o = nh * self.v_head_dim * h
            return float(q + kv_a + kv_b + o)
        hd = self.dim_head
        return float(h * nh * hd * 2 + h * self.kv_heads * hd * 2)

    def _mlp_params(self, inter: int) -> float:
        return float((3 if self.mlp_gated else 2) * self.hidden_size * inter)

    def _moe_layers(self) -> int:
        if not self.is_moe:
            return 0
        eligible = self.num_layers - self.first_dense_layers
        return sum(1 for i in range(eligible) if (i + 1) % self.moe_layer_step == 0)

    def _expert_inter(self) -> int:
        return self.moe_intermediate_size or self.intermediate_size

    def _embedding_params(self) -> float:
        return float(self.vocab_size * self.hidden_size * (1 if self.tie_embeddings else 2))

    @property
    def params_total(self) -> float:
        """All parameters (what must be stored)."""
        if self.params_override:
            return self.params_override
        n_moe = self._moe_layers()
        n_dense = self.num_layers - n_moe
        per_expert = self._mlp_params(self._expert_inter())
        moe = n_moe * (per_expert * (self.num_experts + self.num_shared_experts)
                       + self.hidden_size * self.num_experts)
        dense = n_dense * self._mlp_params(self.intermediate_size)
        return self.num_layers * self._attn_params() + moe + dense + self._embedding_params()

    @property
    def params_active(self) -> float:
        """Parameters touched per token (routed experts only; embedding lookup not counted,
        the output projection is)."""
        if self.params_override:
            return self.params_override
        n_moe = self._moe_layers()
        n_dense = self.num_layers - n_moe
        per_expert = self._mlp_params(self._expert_inter())
        moe = n_moe * per_expert * (self.experts_per_token + self.num_shared_experts)
        dense = n_dense * self._mlp_params(self.intermediate_size)
        return (self.num_layers * self._attn_params() + moe + dense
                + self.vocab_size * self.hidden_size)

    @property
    def params_moe_experts(self) -> float:
        """Parameters in routed experts (read only for the experts a batch touches)."""
        return self._moe_layers() * self._mlp_params(self._expert_inter()) * self.num_experts

    def expected_experts_touched(self, tokens: float) -> float:
        """Expected distinct routed experts per MoE layer for ``tokens`` tokens, assuming
        uniform routing: E * (1 - (1 - k/E)^tokens)."""
        if not self.is_moe:
            return 0.0
        e, k = self.num_experts, self.experts_per_token
        return e * (1.0 - (1.0 - k / e) ** max(tokens, 0.0))

    def kv_elements_per_token(self, context: float) -> float:
        """KV-cache elements stored per token of context, summed over layers (sliding
        window layers cap their cache at the window, so they are averaged over ``context``).

        Standard and grouped-query attention cache a key and a value per KV head:
        2 x kv_heads x head_dim per layer. Multi-head latent attention (DeepSeek-V2/V3)
        caches one compressed latent and one shared decoupled RoPE key per token:
        kv_lora_rank + qk_rope_head_dim per layer, 512 + 64 = 576 for DeepSeek-V3
        (DeepSeek-V3 Technical Report, arXiv:2412.19437, Sec. 2.1.1: "only the blue-boxed
        vectors (c_t^KV and k_t^R) need to be cached during generation")."""
        if self.is_mla:
            per_layer = float(self.kv_lora_rank + self.qk_rope_head_dim)
        else:
            per_layer = 2.0 * self.kv_heads * self.dim_head
        layers = float(self.num_layers)
        if self.sliding_window and context > self.sliding_window:
            frac_local = self._local_fraction()
            eff = (1 - frac_local) + frac_local * self.sliding_window / context
            layers *= eff
        return per_layer * layers

    def attention_flops_per_token(self, context: float) -> float:
        """QK^T and AV FLOPs for one new token attending to ``context`` tokens.

        Standard attention: 2 x heads x head_dim for the scores and the same for the values
        per context token per layer, times 2 FLOPs per multiply-add. Multi-head latent
        attention is counted in its absorbed form (W^UK folded into the query, W^UV into
        the output; DeepSeek-V2, arXiv:2405.04434, Sec. 2.1.2, and DeepSeek-V3,
        arXiv:2412.19437, Sec. 2.1.1): each head scores against the cached latent plus the
        RoPE key (kv_lora_rank + qk_rope_head_dim) and reads values from the latent
        (kv_lora_rank), so 2 x heads x (2 x kv_lora_rank + qk_rope_head_dim) x context per
        layer. The up-projections themselves are in the parameter count."""
        if self.sliding_window and context > self.sliding_window:
            frac_local = self._local_fraction()
            context = (1 - frac_local) * context + frac_local * self.sliding_window
        if self.is_mla:  # absorbed form: scores over (kv_lora + rope), values over kv_lora
            width = self.num_heads * (2 * self.kv_lora_rank + self.qk_rope_head_dim)
        else:
            width = 2 * self.num_heads * self.dim_head
        return 2.0 * self.num_layers * width * context

    def flops_per_token(self, context: float) -> float:
        return 2.0 * self.params_active + self.attention_flops_per_token(context)

    @property
    def flops_per_sample(self) -> float:
        """Forward FLOPs of one sample for non-LLM models."""
        if self.flops_per_sample_override:
            return self.flops_per_sample_override
        seq = self.seq_len or 1
        body = self.params_total - self.vocab_size * self.hidden_size
        return seq * (2.0 * body + self.attention_flops_per_token(seq))


def _pick(cfg: dict[str, Any], field: str) -> Any:
    for key in _KEYS[field]:
        if key in cfg and cfg[key] is not None:
            return cfg[key]
    return None


def spec_from_hf_config(cfg: dict[str, Any], *, model_id: str, name: str = "",
                        source: str = "", as_of: str = "", extra: dict[str, Any] | None = None
                        ) -> ModelSpec:
    """Build a :class:`ModelSpec` from a Hugging Face ``config.json`` dictionary."""
    if not isinstance(cfg, dict):
        raise SpecError("config.json", type(cfg).__name__, "a JSON object")
    if "text_config" in cfg and isinstance(cfg["text_config"], dict):
        merged = dict(cfg["text_config"])
        merged.setdefault("model_type", cfg.get("model_type", ""))
        cfg = merged
    data: dict[str, Any] = {}
    for field in _KEYS:
        v = _pick(cfg, field)
        if v is not None:
            data[field] = v
    if "hidden_size" not in data or "num_layers" not in data or "num_heads" not in data:
        missing = [f for f in ("hidden_size", "num_layers", "num_heads") if f not in data]
        raise SpecError(f"config.json.{missing[0]}", None,
                        "a transformer config with hidden_size, num_hidden_layers and "
                        "num_attention_heads (or their GPT-style names)")
    mtype = str(cfg.get("model_type", "")).lower()
    if "intermediate_size" not in data:
        data["intermediate_size"] = 4 * int(data["hidden_size"])
    if isinstance(data.get("moe_layer_step"), int) and data["moe_layer_step"] < 1:
        data["moe_layer_step"] = 1
    if data.get("sliding_window") is None or not cfg.get("use_sliding_window", True):
        data.pop("sliding_window", None)
    layer_types = cfg.get("layer_types")
    if "sliding_window" in data and isinstance(layer_types, list) and layer_types:
        # e.g. gpt-oss: ["sliding_attention", "full_attention", ...] alternating
        local = sum(1 for t in layer_types if "sliding" in str(t))
        if local == 0:
            data.pop("sliding_window", None)
        else:
            data["sliding_window_layers"] = local
    data["tie_embeddings"] = bool(cfg.get("tie_word_embeddings", mtype in {"gemma3_text", "gemma3"}))
    data["mlp_gated"] = mtype not in _NON_GATED
    kind = "encoder" if mtype in {"bert", "roberta", "distilbert", "xlm-roberta"} else "llm"
    data.update(id=model_id, name=name or model_id, kind=kind, family=mtype,
                source={"source": source or "user config.json", "as_of": as_of or "unknown"})
    if extra:
        data.update(extra)
    if kind == "encoder":
        data.setdefault("seq_len", 128)
    return build(ModelSpec, data, where=f"model {model_id}")


def spec_from_config_file(path: str | Path, *, model_id: str | None = None) -> ModelSpec:
    p = Path(path)
    try:
        cfg = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError("config", str(p), "an existing config.json file") from None
    except json.JSONDecodeError as exc:
        raise SpecError("config", str(p), f"valid JSON (line {exc.lineno}: {exc.msg})") from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        raise SpecError("config", str(p), f"a readable UTF-8 config.json ({type(exc).__name__})"
                        ) from None
    if not isinstance(cfg, dict):
        raise SpecError("config", str(p), "a JSON object of Hugging Face config fields")
    mid = model_id or (p.parent.name if p.name == "config.json" else p.stem)
    return spec_from_hf_config(cfg, model_id=mid, source=f"config.json at {p}",
                               as_of="user-supplied")


def param_error(spec: ModelSpec) -> float:
    """Relative error of the architecture-derived parameter count vs the stated one."""
    if not spec.stated_params:
        return math.nan
    return spec.params_total / spec.stated_params - 1.0
