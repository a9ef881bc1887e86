"""Measurement backends behind one small interface, and their registry.

A backend ``prepare``s a model into a runner. Non-LLM runners have ``run(batch)``; LLM runners
have ``prefill(batch, input_tokens)`` (returns when the first token exists) and
``decode_step()``. Heavy libraries are imported inside the backend, only when it is used;
a missing one is one line naming the ``pip install`` that fixes it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from airadar.errors import BackendError, SpecError
from airadar.registry import Registry


class Runner(Protocol):
    kind: str  # "graph" or "llm"
    description: dict[str, Any]


class Backend(Protocol):
    name: str

    def prepare(self, model: str, *, threads: int | None, settings: dict[str, Any]) -> Any: ...


BACKENDS: Registry[Callable[[], Backend]] = Registry("backend", "--backend")
register = BACKENDS.register


def get(name: str) -> Backend:
    return BACKENDS.get(name)()


def names() -> list[str]:
    return BACKENDS.names()


# ---- ONNX Runtime ------------------------------------------------------------------------
class OnnxRunner:
    kind = "graph"

    def __init__(self, path: Path, threads: int | None, providers: list[str] | None) -> None:
        try:
            import numpy as np
            import onnxruntime as ort
        except ImportError:
            raise BackendError("the onnxruntime backend needs ONNX Runtime: "
                               "pip install 'airadar[onnx]'") from None
        if not path.is_file():
            raise SpecError("--model", str(path), "an existing .onnx file")
        so = ort.SessionOptions()
        if threads:
            so.intra_op_num_threads = threads
        avail = ort.get_available_providers()
        prov = providers or [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
                             if p in avail]
        try:
            self.sess = ort.InferenceSession(str(path), so, providers=prov)
        except Exception as exc:  # noqa: BLE001 - ORT raises its own exception types
            msg = str(exc).splitlines()[0][:200]
            raise BackendError(f"ONNX Runtime cannot load {path}: {msg}") from None
        self.np = np
        self.inputs = self.sess.get_inputs()
        self.description = {"backend": "onnxruntime", "model": str(path),
                            "providers": self.sess.get_providers(), "threads": threads}
        self._cache: dict[int, dict[str, Any]] = {}

    def _feed(self, batch: int) -> dict[str, Any]:
        if batch in self._cache:
            return self._cache[batch]
        np = self.np
        rng = np.random.default_rng(0)
        feed = {}
        for i in self.inputs:
            shape = [batch if (k == 0 and not isinstance(d, int)) or (k == 0 and d in (0, 1))
                     else (d if isinstance(d, int) and d > 0 else 128) for k, d in enumerate(i.shape)]
            if "int" in i.type:
                feed[i.name] = rng.integers(0, 100, size=shape).astype(
                    np.int64 if "64" in i.type else np.int32)
            else:
                feed[i.name] = rng.standard_normal(shape).astype(
                    np.float16 if "float16" in i.type else np.float32)
        self._cache[batch] = feed
        return feed

    def run(self, batch: int) -> None:
        self.sess.run(None, self._feed(batch))

    def outputs(self, batch: int) -> Any:
        return self.sess.run(None, self._feed(batch))[0]


def quantize_dynamic_int8(path: Path, out: Path) -> Path:
    """ONNX Runtime dynamic INT8 quantization (weights int8, activations quantized on the fly)."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        raise BackendError("quantization needs ONNX Runtime: pip install 'airadar[onnx]'") from None
    import logging
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # ORT's quantizer logs advice on the root logger
    try:
        quantize_dynamic(str(path), str(out), weight_type=QuantType.QInt8)
    except Exception as exc:  # noqa: BLE001
        raise BackendError(f"cannot quantize {path}: {str(exc).splitlines()[0][:160]}") from None
    finally:
        root.setLevel(level)
    return out


def cosine_vs_reference(ref: OnnxRunner, var: OnnxRunner, batch: int = 32) -> float:
    """Mean cosine similarity of the first output of ``var`` vs ``ref`` on the same inputs
    (random valid token ids / random tensors, seed 0): the quality change, measured."""
    import numpy as np
    var._cache[batch] = ref._feed(batch)
    a = np.asarray(ref.outputs(batch), dtype=np.float64).reshape(batch, -1)
    b = np.asarray(var.outputs(batch), dtype=np.float64).reshape(batch, -1)
    num = (a * b).sum(axis=1)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12
    return float((num / den).mean())


@register("onnxruntime")
class OnnxBackend:
    name = "onnxruntime"

    def prepare(self, model: str, *, threads: int | None, settings: dict[str, Any]) -> OnnxRunner:
        path = Path(model)
        variant = settings.get("variant", "fp32")
        if variant == "fp32":
            return OnnxRunner(path, threads, settings.get("providers"))
        if variant != "int8-dynamic":
            raise SpecError("--variant", variant, "fp32 or int8-dynamic for onnxruntime")
        ref = OnnxRunner(path, threads, settings.get("providers"))
        import tempfile
        tmp = Path(tempfile.mkdtemp(prefix="airadar-q-")) / (path.stem + ".int8.onnx")
        var = OnnxRunner(quantize_dynamic_int8(path, tmp), threads, settings.get("providers"))
        var.description = {**var.description, "variant": "int8-dynamic", "model": str(path),
                           "quality_cosine_vs_fp32": cosine_vs_reference(ref, var),
                           "quality_method": "mean cosine similarity of the first output vs the "
                                             "fp32 model on 32 seeded random inputs"}
        return var


# ---- PyTorch: decoder LLMs from a config.json, random weights -------------------------------
class TorchLLMRunner:
    kind = "llm"

    def __init__(self, cfg: dict[str, Any], name: str, threads: int | None, dtype: str,
                 device: str) -> None:
        try:
            import torch
        except ImportError:
            raise BackendError("the torch backend needs PyTorch: pip install torch==2.13.0 "
                               "(CPU build)") from None
        from airadar.specs.model import spec_from_hf_config

        self.torch = torch
        if threads:
            torch.set_num_threads(threads)
        spec = spec_from_hf_config(cfg, model_id=name)
        if spec.is_moe or spec.is_mla:
            raise SpecError("--model", name, "a dense GQA decoder (MoE/MLA not built by the "
                            "torch backend)")
        self.spec = spec
        dt = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}.get(dtype)
        if dt is None:
            raise SpecError("--precision", dtype, "fp32, bf16 or fp16 for the torch backend")
        if device == "cuda" and not torch.cuda.is_available():
            raise BackendError("CUDA is not available to PyTorch on this machine")
        self.dev = torch.device(device)
        self.dt = dt
        g = torch.Generator().manual_seed(0)
        h, nh, kv, hd = spec.hidden_size, spec.num_heads, spec.kv_heads, spec.dim_head
        inter = spec.intermediate_size

        def w(*shape: int) -> Any:
            return (torch.randn(*shape, generator=g) * 0.02).to(dt).to(self.dev)

        self.emb = w(spec.vocab_size, h)
        self.layers = [{"q": w(h, nh * hd), "k": w(h, kv * hd), "v": w(h, kv * hd),
                        "o": w(nh * hd, h), "up": w(h, inter), "gate": w(h, inter),
                        "down": w(inter, h)} for _ in range(spec.num_layers)]
        self.head = self.emb if spec.tie_embeddings else w(spec.vocab_size, h)
        self.nh, self.kvh, self.hd = nh, kv, hd
        self.description = {"backend": "torch", "model": name, "dtype": dtype, "device": device,
                            "threads": torch.get_num_threads(), "weights": "random (speed only)",
                            "params": spec.params_total}
        self.cache: list[tuple[Any, Any]] = []
        self.last: Any = None

    def _layer(self, x: Any, L: dict[str, Any], li: int, new: bool) -> Any:
        torch = self.torch
        b, t, _ = x.shape
        xn = torch.nn.functional.rms_norm(x, (x.shape[-1],))
        q = (xn @ L["q"]).view(b, t, self.nh, self.hd).transpose(1, 2)
        k = (xn @ L["k"]).view(b, t, self.kvh, self.hd).transpose(1, 2)
        v = (xn @ L["v"]).view(b, t, self.kvh, self.hd).transpose(1, 2)
        if new:
            self.cache.append((k, v))
        else:
            pk, pv = self.cache[li]
            k = torch.cat([pk, k], dim=2)
            v = torch.cat([pv, v], dim=2)
            self.cache[li] = (k, v)
        a = torch.nn.functional.scaled_dot_product_attention(
            q, k, v, is_causal=new, enable_gqa=self.kvh != self.nh)
        x = x + a.transpose(1, 2).reshape(b, t, -1) @ L["o"]
        xn = torch.nn.functional.rms_norm(x, (x.shape[-1],))
        return x + (torch.nn.functional.silu(xn @ L["gate"]) * (xn @ L["up"])) @ L["down"]

    def prefill(self, batch: int, input_tokens: int) -> None:
        torch = self.torch
        with torch.inference_mode():
            ids = torch.randint(0, self.spec.vocab_size, (batch, input_tokens), device=self.dev)
            x = self.emb[ids]
            self.cache = []
            for li, L in enumerate(self.layers):
                x = self._layer(x, L, li, True)
            self.last = (x[:, -1:, :] @ self.head.T).argmax(-1)

    def decode_step(self) -> None:
        torch = self.torch
        with torch.inference_mode():
            x = self.emb[self.last]
            for li, L in enumerate(self.layers):
                x = self._layer(x, L, li, False)
            self.last = (x[:, -1:, :] @ self.head.T).argmax(-1)
        if self.dev.type == "cuda":
            torch.cuda.synchronize()


@register("torch")
class TorchBackend:
    name = "torch"

    def prepare(self, model: str, *, threads: int | None, settings: dict[str, Any]
                ) -> TorchLLMRunner:
        p = Path(model)
        if p.suffix == ".json":
            try:
                cfg = json.loads(p.read_text())
            except FileNotFoundError:
                raise SpecError("--model", model, "an existing config.json") from None
            except json.JSONDecodeError as exc:
                raise SpecError("--model", model, f"valid JSON (line {exc.lineno})") from None
            name = p.parent.name if p.name == "config.json" else p.stem
        else:
            from airadar.catalog import resolve
            spec = resolve.model(model)
            cfg = {"model_type": spec.family or "llama", "hidden_size": spec.hidden_size,
                   "num_hidden_layers": spec.num_layers, "num_attention_heads": spec.num_heads,
                   "num_key_value_heads": spec.kv_heads, "intermediate_size": spec.intermediate_size,
                   "vocab_size": spec.vocab_size, "head_dim": spec.dim_head,
                   "tie_word_embeddings": spec.tie_embeddings}
            name = spec.id
        return TorchLLMRunner(cfg, name, threads, settings.get("precision", "fp32"),
                              settings.get("device", "cpu"))
