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

    def outputs(self, batch: int) -> Any:
        return self.sess.run(None, self._feed(batch))[0]


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


def quantize_static_int8(path: Path, out: Path, ref: OnnxRunner, samples: int = 16) -> Path:
    """ONNX Runtime static INT8 (QDQ; activation ranges calibrated with MinMax on ``samples``
    seeded random inputs of the model's own input shapes and token-id range)."""
    try:
        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    except ImportError:
        raise BackendError("quantization needs ONNX Runtime: pip install 'airadar[onnx]'") from None

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.i = 0

        def get_next(self) -> dict[str, Any] | None:
            if self.i >= samples:
                return None
            self.i += 1
            return ref.feed(1, seed=1000 + self.i)

    try:
        with _ort_quiet():
            quantize_static(str(path), str(out), Reader(), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
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
    """Mean cosine similarity of the first output of ``var`` vs ``ref`` on the same inputs
    (random valid token ids / random tensors, seed 0): the quality change, measured."""
    from airadar.bench.quality import cosine

    var._cache[batch] = ref._feed(batch)
    return cosine(ref.outputs(batch), var.outputs(batch))


@register("onnxruntime")
class OnnxBackend:
    name = "onnxruntime"

    def prepare(self, model: str, *, threads: int | None, settings: dict[str, Any]) -> OnnxRunner:
        import tempfile

        from airadar.bench import packaged

        path = packaged.resolve(model, _cache_dir())
        variant = settings.get("variant") or "fp32"
        prov = settings.get("providers")
        if variant not in ONNX_VARIANTS:
            raise SpecError("--variant", variant, ", ".join(ONNX_VARIANTS) + " for onnxruntime")
        if variant == "fp32":
            return OnnxRunner(path, threads, prov)
        ref = OnnxRunner(path, threads, prov)
        tmp = Path(tempfile.mkdtemp(prefix="airadar-v-")) / f"{path.stem}.{variant}.onnx"
        if variant == "int8-dynamic":
            made = quantize_dynamic_int8(path, tmp)
        elif variant == "int8-static":
            made = quantize_static_int8(path, tmp, ref)
        else:
            made = prune_onnx(path, tmp, variant)
        var = OnnxRunner(made, threads, prov)
        var.description = {**var.description, "variant": variant, "model": str(path),
                           "quality": {"cosine": cosine_vs_reference(ref, var),
                                       "method": "mean cosine similarity of the first output "
                                                 "vs the model as given on 32 seeded random "
                                                 "inputs", "reference": path.name}}
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
