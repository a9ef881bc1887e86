"""The one exception tree of airadar.

    AiradarError                 base; every error a user can cause
    ├── SpecError                a value out of range or of the wrong kind (names field, value, allowed)
    ├── CatalogError             a catalog file, row or column is wrong, or a name does not resolve
    │   └── UnknownNameError     a hardware/model/site/data-class name with no match (suggests near names)
    ├── ScenarioError            a scenario file is malformed (file, line, field)
    ├── InfeasibleError          nothing satisfies the constraints (which one ruled out the last)
    │   └── SLOInfeasibleError   latency limits unmet even at the lowest load
    └── BackendError             a measurement backend or store failed

The command line turns each into one line, ``error: <message>``, and a non-zero exit code:
2 for bad input, 3 for an infeasible request.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class AiradarError(Exception):
    """Base class: every error a user can cause."""

    exit_code = 2


class SpecError(AiradarError):
    """A value is outside what is allowed."""

    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}={value!r} is not allowed: {allowed}")


class CatalogError(AiradarError):
    """A catalog file, row or column is wrong."""

    def __init__(self, message: str, *, file: str = "", row: str = "", column: str = "") -> None:
        where = ", ".join(
            p for p in (f"file {file}" if file else "", f"row {row}" if row else "",
                        f"column {column}" if column else "") if p
        )
        super().__init__(f"{where}: {message}" if where else message)


class UnknownNameError(CatalogError):
    """A name did not resolve; the message lists the nearest known names."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known_list = sorted(set(known))
        near = difflib.get_close_matches(name.lower(), [k.lower() for k in known_list], n=3,
                                         cutoff=0.4)
        lower_to_orig = {k.lower(): k for k in known_list}
        hint = (
            "did you mean " + ", ".join(lower_to_orig[n] for n in near) + "?"
            if near
            else f"known: {', '.join(known_list[:8])}{', ...' if len(known_list) > 8 else ''}"
        )
        self.kind = kind
        self.name = name
        super().__init__(f"unknown {kind} {name!r}; {hint}")


class ScenarioError(AiradarError):
    """A scenario file is malformed."""


class InfeasibleError(AiradarError):
    """Nothing satisfies the constraints."""

    exit_code = 3


class SLOInfeasibleError(InfeasibleError):
    """The latency limits cannot be met even at the lowest load."""


class BackendError(AiradarError):
    """A measurement backend or result store failed."""
