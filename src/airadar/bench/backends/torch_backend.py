"""PyTorch: decoder LLMs from a config.json (random weights), safetensors weights, a
llama GGUF file, or a catalog model id (its architecture, random weights). The runner is
``airadar.bench.torch_llm``."""

from __future__ import annotations

import json
from typing import Any

from airadar.bench.backends.base import model_cache_dir, register
from airadar.errors import SpecError


@register("torch")
class TorchBackend:
    name = "torch"

    def prepare(self, model: str, *, threads: int | None, settings: dict[str, Any]) -> Any:
        from airadar.bench import packaged
        from airadar.bench.torch_llm import TorchLLMRunner, gguf_weights, measure_quality, safetensors_weights

        p = packaged.resolve(model, model_cache_dir())
        weights = None
        gguf_path = None
        if p.suffix == ".gguf":
            if not p.is_file():
                raise SpecError("--model", model, "an existing .gguf file")
            cfg, weights = gguf_weights(p)
            name, gguf_path = model, p
        elif p.suffix == ".safetensors" or (p.is_dir() and any(p.glob("*.safetensors"))):
            cfg, weights = safetensors_weights(p)
            name = (p if p.is_dir() else p.parent).name
        elif p.suffix == ".json":
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
        variant = settings.get("variant") or "fp32"
        args = (cfg, name, threads, settings.get("precision", "fp32"), settings.get("device", "cpu"))
        runner = TorchLLMRunner(*args, weights=weights, variant=variant, gguf_path=gguf_path)
        if variant != "fp32" and settings.get("measure_quality", True):
            base = TorchLLMRunner(cfg, name, threads, "fp32", "cpu", weights=weights,
                                  gguf_path=gguf_path)
            runner.description["quality"] = measure_quality(base, runner)
        return runner

