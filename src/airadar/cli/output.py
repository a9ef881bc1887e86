"""Shared output helpers for the commands: JSON printing, number formatting, and the one-line
error contract."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from rich.console import Console

from airadar.units import s_to_ms

console = Console(highlight=False, soft_wrap=True)
if not console.is_terminal:  # piped or captured: do not squeeze tables into 80 columns
    console = Console(highlight=False, soft_wrap=True, width=170)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _clean(o: Any) -> Any:
    if isinstance(o, float):
        return None if (math.isnan(o) or math.isinf(o)) else o
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_clean(v) for v in o]
    return o


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(_clean(obj), indent=2, sort_keys=False) + "\n")


def fmt(x: float | None, unit: str = "", digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return "-"
    ax = abs(x)
    if ax >= 1e6:
        s = f"{x / 1e6:.{max(digits - 1, 1)}f}M"
    elif ax >= 1e4:
        s = f"{x / 1e3:.{max(digits - 2, 0)}f}k"
    elif ax >= 100:
        s = f"{x:.0f}"
    elif ax >= 1:
        s = f"{x:.{digits - 1}f}"
    else:
        s = f"{x:.{digits}g}"
    return f"{s} {unit}".strip()


def ms(x_s: float | None) -> str:
    return "-" if x_s is None else fmt(s_to_ms(x_s), "ms")


def positive_numbers(text: str, option: str, *, integer: bool) -> list[Any]:
    """A comma-separated list of numbers > 0 (``--batch 1,8,64``, ``--rate 5,10``); a bad
    one is a SpecError naming the option."""
    from airadar.errors import SpecError

    cast = int if integer else float
    try:
        vals = [cast(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise SpecError(option, text, "comma-separated integers" if integer
                        else "a number or comma-separated numbers") from None
    if not vals or min(vals) <= 0:
        raise SpecError(option, text, "integers >= 1" if integer else "numbers > 0")
    return vals
