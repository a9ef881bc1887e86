"""Quality measured, not assumed: perplexity on a text corpus that ships with airadar, and
cosine similarity of outputs against the full-precision model.

Perplexity protocol (the same for every backend, so variants compare): the corpus is
tokenized once by the model's own tokenizer, cut into non-overlapping windows of
``window`` tokens (the last partial window dropped); each window is evaluated from an empty
context and every token but the window's first is scored. For tokenizers that start every
sequence with BOS (Gemma), the window's first token is replaced by BOS, as llama.cpp's own
perplexity tool does. PPL = exp(mean negative
log-likelihood over the scored tokens)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any

import numpy as np
import yaml

PPL_WINDOW = 256
PPL_MAX_WINDOWS = 8


def corpus() -> str:
    return (resources.files("airadar.bench") / "data" / "corpus.txt").read_text(encoding="utf-8")


def corpus_source() -> dict[str, Any]:
    text = (resources.files("airadar.bench") / "data" / "corpus.yaml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text))


def windows(tokens: list[int], window: int = PPL_WINDOW,
            max_windows: int = PPL_MAX_WINDOWS) -> Iterator[list[int]]:
    n = min(len(tokens) // window, max_windows)
    for i in range(n):
        yield tokens[i * window:(i + 1) * window]


def window_nll(logits: np.ndarray, tokens: list[int]) -> tuple[float, int]:
    """Summed negative log-likelihood of tokens[1:] given logits[:-1] (rows = positions)."""
    lg = np.asarray(logits[: len(tokens) - 1], dtype=np.float64)
    m = lg.max(axis=1, keepdims=True)
    lse = (m[:, 0] + np.log(np.exp(lg - m).sum(axis=1)))
    tgt = np.asarray(tokens[1:])
    return float((lse - lg[np.arange(tgt.size), tgt]).sum()), int(tgt.size)


def perplexity(tokens: list[int], logits_fn: Callable[[list[int]], np.ndarray],
               window: int = PPL_WINDOW, max_windows: int = PPL_MAX_WINDOWS,
               bos: int | None = None) -> dict[str, Any]:
    """Perplexity of a model given ``logits_fn(window_tokens) -> [len, vocab]`` logits."""
    nll, n = 0.0, 0
    for w in windows(tokens, window, max_windows):
        if bos is not None:
            w = [bos, *w[1:]]
        s, k = window_nll(logits_fn(w), w)
        nll += s
        n += k
    if n == 0:
        return {"perplexity": None, "tokens_scored": 0}
    src = corpus_source()
    return {"perplexity": float(np.exp(nll / n)), "tokens_scored": n, "window": window,
            "corpus": src["id"], "corpus_source": src["source"]}


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Mean row-wise cosine similarity of two [rows, ...] arrays."""
    rows = a.shape[0]
    x = np.asarray(a, dtype=np.float64).reshape(rows, -1)
    y = np.asarray(b, dtype=np.float64).reshape(rows, -1)
    num = (x * y).sum(axis=1)
    den = np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1) + 1e-12
    return float((num / den).mean())
