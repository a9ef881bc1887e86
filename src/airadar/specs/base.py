"""Shared base for the frozen, validated domain values and the conversion of pydantic
validation errors into one readable :class:`~airadar.errors.SpecError`."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from airadar.errors import SpecError

T = TypeVar("T", bound=BaseModel)
#: fields that name a row rather than describe it; never blamed for a whole-object error
_IDENTITY = frozenset({"id", "name", "source", "family", "kind"})


class Frozen(BaseModel):
    """A frozen, keyword-only value that rejects unknown fields and non-finite numbers."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True,
                              allow_inf_nan=False)


class Sourced(Frozen):
    """Where a group of figures came from."""

    source: str
    as_of: str
    note: str = ""

    def model_post_init(self, __context: Any) -> None:
        if not self.source.strip():
            raise SpecError("source", self.source, "a non-empty citation")
        if not self.as_of.strip():
            raise SpecError("as_of", self.as_of, "a date (YYYY or YYYY-MM or YYYY-MM-DD)")


def first_error(exc: ValidationError, prefix: str = "") -> SpecError:
    """Turn a pydantic error into one SpecError naming the field, value and what is allowed."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    msg = err.get("msg", "invalid")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    value = err.get("input")
    if not loc and isinstance(value, dict):
        # a whole-object check: name the first field its message mentions, not the object
        hits = ((re.search(rf"\b{re.escape(k)}\b", msg), k) for k in value
                if isinstance(k, str) and k not in _IDENTITY)
        named = sorted((m.start(), k) for m, k in hits if m)
        loc, value = (named[0][1], value[named[0][1]]) if named else ("", None)
    field = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "value")
    return SpecError(field, value, msg)


def build(cls: type[T], data: Any, where: str = "") -> T:
    """Validate ``data`` into ``cls``; raise one :class:`SpecError` on the first problem."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise first_error(exc, where) from None
