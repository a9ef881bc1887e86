"""Numeric precision of weights, activations and KV cache, and sparsity."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from airadar.errors import SpecError
from airadar.specs.base import Frozen
from airadar.units import BYTES_PER_ELEMENT, stored_bytes_per_element

DTYPES = tuple(BYTES_PER_ELEMENT)


def _norm_dtype(name: str) -> str:
    n = name.strip().lower().replace("-", "").replace("_", "")
    n = {"float32": "fp32", "float16": "fp16", "half": "fp16", "bfloat16": "bf16",
         "float8": "fp8", "fp8e4m3": "fp8", "fp8e5m2": "fp8", "e4m3": "fp8", "nvfp4": "fp4",
         "mxfp4": "fp4", "float4": "fp4", "int4awq": "int4", "q4": "int4", "q8": "int8",
         "fp6e3m2": "fp6", "mxfp6": "fp6"}.get(n, n)
    return n


class Precision(Frozen):
    weights: str = "bf16"
    activations: str = "bf16"
    kv_cache: str = "bf16"

    @field_validator("weights", "activations", "kv_cache")
    @classmethod
    def _known(cls, v: str) -> str:
        n = _norm_dtype(v)
        if n not in BYTES_PER_ELEMENT:
            raise ValueError(f"unknown numeric format {v!r}; known: {', '.join(DTYPES)}")
        return n

    @property
    def label(self) -> str:
        if self.weights == self.activations == self.kv_cache:
            return self.weights
        return f"{self.weights}/{self.activations}/{self.kv_cache}"

    @property
    def compute_dtype(self) -> str:
        """The format the matrix units run in: the wider of weights and activations."""
        wb, ab = BYTES_PER_ELEMENT[self.weights], BYTES_PER_ELEMENT[self.activations]
        return self.activations if ab >= wb else self.weights

    @property
    def weight_bytes(self) -> float:
        """Stored bytes per weight, block scales included (units.stored_bytes_per_element)."""
        return stored_bytes_per_element(self.weights)

    @property
    def activation_bytes(self) -> float:
        return BYTES_PER_ELEMENT[self.activations]

    @property
    def kv_bytes(self) -> float:
        """Stored bytes per KV-cache element, block scales included."""
        return stored_bytes_per_element(self.kv_cache)

    @classmethod
    def parse(cls, text: str) -> Precision:
        """Parse ``fp8``, ``int4`` (weight-only), ``w4a16``, ``fp8/fp8/fp16`` (w/a/kv)."""
        t = text.strip().lower()
        if "/" in t:
            parts = t.split("/")
            if len(parts) != 3:
                raise SpecError("precision", text, "FORMAT or WEIGHTS/ACTIVATIONS/KV")
            w, a, k = parts
        elif m := re.fullmatch(r"w(\d+)a(\d+)", t):
            wb, ab = int(m.group(1)), int(m.group(2))
            w = {4: "int4", 8: "int8", 16: "bf16"}.get(wb, "")
            a = {8: "int8", 16: "bf16"}.get(ab, "")
            if not w or not a:
                raise SpecError("precision", text, "w4a16, w8a8, w8a16, w16a16")
            k = "bf16"
        else:
            n = _norm_dtype(t)
            if n in ("int4",):
                w, a, k = "int4", "bf16", "bf16"
            elif n == "fp4":
                w, a, k = "fp4", "fp4", "fp8"
            elif n == "int8":
                w, a, k = "int8", "int8", "bf16"
            else:
                w = a = k = n
        try:
            return cls(weights=w, activations=a, kv_cache=k)
        except Exception:
            raise SpecError("precision", text,
                            f"one of {', '.join(DTYPES)}, w4a16, or WEIGHTS/ACTIVATIONS/KV"
                            ) from None


class Sparsity(Frozen):
    kind: Literal["none", "2:4", "unstructured"] = "none"
    #: fraction of weights removed (0.5 for 2:4)
    fraction: float = Field(default=0.0, ge=0.0, lt=1.0)

    @property
    def label(self) -> str:
        return "dense" if self.kind == "none" else (
            "2:4" if self.kind == "2:4" else f"unstructured-{self.fraction:.0%}")

    @classmethod
    def parse(cls, text: str) -> Sparsity:
        t = text.strip().lower()
        if t in ("", "none", "dense"):
            return cls()
        if t in ("2:4", "24", "structured"):
            return cls(kind="2:4", fraction=0.5)
        if m := re.fullmatch(r"unstructured[-:]?(\d+)%?", t):
            f = int(m.group(1)) / 100
            if not 0 < f < 1:
                raise SpecError("sparsity", text, "unstructured-N with 0 < N < 100")
            return cls(kind="unstructured", fraction=f)
        raise SpecError("sparsity", text, "none, 2:4, or unstructured-N (percent removed)")
