"""ModelSpec: multi-head latent attention, sliding-window layer counts, validation."""

from __future__ import annotations

from typing import Any

import pytest

from airadar.errors import SpecError
from airadar.specs.model import spec_from_hf_config

_MLA = {"model_type": "deepseek_v3", "hidden_size": 7168, "num_hidden_layers": 61,
        "num_attention_heads": 128, "num_key_value_heads": 128, "intermediate_size": 18432,
        "moe_intermediate_size": 2048, "vocab_size": 129280, "n_routed_experts": 256,
        "num_experts_per_tok": 8, "n_shared_experts": 1, "first_k_dense_replace": 3,
        "kv_lora_rank": 512, "q_lora_rank": 1536, "qk_rope_head_dim": 64,
        "qk_nope_head_dim": 128, "v_head_dim": 128}


def _spec(**over: Any) -> Any:
    cfg = {**_MLA, **over}
    return spec_from_hf_config({k: v for k, v in cfg.items() if v is not None}, model_id="t")


def test_mla_kv_cache_is_latent_plus_rope_key() -> None:
    """MLA caches kv_lora_rank + qk_rope_head_dim per layer, not 2 x heads x head_dim
    (DeepSeek-V3 Technical Report, arXiv:2412.19437, Sec. 2.1.1)."""
    spec = _spec()
    assert spec.kv_elements_per_token(4096) == 61 * (512 + 64)
    assert spec.kv_elements_per_token(4096) < 61 * 2 * 128 * 128 / 50


def test_mla_attention_flops_use_the_absorbed_form() -> None:
    """Per token per layer: 2 x heads x (2 x kv_lora_rank + qk_rope_head_dim) x context."""
    spec = _spec()
    assert spec.attention_flops_per_token(1000) == 2 * 61 * 128 * (2 * 512 + 64) * 1000


def test_mla_without_rope_dim_is_rejected() -> None:
    """kv_lora_rank without qk_rope_head_dim fails at construction, naming the field."""
    with pytest.raises(SpecError, match="qk_rope_head_dim"):
        _spec(qk_rope_head_dim=None)


def test_mla_field_without_kv_lora_rank_is_rejected() -> None:
    """A latent-attention field on a model without kv_lora_rank is a config error."""
    with pytest.raises(SpecError, match="kv_lora_rank"):
        _spec(kv_lora_rank=None)


def test_first_dense_layers_cannot_exceed_layers() -> None:
    """first_k_dense_replace larger than the layer count fails at construction."""
    with pytest.raises(SpecError, match="first_dense_layers"):
        _spec(first_k_dense_replace=62)


def test_layer_types_count_the_windowed_layers() -> None:
    """config.json layer_types (gpt-oss style) set how many layers use the window: half
    the layers cache at most 128 tokens, the other half the whole context."""
    cfg = {"model_type": "gpt_oss", "hidden_size": 64, "num_hidden_layers": 4,
           "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
           "intermediate_size": 64, "vocab_size": 100, "sliding_window": 128,
           "layer_types": ["sliding_attention", "full_attention"] * 2}
    spec = spec_from_hf_config(cfg, model_id="t")
    assert spec.sliding_window_layers == 2
    per_layer = 2 * 2 * 16
    assert spec.kv_elements_per_token(1024) * 1024 == pytest.approx(
        per_layer * (2 * 1024 + 2 * 128))


def test_layer_types_without_sliding_layers_drop_the_window() -> None:
    """A config whose layer_types are all full attention has no effective window."""
    cfg = {"model_type": "qwen3", "hidden_size": 64, "num_hidden_layers": 2,
           "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 100,
           "sliding_window": 4096, "layer_types": ["full_attention"] * 2}
    assert spec_from_hf_config(cfg, model_id="t").sliding_window == 0


def test_whole_object_error_names_the_field_not_the_object() -> None:
    """A construction check over several fields reports one field and its value, not the
    whole input dictionary."""
    with pytest.raises(SpecError) as err:
        _spec(qk_rope_head_dim=None)
    assert "kv_lora_rank=512" in str(err.value) and "{" not in str(err.value)
