"""Shared base for the frozen, validated domain values and the conversion of pydantic
validation errors into one readable :class:`~airadar.errors.SpecError`."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from airadar.errors import SpecError

T = TypeVar("T", bound=BaseModel)


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
    field = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "value")
    msg = err.get("msg", "invalid")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return SpecError(field, err.get("input"), msg)


def build(cls: type[T], data: Any, where: str = "") -> T:
    """Validate ``data`` into ``cls``; raise one :class:`SpecError` on the first problem."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise first_error(exc, where) from None
