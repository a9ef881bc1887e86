"""Unit conversions live in ``airadar.units``: its helpers, and no stray conversion factor
elsewhere in ``src/``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from airadar import units

SRC = Path(__file__).resolve().parents[1] / "src" / "airadar"
FACTORS = {1000, 3600, 8760, 730}  # ms/s, W/kW, g/kg, kg/t; s/h; h/year; h/month
# number formatting, not a unit: 12,300 shown as "12.3k"
ALLOWED = {("cli/output.py", 1000)}


def _stray_factors(tree: ast.AST) -> list[tuple[int, float]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div, ast.FloorDiv)):
            for side in (node.left, node.right):
                if (isinstance(side, ast.Constant) and isinstance(side.value, (int, float))
                        and not isinstance(side.value, bool) and side.value in FACTORS):
                    out.append((node.lineno, side.value))
    return out


def test_the_factor_finder_sees_a_stray_conversion() -> None:
    """The scan below is not vacuous: ``x * 1e3`` and ``t // 3600`` are found."""
    assert _stray_factors(ast.parse("a = x * 1e3\nb = t // 3600\nc = y * 2")) == [(1, 1e3), (2, 3600)]


def test_no_conversion_factor_outside_units() -> None:
    """ms<->s, W->kW, g->kg, kg->t and hour constants come from ``airadar.units``."""
    bad = []
    for f in SRC.rglob("*.py"):
        rel = f.relative_to(SRC).as_posix()
        if rel == "units.py":
            continue
        for line, value in _stray_factors(ast.parse(f.read_text())):
            if (rel, value) not in ALLOWED:
                bad.append(f"{rel}:{line}: {value:g}")
    assert not bad, bad


def test_conversions_round_trip_and_match_their_constants() -> None:
    """Each helper is the one factor it names."""
    assert units.s_to_ms(units.ms_to_s(80.0)) == 80.0 and units.ms_to_s(250.0) == 0.25
    assert units.w_to_kw(700.0) == 0.7 and units.g_to_kg(400.0) == 0.4
    assert units.kg_to_tonnes(2500.0) == 2.5 and units.mj_to_j(1500.0) == 1.5
    assert units.per_mwh_to_per_kwh(120.0) == pytest.approx(0.12)
    assert units.HOURS_PER_YEAR == 12 * units.HOURS_PER_MONTH == 365 * 24
    assert units.J_PER_KWH == units.J_PER_WH * units.W_PER_KW
