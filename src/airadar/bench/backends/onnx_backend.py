"""ONNX Runtime: any .onnx graph (encoders, vision), its quantized and pruned variants
(made in ``onnx_variants``) and their quality against a reference, measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from airadar.bench.backends.base import model_cache_dir, register
from airadar.errors import BackendError, SpecError


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
        self.path = path
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
        try:
            return self.sess.run(None, {k: v for k, v in feed.items() if k in names}
                                 )[self.quality_output()]
        except Exception as exc:  # noqa: BLE001 - ORT raises its own exception types
            msg = str(exc).splitlines()[0][:200]
            raise BackendError(f"ONNX Runtime cannot run {self.path.name}: {msg}") from None


ONNX_VARIANTS = ("fp32", "int8-dynamic", "int8-static", "prune-magnitude", "prune-2:4")


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


def compare(ref: OnnxRunner, var: OnnxRunner, tok: Any, label: str,
            reference: str | None = None) -> dict[str, Any]:
    """The quality of ``var`` against ``ref``: on 32 corpus sentences as mean-pooled sentence
    embeddings when a tokenizer is known, else on 32 seeded random inputs made for ``var``.

    A failure is blamed on its cause: the variant failing to run is a ``BackendError`` about
    the variant; ``ref`` failing on the same inputs, or giving another output shape, is the
    ``--reference`` flag's fault only when the user gave one (``reference``)."""
    from airadar.bench.quality import cosine

    if tok is not None:
        from airadar.bench.bert import sentences, text_feed

        feed = text_feed(tok, sentences(32), ["input_ids", "attention_mask", "token_type_ids"])
        method = ("mean cosine similarity of mean-pooled sentence embeddings on 32 sentences "
                  "of the shipped corpus")
    else:
        feed = var.feed(32, seed=0)
        method = "mean cosine similarity of the model's output on 32 seeded random inputs"
    b = np.asarray(var.run_quality(feed))
    try:
        a = np.asarray(ref.run_quality(feed))
    except BackendError as exc:
        if reference:
            raise SpecError("--reference", reference, f"a model that reads the same inputs "
                            f"as the one measured ({exc})") from None
        raise
    if a.shape != b.shape:
        if reference:
            raise SpecError("--reference", reference, f"a model whose output has the shape "
                            f"{list(b.shape)} of the one measured (it gives {list(a.shape)})")
        raise BackendError(f"the variant's output has the shape {list(b.shape)}, the model as "
                           f"given {list(a.shape)}: its quality cannot be compared")
    if tok is not None and a.ndim == 3:
        from airadar.bench.bert import mean_pool

        a, b = mean_pool(a, feed["attention_mask"]), mean_pool(b, feed["attention_mask"])
    return {"cosine": cosine(a, b), "reference": label, "method": method}


@register("onnxruntime")
class OnnxBackend:
    name = "onnxruntime"

    def prepare(self, model: str, *, threads: int | None, settings: dict[str, Any]) -> OnnxRunner:
        import tempfile

        from airadar.bench import packaged
        from airadar.bench.backends.onnx_variants import (
            prune_onnx,
            quantize_dynamic_int8,
            quantize_static_int8,
        )

        path = packaged.resolve(model, model_cache_dir())
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
            ref = OnnxRunner(packaged.resolve(reference, model_cache_dir()), threads, prov)
            ref_label = reference
        else:
            ref, ref_label = given, f"{path.name} (as given)"
        if reference and reference not in packaged.BERT_UNCASED:
            tok = None  # the reference may not read BERT token ids
        if settings.get("measure_quality", True):
            q = compare(ref, var, tok, ref_label, reference)
        else:
            q = {"method": "not measured (--no-quality)"}
        var.description = {**var.description, "variant": variant, "model": str(path),
                           "quality": q}
        return var

