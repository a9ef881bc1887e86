"""The measurement-backend seam: the ``Backend`` and ``Runner`` protocols and their registry.

A backend ``prepare``s a model into a runner. Non-LLM runners have ``run(batch)``; LLM runners
have ``prefill(batch, input_tokens)`` (returns when the first token exists) and
``decode_step()``. Heavy libraries are imported inside the backend, only when it is used;
a missing one is one line naming the ``pip install`` that fixes it.

This module imports no backend: each backend module imports ``register`` from here, and
``airadar.bench.backends`` imports them all, so the registry is filled in one place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

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


def model_cache_dir() -> Path:
    """Where backends keep downloaded models and the variants they make of them."""
    from airadar.catalog.loader import user_dir

    return user_dir() / "models"
