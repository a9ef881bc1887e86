"""Sourced quality deltas of quantization and pruning methods."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from airadar.catalog.loader import DATA, _rows
from airadar.errors import CatalogError


@lru_cache(maxsize=1)
def load_quality() -> dict[str, dict[str, Any]]:
    out = {}
    for r in _rows(DATA / "quality.yaml", "quality.yaml"):
        if not r.get("source") or not r.get("as_of"):
            raise CatalogError("quality row needs source and as_of", file="quality.yaml",
                               row=str(r.get("method")))
        out[str(r["method"])] = r
    return out


def recovery(method: str) -> tuple[float, str] | None:
    """(fraction of full quality kept, source) or None when no sourced figure exists."""
    row = load_quality().get(method)
    if row is None:
        return None
    return float(row["recovery"]), f"{row['source']} ({row['as_of']})"
