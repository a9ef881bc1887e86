"""Name resolution: catalog ids, aliases and normalised spellings ("NVIDIA H100-SXM-80GB",
"AMD Instinct MI300X 192GB HBM3", "INTEL(R) XEON(R) PLATINUM 8592+ (CPU only)") all find
their rows. Unknown names raise with the nearest known names."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar

from airadar.catalog.loader import load_hardware, load_models
from airadar.errors import UnknownNameError
from airadar.specs.hardware import HardwareSpec
from airadar.specs.model import ModelSpec

T = TypeVar("T", bound=HardwareSpec | ModelSpec)

_VENDOR_WORDS = r"\b(nvidia|amd|intel|google|cerebras|groq|aws|apple|qualcomm|untetherai|geforce)\b"


def normalise(name: str) -> str:
    n = name.lower()
    n = n.replace("(r)", "").replace("(tm)", "")
    n = re.sub(r"\(cpu only\)", "", n)
    n = re.sub(_VENDOR_WORDS, "", n)
    n = re.sub(r"[^a-z0-9.+]", "", n)
    return n


def _index(rows: Iterable[T]) -> dict[str, T]:
    idx: dict[str, T] = {}
    for r in rows:
        for key in (r.id, r.name, *r.aliases):
            idx.setdefault(normalise(key), r)
    return idx


def _resolve(kind: str, name: str, rows: tuple[T, ...]) -> T:
    idx = _index(rows)
    key = normalise(name)
    if key in idx:
        return idx[key]
    # strip trailing qualifiers such as "-Instruct-v0.1" or "-Chat" one dash at a time
    parts = re.split(r"[-_ ]", name)
    for cut in range(len(parts) - 1, 0, -1):
        k = normalise("-".join(parts[:cut]))
        if k in idx and len(k) >= 4:
            return idx[k]
    known = [r.id for r in rows]
    raise UnknownNameError(kind, name, known)


def hardware(name: str) -> HardwareSpec:
    """Resolve a hardware id, alias or datasheet spelling."""
    return _resolve("hardware", name, load_hardware())


def model(name: str) -> ModelSpec:
    """Resolve a model id, alias or model-card spelling."""
    return _resolve("model", name, load_models())
