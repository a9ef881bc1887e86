"""The hardware catalog: coverage, sources on every figure group, validation at load."""

from __future__ import annotations

import pytest

from airadar.catalog.loader import hardware_from_row, load_hardware
from airadar.errors import CatalogError

REQUIRED = ["a100-sxm-80gb", "h100-sxm", "h100-pcie", "h100-nvl", "h200-sxm", "h200-nvl", "h20",
            "h800-sxm", "gh200-96gb", "b200", "gb200", "gb300", "l40s", "l4", "rtx-pro-6000",
            "rtx-4090", "mi300x", "mi325x", "mi355x", "gaudi2", "gaudi3", "tpu-v5e", "tpu-v6e",
            "cerebras-cs3", "groq-lpu", "inferentia2", "trainium2", "xeon-8592plus", "epyc-9654",
            "jetson-agx-orin-64gb", "jetson-orin-nano-8gb", "jetson-thor", "apple-m4-max",
            "apple-a18-pro", "raspberry-pi-5"]


def test_catalog_covers_the_required_devices() -> None:
    """At least 35 rows, every device the foundation issue names, 10+ vendors/classes."""
    rows = load_hardware()
    ids = {h.id for h in rows}
    assert len(rows) >= 35
    assert not set(REQUIRED) - ids
    assert len({h.vendor for h in rows} | {h.hw_class for h in rows}) >= 10


def test_every_row_has_sources_for_every_figure_group() -> None:
    """compute, memory and power each carry a non-empty source and as_of."""
    for h in load_hardware():
        for group in ("compute", "memory", "power"):
            src = h.sources[group]
            assert src.source.strip() and src.as_of.strip(), (h.id, group)


def test_row_without_source_fails_to_load() -> None:
    """A row whose compute group lacks a source raises CatalogError naming the row."""
    row = {"id": "x1", "name": "X", "vendor": "V", "class": "gpu",
           "compute": {"tflops_dense": {"bf16": 1}, "as_of": "2024"},
           "memory": {"tiers": [{"name": "HBM", "capacity_gb": 1, "bandwidth_gb_s": 1}],
                      "source": "s", "as_of": "2024"},
           "power": {"tdp_w": 1, "source": "s", "as_of": "2024"}}
    with pytest.raises(CatalogError, match="x1"):
        hardware_from_row(row)


def test_negative_peak_is_rejected() -> None:
    """Peak FLOP/s must be positive; the error names the row."""
    row = {"id": "neg", "name": "N", "vendor": "V", "class": "gpu",
           "compute": {"tflops_dense": {"bf16": -1}, "source": "s", "as_of": "2024"},
           "memory": {"tiers": [{"name": "HBM", "capacity_gb": 1, "bandwidth_gb_s": 1}],
                      "source": "s", "as_of": "2024"},
           "power": {"source": "s", "as_of": "2024"}}
    with pytest.raises(CatalogError, match="neg"):
        hardware_from_row(row)


def test_h100_sxm_matches_datasheet() -> None:
    """NVIDIA H100 datasheet, SXM: 989.4 dense BF16 TFLOP/s, 3.35 TB/s, 80 GB, 700 W."""
    h = next(h for h in load_hardware() if h.id == "h100-sxm")
    assert h.peak_flops("bf16") == pytest.approx(989.4e12)
    assert h.peak_flops("fp8", sparse=True) == pytest.approx(3957.8e12)
    assert h.main_memory.bandwidth_bytes_per_s == pytest.approx(3.35e12)
    assert h.main_memory.capacity_bytes == pytest.approx(80e9)
    assert h.tdp_w == 700


def test_sparse_peak_is_never_below_dense() -> None:
    """Where a 2:4 sparse figure exists it is at least the dense one."""
    for h in load_hardware():
        for dt, v in h.peak_flops_sparse.items():
            if dt in h.peak_flops_dense:
                assert v >= h.peak_flops_dense[dt], (h.id, dt)


def test_narrow_format_never_falls_back_to_a_narrower_one() -> None:
    """fp8 on a device without fp8 (A100) runs at its 16-bit peak, not its int8 peak."""
    a100 = next(h for h in load_hardware() if h.id == "a100-sxm-80gb")
    assert a100.peak_flops("fp8") == a100.peak_flops("bf16")
