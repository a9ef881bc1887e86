"""The model catalog and config.json parsing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airadar.catalog.loader import load_models
from airadar.errors import SpecError
from airadar.specs.model import spec_from_config_file, spec_from_hf_config

REQUIRED = ["llama-2-7b", "llama-2-70b", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b",
            "llama-3.3-70b", "mistral-7b", "mixtral-8x7b", "mixtral-8x22b", "llama-4-scout",
            "llama-4-maverick", "qwen3-8b", "qwen3-30b-a3b", "deepseek-v3", "deepseek-r1",
            "gemma-3-27b", "phi-4", "smollm2-135m", "gpt-j-6b", "bert-large", "resnet-50",
            "vit-b-16", "whisper-large-v3", "minilm-l6-v2"]


def test_catalog_has_the_required_models() -> None:
    """Every model the foundation issue names is present; at least 20 LLMs."""
    rows = load_models()
    assert not set(REQUIRED) - {m.id for m in rows}
    assert sum(m.is_llm for m in rows) >= 20


@pytest.mark.parametrize("model", [m for m in load_models() if m.stated_params and m.is_llm],
                         ids=lambda m: m.id)
def test_derived_parameter_count_matches_model_card(model) -> None:  # type: ignore[no-untyped-def]
    """Architecture-derived parameters are within 2.5% of the model card's figure."""
    assert model.params_total == pytest.approx(model.stated_params, rel=0.025)


def test_moe_active_parameters_match_published() -> None:
    """Mixtral 8x7B: 12.9B active (arXiv:2401.04088); DeepSeek-V3: 37B active
    (arXiv:2412.19437, which counts the embedding too, so within 3%)."""
    by = {m.id: m for m in load_models()}
    assert by["mixtral-8x7b"].params_active == pytest.approx(12.9e9, rel=0.03)
    assert by["deepseek-v3"].params_active == pytest.approx(37e9, rel=0.03)


def test_mla_kv_cache_is_smaller_than_mha() -> None:
    """DeepSeek-V3 caches 576 values per layer per token (kv_lora 512 + rope 64)."""
    ds = next(m for m in load_models() if m.id == "deepseek-v3")
    assert ds.kv_elements_per_token(1000) == 61 * 576


def test_sliding_window_caps_kv_cache() -> None:
    """Mistral-7B's 4,096-token window: a 32k context caches no more than 4k tokens' worth."""
    m = next(m for m in load_models() if m.id == "mistral-7b")
    full = 2 * 32 * 8 * 128
    assert m.kv_elements_per_token(32768) * 32768 == pytest.approx(full * 4096)


def test_gptj_style_keys_are_understood(tmp_path: Path) -> None:
    """GPT-style config keys (n_embd, n_layer, n_head) parse like Llama-style ones."""
    cfg = {"model_type": "gptj", "n_embd": 256, "n_layer": 2, "n_head": 4, "vocab_size": 1000}
    spec = spec_from_hf_config(cfg, model_id="tiny")
    assert spec.hidden_size == 256 and spec.num_layers == 2 and not spec.mlp_gated


def test_malformed_config_names_the_problem(tmp_path: Path) -> None:
    """Bad JSON and missing fields raise SpecError, never a traceback."""
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    with pytest.raises(SpecError, match="valid JSON"):
        spec_from_config_file(bad)
    bad.write_text(json.dumps({"vocab_size": 10}))
    with pytest.raises(SpecError, match="hidden_size"):
        spec_from_config_file(bad)
