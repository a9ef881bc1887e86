"""llama.cpp: GGUF files (or a config.json, as random-weight GGUF for speed only) and their
llama.cpp quantizations, through llama-cpp-python. The runner, quantizer and perplexity
live in ``airadar.bench.llamacpp``."""

from __future__ import annotations

from typing import Any

from airadar.bench.backends.base import model_cache_dir, register
from airadar.bench.llamacpp import (
    QUANT_TYPES,
    LlamaCppRunner,
    gguf_perplexity,
    library,
    quantize,
    weight_precision,
)
from airadar.errors import SpecError


@register("llamacpp")
class LlamaCppBackend:
    name = "llamacpp"

    def prepare(self, model: str, *, threads: int | None, settings: dict[str, Any]) -> Any:
        from airadar.bench import packaged

        library()  # fails early, naming the install, when the binding is missing
        src = packaged.resolve(model, model_cache_dir())
        random_weights = src.suffix == ".json"
        if random_weights:
            from airadar.bench.gguf_gen import cached_random_gguf
            src = cached_random_gguf(src, model_cache_dir() / "random")
        if not src.is_file():
            raise SpecError("--model", model, "an existing .gguf file, a config.json (random "
                            "weights) or one of " + ", ".join(
                                n for n, p in packaged.PACKAGED.items() if p.fmt == "gguf"))
        variant = settings.get("variant") or "file"
        if variant in ("fp32", "file"):
            variant, path = "file", src
        elif variant in QUANT_TYPES:
            path = quantize(src, variant, model_cache_dir() / "variants", threads)
        else:
            raise SpecError("--variant", variant, "file (as given), " + ", ".join(QUANT_TYPES)
                            + " for llamacpp")
        n_ctx = int(settings.get("input_tokens", 128)) + int(settings.get("output_tokens", 32)) + 8
        runner = LlamaCppRunner(path, model, threads, n_ctx, variant, src)
        runner.description["weight_precision"] = weight_precision(path)
        if random_weights:
            runner.description["weights"] = "random (speed only)"
            runner.description["quality"] = {"method": "not measured: random weights"}
        elif settings.get("measure_quality", True):
            q = {"method": "perplexity on the shipped corpus", **gguf_perplexity(path, threads)}
            if variant != "file":
                ref = gguf_perplexity(src, threads)
                q["perplexity_reference"] = ref["perplexity"]
                q["perplexity_ratio"] = q["perplexity"] / ref["perplexity"]
                q["reference"] = f"the given file {src.name} (requantized from it)"
            runner.description["quality"] = q
        return runner
