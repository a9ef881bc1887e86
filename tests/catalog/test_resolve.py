"""Name resolution against every spelling in the shared calibration file."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml

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


_NAMES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "calibration_names.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", _NAMES["hardware"])
def test_every_shared_calibration_hardware_name_resolves(name: str) -> None:
    """Each hardware spelling of the shared calibration file (v4.1 and v5.1 rows) finds a
    catalog row, unless it is listed as excluded with a reason."""
    if name in _NAMES["excluded"]:
        pytest.skip(_NAMES["excluded"][name])
    resolve.hardware(name)


@pytest.mark.parametrize("name", _NAMES["models"])
def test_every_shared_calibration_model_name_resolves(name: str) -> None:
    """Each model spelling of the shared calibration file finds a catalog row (the diffusion
    model resolves to its non-LLM row, which validation skips as not modelled)."""
    if name in _NAMES["excluded"]:
        pytest.skip(_NAMES["excluded"][name])
    resolve.model(name)


def test_name_list_covers_the_shipped_calibration_file() -> None:
    """The pinned name list is a superset of data/calibration.csv's names, so it cannot
    silently fall behind the file the project ships."""
    with CALIBRATION.open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["hardware"] for r in rows} <= set(_NAMES["hardware"])
    assert {r["model"] for r in rows} <= set(_NAMES["models"])


@pytest.mark.parametrize(("name", "expected"), [
    ("INTEL(R) XEON(R) 6787P (CPU only)", "xeon-6787p"),
    ("13th Gen Intel(R) Core(TM) i9-13900K (CPU only)", "core-i9-13900k"),
    ("AMD Ryzen 9 7950X 16-Core Processor (CPU only)", "ryzen-9-7950x"),
    ("NVIDIA RTX-2000E-Ada-16GB", "rtx-2000e-ada"),
    ("[MAXSUN] MS-Intel Arc Pro B60 Dual 48G Turbo", "arc-pro-b60-dual"),
    ("Intel Arc Pro B60", "arc-pro-b60"),
    ("NVIDIA GB300", "gb300"),
    ("B300", "b300"),
    ("NVIDIA RTX PRO 6000 Blackwell Server Edition", "rtx-pro-6000"),
    ("RTX PRO 6000 Blackwell Workstation Edition", "rtx-pro-6000-ws"),
    ("DGX Spark", "dgx-spark"),
    ("AMD Instinct MI350X", "mi350x"),
])
def test_new_rows_resolve_to_the_right_device(name: str, expected: str) -> None:
    """Calibration spellings and product names of the rows added for coverage."""
    assert resolve.hardware(name).id == expected


def test_mixed_cluster_names_resolve_to_the_first_device() -> None:
    """'MI300X (x32), MI325X (x16)' names two devices; the trailing-qualifier cut resolves
    it to the first one named. A prediction for such a row treats the cluster as that
    device (documented here so a change to it is deliberate)."""
    mixed = [n for n in _NAMES["hardware"] if ", " in n and "(x" in n]
    assert mixed
    for n in mixed:
        first = n.split(", ")[0].rsplit(" (x", 1)[0]
        assert resolve.hardware(n).id == resolve.hardware(first).id


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
