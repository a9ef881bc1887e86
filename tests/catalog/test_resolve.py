"""Name resolution against every spelling in the shared calibration file."""

from __future__ import annotations

import csv

import pytest

from airadar.catalog import resolve
from airadar.errors import UnknownNameError
from tests.conftest import CALIBRATION


def test_every_calibration_name_resolves() -> None:
    """Every hardware and model spelling in calibration.csv finds a catalog row."""
    with CALIBRATION.open() as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        resolve.hardware(r["hardware"])
        resolve.model(r["model"])


@pytest.mark.parametrize(("name", "expected"), [
    ("NVIDIA H100-SXM-80GB", "h100-sxm"),
    ("AMD Instinct MI300X 192GB HBM3", "mi300x"),
    ("INTEL(R) XEON(R) PLATINUM 8592+ (CPU only)", "xeon-8592plus"),
    ("NVIDIA GH200 480GB", "gh200-96gb"),
])
def test_aliases_and_normalisation(name: str, expected: str) -> None:
    """Datasheet spellings resolve to their rows."""
    assert resolve.hardware(name).id == expected


def test_unknown_name_suggests_near_names() -> None:
    """An unknown name lists the nearest known ones."""
    with pytest.raises(UnknownNameError, match="h100"):
        resolve.hardware("H10O-SXM")
