"""PyTorch decoder LLM runner: built from a config.json (random weights, for speed) or loaded
from a GGUF file of the llama architecture (weights dequantized to the compute dtype).

A llama-style block: RMSNorm, GQA attention with rotary positions, SwiGLU MLP. Weight
matrices are ``nn.Linear`` modules, so PyTorch's dynamic int8 quantization and the pruning
variants apply to them directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from airadar.bench import quality, variants
from airadar.errors import BackendError, SpecError

TORCH_VARIANTS = ("fp32", "int8-dynamic", *variants.PRUNE_VARIANTS)
_MATS = ("q", "k", "v", "o", "gate", "up", "down")


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise BackendError("the torch backend needs PyTorch: pip install torch==2.13.0 "
                           "(CPU build)") from None
    return torch


def _field(reader: Any, key: str, default: Any = None) -> Any:
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def gguf_weights(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config, weights) from a GGUF file of the llama architecture, dequantized to float32
    numpy arrays in [out, in] layout."""
    try:
        import gguf
    except ImportError:
        raise BackendError("loading GGUF into PyTorch needs the gguf package: "
                           "pip install 'airadar[weights]'") from None
    try:
        r = gguf.GGUFReader(str(path))
    except Exception as exc:  # noqa: BLE001 - corrupt files raise assorted errors
        raise SpecError("--model", str(path), f"a readable GGUF file ({type(exc).__name__})"
                        ) from None
    arch = _field(r, "general.architecture")
    if arch != "llama":
        raise SpecError("--model", f"{path.name} ({arch})", "a GGUF of the llama architecture "
                        "for the torch backend (use --backend llamacpp for others)")
    cfg = {"model_type": "llama", "hidden_size": int(_field(r, "llama.embedding_length")),
           "num_hidden_layers": int(_field(r, "llama.block_count")),
           "num_attention_heads": int(_field(r, "llama.attention.head_count")),
           "num_key_value_heads": int(_field(r, "llama.attention.head_count_kv")),
           "intermediate_size": int(_field(r, "llama.feed_forward_length")),
           "rope_theta": float(_field(r, "llama.rope.freq_base", 10000.0)),
           "rms_norm_eps": float(_field(r, "llama.attention.layer_norm_rms_epsilon", 1e-5)),
           "file_type": int(_field(r, "general.file_type", -1))}
    w: dict[str, Any] = {}
    for t in r.tensors:
        w[t.name] = np.array(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float32)
    cfg["vocab_size"] = int(w["token_embd.weight"].shape[0])
    cfg["tie_word_embeddings"] = "output.weight" not in w
    return cfg, w


_HF = {"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj",
       "o": "self_attn.o_proj", "gate": "mlp.gate_proj", "up": "mlp.up_proj",
       "down": "mlp.down_proj"}
_GG = {"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output", "gate": "ffn_gate",
       "up": "ffn_up", "down": "ffn_down"}


def safetensors_weights(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config, weights) from a Hugging Face llama-style checkpoint: a directory (or a file
    in it) with ``config.json`` and ``*.safetensors``. Weights are renamed to the GGUF names
    the runner uses and kept in Hugging Face's half-split rotary layout."""
    import json

    torch = _torch()
    try:
        from safetensors.torch import load_file
    except ImportError:
        raise BackendError("loading safetensors needs the safetensors package: "
                           "pip install 'airadar[weights]'") from None
    d = path if path.is_dir() else path.parent
    files = [path] if path.is_file() else sorted(d.glob("*.safetensors"))
    cfg_file = d / "config.json"
    if not files or not cfg_file.is_file():
        raise SpecError("--model", str(path), "a directory with config.json and *.safetensors")
    cfg = json.loads(cfg_file.read_text())
    raw: dict[str, Any] = {}
    for f in files:
        try:
            raw.update(load_file(str(f)))
        except Exception as exc:  # noqa: BLE001 - corrupt headers raise assorted errors
            raise SpecError("--model", str(f), f"a readable safetensors file "
                            f"({type(exc).__name__})") from None
    if any(k.endswith(".bias") for k in raw):
        raise SpecError("--model", str(path), "a checkpoint without linear biases (llama, "
                        "mistral, smollm); biased attention (qwen2) is not built")
    w: dict[str, Any] = {}
    try:
        for li in range(int(cfg["num_hidden_layers"])):
            pre = f"model.layers.{li}."
            for m in _MATS:
                w[f"blk.{li}.{_GG[m]}.weight"] = raw[pre + _HF[m] + ".weight"]
            w[f"blk.{li}.attn_norm.weight"] = raw[pre + "input_layernorm.weight"]
            w[f"blk.{li}.ffn_norm.weight"] = raw[pre + "post_attention_layernorm.weight"]
        w["token_embd.weight"] = raw["model.embed_tokens.weight"]
        w["output_norm.weight"] = raw["model.norm.weight"]
        if "lm_head.weight" in raw:
            w["output.weight"] = raw["lm_head.weight"]
    except KeyError as exc:
        raise SpecError("--model", str(path), f"llama-style tensor names (missing "
                        f"{exc.args[0]})") from None
    out = {k: v.to(torch.float32).numpy() for k, v in w.items()}
    cfg["tie_word_embeddings"] = "output.weight" not in out
    return cfg, out


class TorchLLMRunner:
    kind = "llm"

    def __init__(self, cfg: dict[str, Any], name: str, threads: int | None, dtype: str,
                 device: str, weights: dict[str, Any] | None = None, variant: str = "fp32",
                 gguf_path: Path | None = None, rope_interleaved: bool | None = None) -> None:
        torch = _torch()
        from airadar.specs.model import spec_from_hf_config

        self.torch = torch
        if threads:
            torch.set_num_threads(threads)
        spec = spec_from_hf_config(cfg, model_id=name)
        if spec.is_moe or spec.is_mla:
            raise SpecError("--model", name, "a dense GQA decoder (MoE/MLA not built by the "
                            "torch backend)")
        if variant not in TORCH_VARIANTS:
            raise SpecError("--variant", variant, ", ".join(TORCH_VARIANTS) + " for torch")
        dt = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}.get(dtype)
        if dt is None:
            raise SpecError("--precision", dtype, "fp32, bf16 or fp16 for the torch backend")
        if variant == "int8-dynamic" and (dtype != "fp32" or device != "cpu"):
            raise SpecError("--variant", variant, "int8-dynamic with --precision fp32 on the CPU")
        if device == "cuda" and not torch.cuda.is_available():
            raise BackendError("CUDA is not available to PyTorch on this machine")
        self.spec, self.dev, self.dt, self.variant = spec, torch.device(device), dt, variant
        self.nh, self.kvh, self.hd = spec.num_heads, spec.kv_heads, spec.dim_head
        self.eps = float(cfg.get("rms_norm_eps", 1e-5))
        self.real = weights is not None
        self.gguf_path = gguf_path
        # GGUF stores Q/K permuted for llama.cpp's interleaved-pair rotary; Hugging Face
        # checkpoints and random weights use the half-split form.
        self.rope_interleaved = (gguf_path is not None) if rope_interleaved is None \
            else rope_interleaved
        self._build(cfg, weights)
        self._ref_state: Any = None
        self.description = {
            "backend": "torch", "model": name, "dtype": dtype, "device": device,
            "threads": torch.get_num_threads(), "variant": variant,
            "weights": (f"from {gguf_path.name}, dequantized to {dtype}" if gguf_path
                        else f"from safetensors, as {dtype}" if weights is not None
                        else "random (speed only)"),
            "params": spec.params_total}
        self.cache: list[tuple[Any, Any]] = []
        self.last: Any = None
        self.pos = 0

    # ---- construction -------------------------------------------------------------------
    def _build(self, cfg: dict[str, Any], wts: dict[str, Any] | None) -> None:
        torch = self.torch
        nn = torch.nn
        s = self.spec
        h, inter = s.hidden_size, s.intermediate_size
        shapes = {"q": (s.num_heads * self.hd, h), "k": (self.kvh * self.hd, h),
                  "v": (self.kvh * self.hd, h), "o": (h, s.num_heads * self.hd),
                  "gate": (inter, h), "up": (inter, h), "down": (h, inter)}
        gguf_names = _GG
        g = torch.Generator().manual_seed(0)

        def rand(*shape: int) -> Any:
            return torch.randn(*shape, generator=g) * 0.02

        blocks = []
        self.norms: list[tuple[Any, Any]] = []
        for li in range(s.num_layers):
            mods = {}
            for m in _MATS:
                lin = nn.Linear(shapes[m][1], shapes[m][0], bias=False)
                data = (torch.from_numpy(wts[f"blk.{li}.{gguf_names[m]}.weight"]) if wts
                        else rand(*shapes[m]))
                lin.weight = nn.Parameter(data.reshape(shapes[m]), requires_grad=False)
                mods[m] = lin
            blocks.append(nn.ModuleDict(mods))
            if wts:
                self.norms.append((torch.from_numpy(wts[f"blk.{li}.attn_norm.weight"]),
                                   torch.from_numpy(wts[f"blk.{li}.ffn_norm.weight"])))
            else:
                self.norms.append((torch.ones(h), torch.ones(h)))
        self.blocks = nn.ModuleList(blocks)
        if wts:
            self.emb = torch.from_numpy(wts["token_embd.weight"])
            self.head = torch.from_numpy(wts.get("output.weight", wts["token_embd.weight"]))
            self.final_norm = torch.from_numpy(wts["output_norm.weight"])
        else:
            self.emb = rand(s.vocab_size, h)
            self.head = self.emb if s.tie_embeddings else rand(s.vocab_size, h)
            self.final_norm = torch.ones(h)
        theta = float(cfg.get("rope_theta", 10000.0))
        inv = 1.0 / theta ** (torch.arange(0, self.hd, 2, dtype=torch.float64) / self.hd)
        self.inv_freq = inv
        self._rope_len = 0
        self._apply_variant()
        self._to_device()

    def _ensure_rope(self, n: int) -> None:
        if n <= self._rope_len:
            return
        torch = self.torch
        ang = torch.arange(n, dtype=torch.float64)[:, None] * self.inv_freq[None, :]
        self.cos = ang.cos().to(self.dt).to(self.dev)
        self.sin = ang.sin().to(self.dt).to(self.dev)
        self._rope_len = n

    def _apply_variant(self) -> None:
        torch = self.torch
        if self.variant in variants.PRUNE_VARIANTS:
            for b in self.blocks:
                for m in _MATS:
                    w = b[m].weight.data.numpy()
                    pruned = variants.prune(w, self.variant, reduction_axis=1)
                    b[m].weight = torch.nn.Parameter(torch.from_numpy(pruned),
                                                     requires_grad=False)
        elif self.variant == "int8-dynamic":
            import warnings

            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
            with warnings.catch_warnings():  # torch.ao warns that it moves to torchao
                warnings.simplefilter("ignore")
                self.blocks = quantize_dynamic(
                    self.blocks, {torch.nn.Linear: per_channel_dynamic_qconfig},
                    dtype=torch.qint8)

    def _to_device(self) -> None:
        if self.variant != "int8-dynamic":
            self.blocks = self.blocks.to(self.dt).to(self.dev)
        self.norms = [(a.to(self.dt).to(self.dev), f.to(self.dt).to(self.dev))
                      for a, f in self.norms]
        self.emb = self.emb.to(self.dt).to(self.dev)
        self.head = self.head.to(self.dt).to(self.dev)
        self.final_norm = self.final_norm.to(self.dt).to(self.dev)
        self._rope_len = 0
        self._ensure_rope(4096)

    # ---- forward --------------------------------------------------------------------------
    def _rope(self, x: Any, pos0: int) -> Any:
        torch = self.torch
        t = x.shape[2]
        self._ensure_rope(pos0 + t)
        cos, sin = self.cos[pos0:pos0 + t], self.sin[pos0:pos0 + t]
        if self.rope_interleaved:
            x1, x2 = x[..., 0::2], x[..., 1::2]
            return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)
        half = self.hd // 2
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)

    def _layer(self, x: Any, li: int, new: bool, pos0: int) -> Any:
        F = self.torch.nn.functional
        torch = self.torch
        B = self.blocks[li]
        an, fn = self.norms[li]
        b, t, _ = x.shape
        xn = F.rms_norm(x, (x.shape[-1],), an, self.eps)
        q = B["q"](xn).view(b, t, self.nh, self.hd).transpose(1, 2)
        k = B["k"](xn).view(b, t, self.kvh, self.hd).transpose(1, 2)
        v = B["v"](xn).view(b, t, self.kvh, self.hd).transpose(1, 2)
        q, k = self._rope(q, pos0), self._rope(k, pos0)
        if new:
            self.cache.append((k, v))
        else:
            pk, pv = self.cache[li]
            k = torch.cat([pk, k], dim=2)
            v = torch.cat([pv, v], dim=2)
            self.cache[li] = (k, v)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=new,
                                           enable_gqa=self.kvh != self.nh)
        x = x + B["o"](a.transpose(1, 2).reshape(b, t, -1))
        xn = F.rms_norm(x, (x.shape[-1],), fn, self.eps)
        return x + B["down"](F.silu(B["gate"](xn)) * B["up"](xn))

    def _forward(self, ids: Any, new: bool) -> Any:
        F = self.torch.nn.functional
        x = self.emb[ids]
        if new:
            self.cache = []
            self.pos = 0
        pos0 = self.pos
        for li in range(len(self.blocks)):
            x = self._layer(x, li, new, pos0)
        self.pos = pos0 + ids.shape[1]
        return F.rms_norm(x, (x.shape[-1],), self.final_norm, self.eps)

    def logits(self, tokens: list[int]) -> np.ndarray:
        """Logits [len, vocab] for one sequence from an empty context (quality measurement)."""
        torch = self.torch
        with torch.inference_mode():
            ids = torch.tensor([tokens], device=self.dev)
            x = self._forward(ids, True)
            out = (x[0] @ self.head.T).float().cpu().numpy()
        self.cache = []
        return np.asarray(out)

    def prefill(self, batch: int, input_tokens: int) -> None:
        torch = self.torch
        with torch.inference_mode():
            ids = torch.randint(0, self.spec.vocab_size, (batch, input_tokens), device=self.dev)
            x = self._forward(ids, True)
            self.last = (x[:, -1:, :] @ self.head.T).argmax(-1)
        if self.dev.type == "cuda":
            torch.cuda.synchronize()  # TTFT ends when the first token exists

    def decode_step(self) -> None:
        torch = self.torch
        with torch.inference_mode():
            x = self._forward(self.last, False)
            self.last = (x[:, -1:, :] @ self.head.T).argmax(-1)
        if self.dev.type == "cuda":
            torch.cuda.synchronize()


def measure_quality(base: TorchLLMRunner, var: TorchLLMRunner) -> dict[str, Any]:
    """The quality change of ``var`` against ``base`` (same weights, fp32, no variant).

    Real weights: perplexity of both on the shipped corpus, tokenized by the GGUF's own
    tokenizer (llama-cpp-python, vocabulary only). Random weights: cosine similarity of the
    final-position logits on 8 seeded random sequences (perplexity means nothing there)."""
    if base.real and base.gguf_path is not None:
        from airadar.bench.llamacpp import tokenize_corpus

        tb = tokenize_corpus(base.gguf_path)
        if tb is None:
            return {"method": "not measured: tokenizing the corpus needs llama-cpp-python "
                              "(pip install 'airadar[llama]')"}
        toks, bos = tb
        p0 = quality.perplexity(toks, base.logits, bos=bos)
        p1 = quality.perplexity(toks, var.logits, bos=bos)
        return {"method": "perplexity on the shipped corpus", "perplexity_reference":
                p0["perplexity"], "perplexity": p1["perplexity"],
                "perplexity_ratio": p1["perplexity"] / p0["perplexity"],
                "tokens_scored": p1["tokens_scored"], "corpus": p1["corpus"],
                "reference": "the same weights, fp32, unmodified"}
    rng = np.random.default_rng(0)
    a, b = [], []
    for _ in range(8):
        seq = rng.integers(0, base.spec.vocab_size, 64).tolist()
        a.append(base.logits(seq)[-1])
        b.append(var.logits(seq)[-1])
    why = "real weights, no GGUF tokenizer for the corpus" if base.real else "random weights"
    return {"method": "mean cosine similarity of final-position logits vs the unmodified "
                      f"model on 8 seeded random 64-token sequences ({why})",
            "cosine": quality.cosine(np.stack(a), np.stack(b))}
