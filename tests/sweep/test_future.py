"""Draws of a future: reproducible, standard normal, and stable when the catalog grows."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from airadar.sweep.future import _speed_z


def _keys(n: int) -> tuple[int, ...]:
    return tuple(zlib.crc32(f"hw{j}|fp8".encode()) for j in range(n))


def test_speed_draws_are_standard_normal() -> None:
    """Over many draws and keys the speed z has mean 0, sd 1 and the 80% interval +-1.28."""
    z = np.concatenate([_speed_z(1, d, _keys(40)) for d in range(500)])
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    assert np.percentile(z, 90) - np.percentile(z, 10) == pytest.approx(2.563, abs=0.06)


def test_adding_hardware_leaves_other_draws_unchanged() -> None:
    """A candidate's speed draw depends on (seed, draw, its key) only: a new hardware row in
    the catalog does not reshuffle the others; another seed or draw changes it."""
    few, more = _keys(3), _keys(30)
    assert np.array_equal(_speed_z(7, 5, few), _speed_z(7, 5, more)[:3])
    assert not np.array_equal(_speed_z(7, 5, few), _speed_z(8, 5, few))
    assert not np.array_equal(_speed_z(7, 5, few), _speed_z(7, 6, few))
