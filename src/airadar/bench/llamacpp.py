"""llama.cpp through llama-cpp-python: GGUF models and llama.cpp's own quantization types.

Variants are made with llama.cpp's quantizer from the given file (``allow_requantize``: a
packaged Q4_1 file requantized to Q8_0 cannot regain precision the file no longer has, so
the quality reference is the given file, stated in the result). Models are loaded with
``use_extra_bufts=False`` where the binding has it: on some CPUs the AMX repacking path
crashes with quantized weights."""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from airadar.bench import quality
from airadar.errors import BackendError, SpecError

# llama.cpp ftype numbers (include/llama.h, enum llama_ftype)
QUANT_TYPES = {"q8_0": 7, "q4_k_m": 15, "q2_k": 10, "q4_0": 2, "q5_k_m": 17, "q6_k": 18}
LLAMACPP_VARIANTS = ("file", *QUANT_TYPES)
INSTALL = "pip install 'airadar[llama]' (builds llama-cpp-python from source, ~10 minutes)"


def library() -> Any:
    try:
        import llama_cpp
    except ImportError:
        raise BackendError(f"the llamacpp backend needs llama-cpp-python: {INSTALL}") from None
    return llama_cpp


@contextlib.contextmanager
def _quiet() -> Any:
    """llama.cpp writes its load log to fd 2; keep the terminal to one line per error."""
    try:
        fd = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "wb") as null, contextlib.redirect_stderr(io.StringIO()):
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(fd, 2)
            os.close(fd)


def load(path: Path, *, n_ctx: int, threads: int | None, logits_all: bool = False,
         vocab_only: bool = False) -> Any:
    lib = library()
    if not path.is_file():
        raise SpecError("--model", str(path), "an existing .gguf file or a packaged model name")
    kw: dict[str, Any] = {"model_path": str(path), "n_ctx": n_ctx, "n_batch": min(n_ctx, 512),
                          "logits_all": logits_all, "verbose": False, "vocab_only": vocab_only}
    if threads:
        kw["n_threads"] = kw["n_threads_batch"] = threads
    try:
        with no_extra_bufts(lib), _quiet():
            return lib.Llama(**kw)
    except (ValueError, RuntimeError, OSError) as exc:
        raise BackendError(f"llama.cpp cannot load {path}: {str(exc).splitlines()[0][:160]}"
                           ) from None


@contextlib.contextmanager
def no_extra_bufts(lib: Any) -> Iterator[None]:
    """Models loaded inside get ``use_extra_bufts=False`` (where the binding has the field):
    the AMX repacking path crashes with quantized weights on some CPUs. Llama() reads its
    defaults from the ctypes layer at call time, so the default is swapped there."""
    low = lib.llama_cpp
    orig = low.llama_model_default_params

    def patched() -> Any:
        p = orig()
        if hasattr(p, "use_extra_bufts"):
            p.use_extra_bufts = False
        return p

    low.llama_model_default_params = patched
    try:
        yield
    finally:
        low.llama_model_default_params = orig


def quantize(src: Path, qtype: str, out_dir: Path, threads: int | None = None) -> Path:
    """``src`` requantized to ``qtype`` by llama.cpp (cached in ``out_dir``)."""
    lib = library()
    if qtype not in QUANT_TYPES:
        raise SpecError("--variant", qtype, ", ".join(LLAMACPP_VARIANTS))
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{src.stem}.{qtype}.gguf"
    if out.is_file() and out.stat().st_mtime >= src.stat().st_mtime:
        return out
    params = lib.llama_model_quantize_default_params()
    params.ftype = QUANT_TYPES[qtype]
    params.allow_requantize = True
    params.nthread = threads or 0
    tmp = out.with_suffix(".part")
    with _quiet():
        rc = lib.llama_model_quantize(str(src).encode(), str(tmp).encode(), ctypes.byref(params))
    if rc != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise BackendError(f"llama.cpp could not quantize {src.name} to {qtype} (code {rc})")
    tmp.replace(out)
    return out


# general.file_type -> the weight format the perf model reads (llama.cpp computes on the CPU
# with the weights in this format and activations quantized to 8 bits or kept in fp32)
FILE_TYPE_PRECISION = {0: "fp32", 1: "fp16", 2: "int4", 3: "int4", 7: "int8", 8: "int4",
                       9: "int4", 10: "int4", 12: "int4", 14: "int4", 15: "int4", 16: "int8",
                       17: "int8", 18: "int8", 32: "bf16"}


def weight_precision(path: Path) -> str | None:
    """The weight format of a GGUF file from its ``general.file_type`` (None if unknown).
    Q5/Q6 files count as int8 and Q2/Q3 as int4: the perf model has no narrower widths."""
    try:
        import gguf
        r = gguf.GGUFReader(str(path))
        f = r.fields.get("general.file_type")
        return FILE_TYPE_PRECISION.get(int(f.contents())) if f is not None else None
    except Exception:  # noqa: BLE001 - the gguf package is optional here
        return None


def tokenize_corpus(path: Path) -> tuple[list[int], int | None] | None:
    """The shipped corpus in the GGUF's own tokenizer, and the BOS id when the tokenizer
    starts sequences with it (None if llama-cpp-python is absent)."""
    try:
        library()
    except BackendError:
        return None
    llm = load(path, n_ctx=512, threads=None, vocab_only=True)
    toks = list(llm.tokenize(quality.corpus().encode("utf-8"), add_bos=False))
    add_bos = str(llm.metadata.get("tokenizer.ggml.add_bos_token", "false")).lower() == "true"
    return toks, (int(llm.token_bos()) if add_bos else None)


def gguf_perplexity(path: Path, threads: int | None) -> dict[str, Any]:
    tb = tokenize_corpus(path)
    assert tb is not None
    toks, bos = tb
    llm = load(path, n_ctx=quality.PPL_WINDOW, threads=threads, logits_all=True)

    def logits(w: list[int]) -> np.ndarray:
        llm.reset()
        llm.eval(w)
        return np.array(llm.scores[: len(w)], dtype=np.float32)

    return quality.perplexity(toks, logits, bos=bos)


class LlamaCppRunner:
    kind = "llm"

    def __init__(self, path: Path, name: str, threads: int | None, n_ctx: int,
                 variant: str, source: Path) -> None:
        self.lib = library()
        self.path = path
        self.llm = load(path, n_ctx=n_ctx, threads=threads)
        self.n_vocab = int(self.llm.n_vocab())
        self.rng = np.random.default_rng(0)
        self.next = 0
        import importlib.metadata as md
        self.description = {
            "backend": "llamacpp", "model": name, "file": str(path), "variant": variant,
            "source_file": str(source), "threads": getattr(self.llm, "n_threads", threads),
            "n_ctx": n_ctx, "llama_cpp_python": md.version("llama_cpp_python"),
            "weights": "real (GGUF)"}

    def _last_logits(self) -> np.ndarray:
        ptr = self.lib.llama_get_logits_ith(self.llm._ctx.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

    def prefill(self, batch: int, input_tokens: int) -> None:
        if batch != 1:
            raise SpecError("--batch", batch, "1 for the llamacpp backend (the binding runs "
                            "one sequence)")
        ids = self.rng.integers(0, self.n_vocab, input_tokens).tolist()
        self.llm.reset()
        self.llm.eval(ids)
        self.next = int(np.argmax(self._last_logits()))

    def decode_step(self) -> None:
        self.llm.eval([self.next])
        self.next = int(np.argmax(self._last_logits()))
