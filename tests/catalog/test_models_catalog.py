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
            "vit-b-16", "whisper-large-v3", "minilm-l6-v2", "gpt-oss-120b", "gpt-oss-20b",
            "qwen3-32b", "qwen3-235b-a22b"]


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


#: (model, published total, published active, the publisher counts the input embedding
#: in "active", source). Our params_active counts the output projection but not the
#: embedding lookup, so where the publisher counts the lookup too it is added back.
PUBLISHED_MOE = [
    ("gpt-oss-120b", 116.83e9, 5.13e9, False,
     "gpt-oss-120b & gpt-oss-20b Model Card, arXiv:2508.10925, Table 1 (active = MLP + "
     "attention + unembedding)"),
    ("gpt-oss-20b", 20.91e9, 3.61e9, False, "arXiv:2508.10925, Table 1"),
    ("deepseek-v3", 671e9, 37e9, True,
     "DeepSeek-V3 Technical Report, arXiv:2412.19437, Sec. 1 (671B total, 37B activated)"),
    ("deepseek-r1", 671e9, 37e9, True, "deepseek-ai/DeepSeek-R1 model card (same as V3)"),
    ("qwen3-235b-a22b", 235e9, 22e9, True, "Qwen/Qwen3-235B-A22B model card (22B activated)"),
    ("qwen3-30b-a3b", 30.5e9, 3.3e9, True, "Qwen/Qwen3-30B-A3B model card (3.3B activated)"),
    ("mixtral-8x7b", 46.7e9, 12.9e9, False, "Jiang et al. 2024, arXiv:2401.04088, Sec. 2.1"),
    ("mixtral-8x22b", 140.6e9, 39e9, False, "Mistral AI, 'Cheaper, Better, Faster, Stronger' "
     "(2024-04-17): 141B total, 39B active"),
    ("llama-4-scout", 109e9, 17e9, True, "Llama 4 model card (109B total, 17B active)"),
    ("llama-4-maverick", 400e9, 17e9, True, "Llama 4 model card (400B total, 17B active)"),
]


@pytest.mark.parametrize(("mid", "total", "active", "with_embedding", "source"), PUBLISHED_MOE,
                         ids=[r[0] for r in PUBLISHED_MOE])
def test_moe_total_and_active_match_the_model_card(mid: str, total: float, active: float,
                                                   with_embedding: bool, source: str) -> None:
    """Total and active parameters of the MoE rows (shared experts, per-expert widths,
    dense first layers, interleaved MoE layers) are within 3% of the published counts."""
    m = next(m for m in load_models() if m.id == mid)
    derived_active = m.params_active + (m.vocab_size * m.hidden_size if with_embedding else 0)
    assert m.params_total == pytest.approx(total, rel=0.03), source
    assert derived_active == pytest.approx(active, rel=0.03), source


def test_dense_llama_31_counts_match_the_model_card() -> None:
    """Llama 3.1 model card: 8.03B, 70.6B, 405B; dense, so active == total."""
    by = {m.id: m for m in load_models()}
    for mid, n in (("llama-3.1-8b", 8.03e9), ("llama-3.1-70b", 70.6e9),
                   ("llama-3.1-405b", 405e9), ("llama-3.3-70b", 70.6e9)):
        assert by[mid].params_total == pytest.approx(n, rel=0.025), mid
        assert not by[mid].is_moe


def test_gpt_oss_windows_every_other_layer() -> None:
    """gpt-oss config.json layer_types alternate sliding (128 tokens) and full attention:
    at a 128-token context the cache is full-size, at 8,192 it is just over half."""
    m = next(m for m in load_models() if m.id == "gpt-oss-120b")
    assert m.sliding_window == 128 and m.sliding_window_layers == 18
    full = 2 * 8 * 64 * 36
    assert m.kv_elements_per_token(128) == full
    assert m.kv_elements_per_token(8192) == pytest.approx(full * (0.5 + 0.5 * 128 / 8192))


def test_mla_kv_cache_is_smaller_than_mha() -> None:
    """DeepSeek-V3 caches 576 values per layer per token (kv_lora 512 + rope 64;
    arXiv:2412.19437 Sec. 2.1.1): (512 + 64) x 61 layers x 1 byte at an FP8 cache, not
    2 x 128 heads x 128 x 61 as plain multi-head attention would."""
    ds = next(m for m in load_models() if m.id == "deepseek-v3")
    assert ds.kv_elements_per_token(1000) == 61 * 576
    assert ds.kv_elements_per_token(1000) * 1 == 35_136  # bytes per token at FP8
    assert ds.kv_elements_per_token(1000) * 2 == (512 + 64) * 61 * 2  # at BF16


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


@pytest.mark.parametrize(("kv_dtype", "nbytes"), [("bf16", 2), ("fp8", 1)])
def test_deepseek_v3_kv_bytes_per_token(kv_dtype: str, nbytes: int) -> None:
    """The memory model's KV bytes per token for DeepSeek-V3 are (512 + 64) x 61 layers x
    bytes per element (arXiv:2412.19437 Sec. 2.1.1), about 70 KB at BF16."""
    from airadar.perf.memory import kv_bytes_per_token
    from airadar.specs.precision import Precision

    ds = next(m for m in load_models() if m.id == "deepseek-v3")
    p = Precision(weights="fp8", activations="bf16", kv_cache=kv_dtype)
    assert kv_bytes_per_token(model=ds, precision=p, context=4096) == (512 + 64) * 61 * nbytes
