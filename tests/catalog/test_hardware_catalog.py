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
#: rows added for calibration coverage and for accelerators teams buy now
NEW_ROWS = ["b300", "mi350x", "arc-pro-b50", "arc-pro-b60", "arc-pro-b60-dual",
            "rtx-pro-6000-ws", "rtx-pro-6000-maxq", "dgx-spark", "rtx-2000e-ada", "xeon-6787p",
            "core-i9-13900k", "ryzen-9-7950x"]


def test_catalog_covers_the_required_devices() -> None:
    """At least 35 rows, every device the foundation issue names, 10+ vendors/classes."""
    rows = load_hardware()
    ids = {h.id for h in rows}
    assert len(rows) >= 35
    assert not set(REQUIRED) - ids
    assert not set(NEW_ROWS) - ids
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


@pytest.mark.parametrize("hid", NEW_ROWS)
def test_new_rows_cite_every_figure_group(hid: str) -> None:
    """Each added row names a source and an as_of date for compute, memory, power and (where
    given) interconnect, and states at least one dense peak."""
    h = next(h for h in load_hardware() if h.id == hid)
    assert h.peak_flops_dense
    for group in ("compute", "memory", "power", "interconnect"):
        if group in h.sources:
            src = h.sources[group]
            assert len(src.source) > 20 and src.as_of[:2] == "20", (hid, group)


def test_rows_that_derive_dense_from_sparse_say_so_consistently() -> None:
    """Where a row's `derived` note says dense = sparse / 2, every format with both figures
    obeys it within vendor rounding (the L40S datasheet prints 362.05 dense beside 733
    sparse), FP4 exempt only where the note says NVIDIA publishes its dense figure."""
    for h in load_hardware():
        note = h.derived.get("compute", "")
        if "sparse / 2" not in note:
            continue
        for dt, sparse in h.peak_flops_sparse.items():
            if dt not in h.peak_flops_dense or (dt == "fp4" and "except FP4" in note):
                continue
            assert h.peak_flops_dense[dt] == pytest.approx(sparse / 2, rel=0.015), (h.id, dt)


def test_b300_is_the_hgx_table_split_over_eight_gpus() -> None:
    """NVIDIA HGX B300 (8 GPUs): FP4 144 PF sparse / 108 PF dense, FP8 72 PF and BF16 36 PF
    with sparsity, 2.3 TB HBM3e; per GPU one eighth."""
    h = next(h for h in load_hardware() if h.id == "b300")
    assert h.peak_flops("fp4") == pytest.approx(108e15 / 8)
    assert h.peak_flops("fp4", sparse=True) == pytest.approx(144e15 / 8)
    assert h.peak_flops("fp8", sparse=True) == pytest.approx(72e15 / 8)
    assert h.peak_flops("bf16", sparse=True) == pytest.approx(36e15 / 8)
    assert h.main_memory.capacity_bytes == pytest.approx(288e9)


def test_mi350x_matches_its_platform_totals() -> None:
    """AMD MI350X 8-GPU platform: FP16 18.5 PF, FP8 37 PF, MXFP4 74 PF (dense); per GPU
    within 1% of one eighth; 288 GB at 8 TB/s; 1000 W TBP."""
    h = next(h for h in load_hardware() if h.id == "mi350x")
    assert h.peak_flops("fp16") == pytest.approx(18.5e15 / 8, rel=0.01)
    assert h.peak_flops("fp8") == pytest.approx(37e15 / 8, rel=0.01)
    assert h.peak_flops("fp4") == pytest.approx(74e15 / 8, rel=0.01)
    assert h.main_memory.bandwidth_bytes_per_s == pytest.approx(8e12)
    assert h.tdp_w == 1000


def test_b60_dual_card_is_two_b60s() -> None:
    """The MAXSUN dual card (counted as one accelerator by MLPerf) carries exactly twice a
    B60's peak, memory and bandwidth."""
    by = {h.id: h for h in load_hardware()}
    one, two = by["arc-pro-b60"], by["arc-pro-b60-dual"]
    for dt in ("int8", "fp16", "fp32"):
        assert two.peak_flops(dt) == pytest.approx(2 * one.peak_flops(dt), rel=0.001)  # type: ignore[operator]
    assert two.main_memory.capacity_bytes == pytest.approx(2 * one.main_memory.capacity_bytes)
    assert two.main_memory.bandwidth_bytes_per_s == pytest.approx(
        2 * one.main_memory.bandwidth_bytes_per_s)


def test_dgx_spark_matches_its_product_page() -> None:
    """NVIDIA DGX Spark: 1 PFLOP FP4 with sparsity, 128 GB unified LPDDR5x at 273 GB/s."""
    h = next(h for h in load_hardware() if h.id == "dgx-spark")
    assert h.peak_flops("fp4", sparse=True) == pytest.approx(1e15)
    assert h.main_memory.capacity_bytes == pytest.approx(128e9)
    assert h.main_memory.bandwidth_bytes_per_s == pytest.approx(273e9)
