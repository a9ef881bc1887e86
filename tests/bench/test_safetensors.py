"""Hugging Face safetensors checkpoints in the torch backend, and the rotary layouts: the
same model stored HF-style (half-split rotary) and GGUF-style (Q/K rows permuted as
llama.cpp's converter does, interleaved rotary) gives the same logits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

CFG = {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
       "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 96,
       "vocab_size": 300, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
       "tie_word_embeddings": False}


def _hf_checkpoint(d: Path) -> dict[str, np.ndarray]:
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(3)
    h, hd = 64, 16
    shapes = {"self_attn.q_proj": (4 * hd, h), "self_attn.k_proj": (2 * hd, h),
              "self_attn.v_proj": (2 * hd, h), "self_attn.o_proj": (h, 4 * hd),
              "mlp.gate_proj": (96, h), "mlp.up_proj": (96, h), "mlp.down_proj": (h, 96)}
    t = {}
    for li in range(2):
        for k, s in shapes.items():
            t[f"model.layers.{li}.{k}.weight"] = torch.randn(*s, generator=g) * 0.1
        t[f"model.layers.{li}.input_layernorm.weight"] = 1 + 0.1 * torch.randn(h, generator=g)
        t[f"model.layers.{li}.post_attention_layernorm.weight"] = torch.ones(h)
    t["model.embed_tokens.weight"] = torch.randn(300, h, generator=g)
    t["model.norm.weight"] = torch.ones(h)
    t["lm_head.weight"] = torch.randn(300, h, generator=g) * 0.1
    d.mkdir()
    save_file(t, str(d / "model.safetensors"))
    (d / "config.json").write_text(json.dumps(CFG))
    return {k: v.numpy() for k, v in t.items()}


def _to_gguf_layout(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp convert_hf_to_gguf.py LlamaModel.permute for Q and K."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def test_safetensors_and_gguf_layouts_give_the_same_logits(tmp_path: Path) -> None:
    from airadar.bench.torch_llm import TorchLLMRunner, safetensors_weights

    _hf_checkpoint(tmp_path / "tiny-llama")
    cfg, w = safetensors_weights(tmp_path / "tiny-llama")
    hf = TorchLLMRunner(cfg, "tiny", None, "fp32", "cpu", weights=w)
    assert hf.rope_interleaved is False and hf.real
    gg = dict(w)
    for li in range(2):
        gg[f"blk.{li}.attn_q.weight"] = _to_gguf_layout(w[f"blk.{li}.attn_q.weight"], 4)
        gg[f"blk.{li}.attn_k.weight"] = _to_gguf_layout(w[f"blk.{li}.attn_k.weight"], 2)
    gguf_style = TorchLLMRunner(cfg, "tiny", None, "fp32", "cpu", weights=gg,
                                rope_interleaved=True)
    toks = list(range(5, 45))
    a, b = hf.logits(toks), gguf_style.logits(toks)
    assert np.abs(a - b).max() < 1e-4 * np.abs(a).max()
    # and rotary matters: without it, the permuted model differs
    wrong = TorchLLMRunner(cfg, "tiny", None, "fp32", "cpu", weights=gg, rope_interleaved=False)
    assert np.abs(wrong.logits(toks) - a).max() > 1e-3


def test_safetensors_bench_from_the_cli(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    from tests.conftest import run_cli

    _hf_checkpoint(tmp_path / "tiny-llama")
    r = run_cli("bench", "-b", "torch", "-m", str(tmp_path / "tiny-llama"), "-i", "16", "-o", "4",
                "--variant", "prune-2:4", "--min-count", "2", "--min-duration", "0.05",
                "--store", str(tmp_path / "s.db"), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["settings"]["weights"].startswith("from safetensors")
    assert 0 < out["settings"]["quality"]["cosine"] < 1


def test_missing_config_is_one_line(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    d = tmp_path / "x"
    d.mkdir()
    (d / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}")
    r = run_cli("bench", "-b", "torch", "-m", str(d), "--store", str(tmp_path / "s.db"))
    assert r.returncode == 2 and "config.json" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
