"""Random-weight GGUF models of the llama architecture, built from a Hugging Face
``config.json`` with the ``gguf`` package: their speed under llama.cpp is real, their
output is not (no tokenizer is written: ``tokenizer.ggml.model = none``). Matrices are
F16 (norms F32), so llama.cpp's quantizer makes Q8_0/Q4_0/... variants from them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from airadar.errors import BackendError, SpecError


def write_random_gguf(cfg: dict[str, Any], out: Path, seed: int = 0) -> Path:
    try:
        import gguf
    except ImportError:
        raise BackendError("random GGUF models need the gguf package: "
                           "pip install 'airadar[weights]'") from None
    from airadar.specs.model import spec_from_hf_config

    spec = spec_from_hf_config(cfg, model_id=out.stem)
    if spec.is_moe or spec.is_mla:
        raise SpecError("--model", out.stem, "a dense GQA decoder for a random GGUF")
    h, nh, kv, hd, inter = (spec.hidden_size, spec.num_heads, spec.kv_heads, spec.dim_head,
                            spec.intermediate_size)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part")
    w = gguf.GGUFWriter(str(tmp), "llama")
    w.add_name(f"random {out.stem}")
    w.add_block_count(spec.num_layers)
    w.add_context_length(int(cfg.get("max_position_embeddings", 4096)))
    w.add_embedding_length(h)
    w.add_feed_forward_length(inter)
    w.add_head_count(nh)
    w.add_head_count_kv(kv)
    w.add_key_length(hd)
    w.add_value_length(hd)
    w.add_rope_dimension_count(hd)
    w.add_rope_freq_base(float(cfg.get("rope_theta", 10000.0)))
    w.add_layer_norm_rms_eps(float(cfg.get("rms_norm_eps", 1e-5)))
    w.add_file_type(1)  # MOSTLY_F16
    w.add_vocab_size(spec.vocab_size)
    w.add_tokenizer_model("none")
    rng = np.random.default_rng(seed)

    def mat(name: str, rows: int, cols: int) -> None:
        w.add_tensor(name, (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02
                            ).astype(np.float16))

    def norm(name: str) -> None:
        w.add_tensor(name, np.ones(h, dtype=np.float32))

    mat("token_embd.weight", spec.vocab_size, h)
    norm("output_norm.weight")
    if not spec.tie_embeddings:
        mat("output.weight", spec.vocab_size, h)
    for i in range(spec.num_layers):
        norm(f"blk.{i}.attn_norm.weight")
        norm(f"blk.{i}.ffn_norm.weight")
        mat(f"blk.{i}.attn_q.weight", nh * hd, h)
        mat(f"blk.{i}.attn_k.weight", kv * hd, h)
        mat(f"blk.{i}.attn_v.weight", kv * hd, h)
        mat(f"blk.{i}.attn_output.weight", h, nh * hd)
        mat(f"blk.{i}.ffn_gate.weight", inter, h)
        mat(f"blk.{i}.ffn_up.weight", inter, h)
        mat(f"blk.{i}.ffn_down.weight", h, inter)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    tmp.replace(out)
    return out


def cached_random_gguf(config: Path, cache_dir: Path) -> Path:
    """The random GGUF for a config.json, built once (keyed by the config's content)."""
    try:
        text = config.read_text()
        cfg = json.loads(text)
    except FileNotFoundError:
        raise SpecError("--model", str(config), "an existing config.json") from None
    except json.JSONDecodeError as exc:
        raise SpecError("--model", str(config), f"valid JSON (line {exc.lineno})") from None
    name = config.parent.name if config.name == "config.json" else config.stem
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    out = cache_dir / f"random-{name}-{digest}.f16.gguf"
    if out.is_file():
        return out
    return write_random_gguf(cfg, out)
