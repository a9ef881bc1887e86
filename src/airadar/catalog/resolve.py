"""Name resolution: catalog ids, aliases and normalised spellings ("NVIDIA H100-SXM-80GB",
"AMD Instinct MI300X 192GB HBM3", "INTEL(R) XEON(R) PLATINUM 8592+ (CPU only)") all find
their rows. Words that say how a device is deployed ("Virtualized NVIDIA H200-SXM-141GB",
"(CPU only)") or which board partner built the card ("[MAXSUN] ...") are dropped before
matching: they do not change the device. Unknown names raise with the nearest known names."""

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
#: how the device is deployed, not which device it is (MLPerf marks VMware-hosted systems so)
_DEPLOYMENT_WORDS = r"\b(virtuali[sz]ed)\b|\(cpu only\)"
#: a leading board-partner tag in brackets, as in "[MAXSUN] MS-Intel Arc Pro B60 Dual"
_BOARD_TAG = r"^\s*\[[^\]]*\]"


def normalise(name: str) -> str:
    n = name.lower()
    n = n.replace("(r)", "").replace("(tm)", "")
    n = re.sub(_BOARD_TAG, "", n)
    n = re.sub(_DEPLOYMENT_WORDS, "", n)
    n = re.sub(_VENDOR_WORDS, "", n)
    n = re.sub(r"[^a-z0-9.+]", "", n)
    return n


def _index(rows: Iterable[T]) -> dict[str, T]:
    idx: dict[str, T] = {}
    for r in rows:
        for key in (r.id, r.name, *r.aliases):
            # a name that is only a vendor or a qualifier ("Groq") normalises to nothing:
            # it is matched exactly instead, never as the empty key
            idx.setdefault(normalise(key) or f"={key.strip().lower()}", r)
    return idx


def _resolve(kind: str, name: str, rows: tuple[T, ...]) -> T:
    idx = _index(rows)
    key = normalise(name) or f"={name.strip().lower()}"
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
