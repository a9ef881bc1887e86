"""Measurement backends behind one small interface, and their registry.

A backend ``prepare``s a model into a runner. Non-LLM runners have ``run(batch)``; LLM runners
have ``prefill(batch, input_tokens)`` (returns when the first token exists) and
``decode_step()``. Heavy libraries are imported inside the backend, only when it is used;
a missing one is one line naming the ``pip install`` that fixes it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

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
        if batch not in self._cache:
            self._cache[batch] = self.feed(batch, seed=0)
        return self._cache[batch]

    def feed(self, batch: int, seed: int) -> dict[str, Any]:
        """Seeded random inputs: integer inputs named like a mask are ones, like token types
        zeros, others random ids in [0, 100); float inputs N(0, 1)."""
        np = self.np
        rng = np.random.default_rng(seed)
        feed = {}
        for i in self.inputs:
            shape = [batch if (k == 0 and not isinstance(d, int)) or (k == 0 and d in (0, 1))
                     else (d if isinstance(d, int) and d > 0 else 128) for k, d in enumerate(i.shape)]
            if "int" in i.type:
                idt = np.int64 if "64" in i.type else np.int32
                if "mask" in i.name:
                    feed[i.name] = np.ones(shape, dtype=idt)
                elif "type" in i.name:
                    feed[i.name] = np.zeros(shape, dtype=idt)
                else:
                    feed[i.name] = rng.integers(0, 100, size=shape).astype(idt)
            else:
                feed[i.name] = rng.standard_normal(shape).astype(
                    np.float16 if "float16" in i.type else np.float32)
        return feed

    def run(self, batch: int) -> None:
        self.sess.run(None, self._feed(batch))

    def quality_output(self) -> int:
        """Which output quality is measured on: token states (float, rank 3, static last
        dimension; mean-pooled), else an embedding (float, rank 2, static last dimension),
        else the first output."""
        outs = self.sess.get_outputs()
        for rank in (3, 2):
            for k, o in enumerate(outs):
                if ("float" in o.type and len(o.shape) == rank
                        and isinstance(o.shape[-1], int) and o.shape[-1] > 1):
                    return k
        return 0

    def run_quality(self, feed: dict[str, Any]) -> Any:
        names = {i.name for i in self.inputs}
        return self.sess.run(None, {k: v for k, v in feed.items() if k in names}
                             )[self.quality_output()]

    def outputs(self, batch: int) -> Any:
        return self.run_quality(self._feed(batch))


ONNX_VARIANTS = ("fp32", "int8-dynamic", "int8-static", "prune-magnitude", "prune-2:4")


@contextlib.contextmanager
def _ort_quiet() -> Any:
    import logging
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # ORT's quantizer logs advice on the root logger
    try:
        yield
    finally:
        root.setLevel(level)


def quantize_dynamic_int8(path: Path, out: Path) -> Path:
    """ONNX Runtime dynamic INT8 quantization (weights int8, activations quantized on the fly)."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        raise BackendError("quantization needs ONNX Runtime: pip install 'airadar[onnx]'") from None
    try:
        with _ort_quiet():
            quantize_dynamic(str(path), str(out), weight_type=QuantType.QInt8)
    except Exception as exc:  # noqa: BLE001
        raise BackendError(f"cannot quantize {path}: {str(exc).splitlines()[0][:160]}") from None
    return out


def quantize_static_int8(path: Path, out: Path, ref: OnnxRunner, samples: int = 16,
                         feeds: list[dict[str, Any]] | None = None) -> Path:
    """ONNX Runtime static INT8: QDQ, MatMul/Gemm only (quantizing every op, Softmax and
    LayerNorm included, cut all-MiniLM-L6-v2's embedding cosine to 0.42 here), weights per
    channel, activation ranges calibrated with MinMax on ``feeds`` (real text, when the
    model's tokenizer is known) or on ``samples`` seeded random inputs."""
    try:
        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    except ImportError:
        raise BackendError("quantization needs ONNX Runtime: pip install 'airadar[onnx]'") from None

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.i = 0

        def get_next(self) -> dict[str, Any] | None:
            if self.i >= (len(feeds) if feeds else samples):
                return None
            self.i += 1
            return feeds[self.i - 1] if feeds else ref.feed(1, seed=1000 + self.i)

    try:
        with _ort_quiet():
            quantize_static(str(path), str(out), Reader(), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            per_channel=True, op_types_to_quantize=["MatMul", "Gemm"])
    except Exception as exc:  # noqa: BLE001
        raise BackendError(f"cannot quantize {path}: {str(exc).splitlines()[0][:160]}") from None
    return out


def prune_onnx(path: Path, out: Path, variant: str) -> Path:
    """Prune the weight matrices (2-D float initializers feeding MatMul/Gemm as B)."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise BackendError("pruning ONNX models needs onnx: pip install 'airadar[onnx]'") from None
    from airadar.bench.variants import prune

    m = onnx.load(str(path))
    weights = {n.input[1] for n in m.graph.node if n.op_type in ("MatMul", "Gemm")
               and len(n.input) > 1}
    trans_b = {n.input[1] for n in m.graph.node if n.op_type == "Gemm"
               and any(a.name == "transB" and a.i == 1 for a in n.attribute)}
    count = 0
    for init in m.graph.initializer:
        if init.name not in weights:
            continue
        w = numpy_helper.to_array(init)
        if w.ndim != 2 or w.dtype.kind != "f":
            continue
        axis = 1 if init.name in trans_b else 0  # MatMul B is [in, out]: reduce over axis 0
        if variant == "prune-2:4" and w.shape[axis] % 4:
            continue
        init.CopyFrom(numpy_helper.from_array(prune(w, variant, reduction_axis=axis), init.name))
        count += 1
    if count == 0:
        raise BackendError(f"{path.name} has no float weight matrices to prune")
    onnx.save(m, str(out))
    return out


def cosine_vs_reference(ref: OnnxRunner, var: OnnxRunner, batch: int = 32) -> float:
    """Mean cosine similarity of the quality output of ``var`` vs ``ref`` on the same inputs
    (random valid token ids / random tensors, seed 0): the quality change, measured."""
    from airadar.bench.quality import cosine

    var._cache[batch] = ref._feed(batch)
    return cosine(ref.outputs(batch), var.outputs(batch))


def _text_tokenizer(model: str) -> Any:
    """The tokenizer for real-text inputs when ``model`` is a packaged BERT-vocabulary
    encoder and the tokenizer is installed (else None: seeded random inputs)."""
    from airadar.bench import packaged

    if model not in packaged.BERT_UNCASED:
        return None
    d = packaged.bert_tokenizer_dir()
    if d is None:
        return None
    try:
        from airadar.bench.bert import tokenizer
        return tokenizer(d)
    except BackendError:
        return None


def compare(ref: OnnxRunner, var: OnnxRunner, tok: Any, reference: str) -> dict[str, Any]:
    """The quality of ``var`` against ``ref``: on 32 corpus sentences as mean-pooled sentence
    embeddings when a tokenizer is known, else on 32 seeded random inputs."""
    from airadar.bench.quality import cosine

    if tok is not None:
        from airadar.bench.bert import mean_pool, sentences, text_feed

        texts = sentences(32)
        feed = text_feed(tok, texts, ["input_ids", "attention_mask", "token_type_ids"])
        a = np.asarray(ref.run_quality(feed))
        b = np.asarray(var.run_quality(feed))
        mask = feed["attention_mask"]
        a = mean_pool(a, mask) if a.ndim == 3 else a
        b = mean_pool(b, mask) if b.ndim == 3 else b
        return {"cosine": cosine(a, b), "reference": reference,
                "method": "mean cosine similarity of mean-pooled sentence embeddings on 32 "
                          "sentences of the shipped corpus"}
    return {"cosine": cosine_vs_reference(ref, var), "reference": reference,
            "method": "mean cosine similarity of the model's output on 32 seeded random inputs"}


@register("onnxruntime")
class OnnxBackend:
    name = "onnxruntime"

    def prepare(self, model: str, *, threads: int | None, settings: dict[str, Any]) -> OnnxRunner:
        import tempfile

        from airadar.bench import packaged

        path = packaged.resolve(model, _cache_dir())
        variant = settings.get("variant") or "fp32"
        prov = settings.get("providers")
        reference = settings.get("reference")
        if variant not in ONNX_VARIANTS:
            raise SpecError("--variant", variant, ", ".join(ONNX_VARIANTS) + " for onnxruntime")
        if variant == "fp32" and not reference:
            return OnnxRunner(path, threads, prov)
        given = OnnxRunner(path, threads, prov)
        tok = _text_tokenizer(model)
        if variant == "fp32":
            var = given
        else:
            tmp = Path(tempfile.mkdtemp(prefix="airadar-v-")) / f"{path.stem}.{variant}.onnx"
            if variant == "int8-dynamic":
                made = quantize_dynamic_int8(path, tmp)
            elif variant == "int8-static":
                feeds = None
                if tok is not None:  # calibrate on text other than the 32 quality sentences
                    from airadar.bench.bert import sentences, text_feed
                    names = [i.name for i in given.inputs]
                    feeds = [text_feed(tok, [t], names) for t in sentences(64)[32:48]]
                made = quantize_static_int8(path, tmp, given, feeds=feeds)
            else:
                made = prune_onnx(path, tmp, variant)
            var = OnnxRunner(made, threads, prov)
        if reference:
            ref = OnnxRunner(packaged.resolve(reference, _cache_dir()), threads, prov)
            ref_label = reference
        else:
            ref, ref_label = given, f"{path.name} (as given)"
        if reference and reference not in packaged.BERT_UNCASED:
            tok = None  # the reference may not read BERT token ids
        if settings.get("measure_quality", True):
            try:
                q = compare(ref, var, tok, ref_label)
            except Exception as exc:  # noqa: BLE001 - mismatched inputs/outputs
                raise SpecError("--reference", reference or model, "a model with the same "
                                f"inputs and output shape ({type(exc).__name__})") from None
        else:
            q = {"method": "not measured (--no-quality)"}
        var.description = {**var.description, "variant": variant, "model": str(path),
                           "quality": q}
        return var


# ---- PyTorch: decoder LLMs from a config.json (random weights) or a llama GGUF -------------
@register("torch")
class TorchBackend:
    name = "torch"

    def prepare(self, model: str, *, threads: int | None, settings: dict[str, Any]) -> Any:
        from airadar.bench import packaged
        from airadar.bench.torch_llm import TorchLLMRunner, gguf_weights, measure_quality, safetensors_weights

        p = packaged.resolve(model, _cache_dir())
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


def _cache_dir() -> Path:
    from airadar.catalog.loader import user_dir

    return user_dir() / "models"


from airadar.bench import llamacpp as _llamacpp  # noqa: E402,F401  (registers "llamacpp")
