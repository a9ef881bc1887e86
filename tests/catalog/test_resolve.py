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
    ("NVIDIA L4-PCIe-24GB", "l4"),
])
def test_aliases_and_normalisation(name: str, expected: str) -> None:
    """Datasheet spellings resolve to their rows."""
    assert resolve.hardware(name).id == expected


def test_unknown_name_suggests_near_names() -> None:
    """An unknown name lists the nearest known ones."""
    with pytest.raises(UnknownNameError, match="h100"):
        resolve.hardware("H10O-SXM")


@pytest.mark.parametrize(("name", "expected"), [
    ("Virtualized NVIDIA H200-SXM-141GB", "h200-sxm"),
    ("virtualised H100 SXM", "h100-sxm"),
    ("AMD EPYC 9254 24-Core Processor (CPU only)", "epyc-9254"),
])
def test_deployment_words_do_not_change_the_device(name: str, expected: str) -> None:
    """'Virtualized' (a VMware-hosted MLPerf system) and '(CPU only)' resolve to the device."""
    assert resolve.hardware(name).id == expected


def test_board_partner_tag_is_dropped() -> None:
    """A leading '[VENDOR]' tag is ignored; the rest of the name still has to match."""
    assert resolve.normalise("[MAXSUN] MS-Intel Arc Pro B60") == resolve.normalise(
        "MS-Intel Arc Pro B60")
    with pytest.raises(UnknownNameError):
        resolve.hardware("[MAXSUN] Totally Unknown Card 9000")


def test_virtualized_alone_is_not_a_device() -> None:
    """Stripping the qualifier never turns a meaningless name into a match."""
    with pytest.raises(UnknownNameError):
        resolve.hardware("Virtualized")


def test_empty_name_is_unknown() -> None:
    """An empty name used to match a vendor-only alias ('Groq' normalises to ''); now it
    raises, while the vendor-only alias itself still resolves."""
    with pytest.raises(UnknownNameError):
        resolve.hardware("")
    assert resolve.hardware("Groq").id == "groq-lpu"
