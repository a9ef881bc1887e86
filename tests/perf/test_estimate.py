"""The estimate contract and its bad-input behaviour."""

from __future__ import annotations

import pytest

from airadar.catalog import resolve
from airadar.errors import InfeasibleError, SpecError
from airadar.perf.estimate import estimate
from airadar.specs.precision import Precision


def test_json_has_the_contract_fields() -> None:
    """DESIGN.md contract: throughput, ttft/tpot p50+p99, max_batch, memory, bottleneck,
    interval, provenance."""
    e = estimate(model=resolve.model("llama-3.1-8b"), hw=resolve.hardware("h100"),
                 mode="server", ttft_p99_s=2.0, tpot_p99_s=0.2).to_json()
    for k in ("throughput_output_tokens_per_s", "ttft_s", "tpot_s", "max_batch", "memory_bytes",
              "bottleneck", "interval", "provenance"):
        assert k in e
    assert set(e["ttft_s"]) >= {"p50", "p99"} and set(e["tpot_s"]) >= {"p50", "p99"}
    assert e["interval"]["low"] <= e["throughput_output_tokens_per_s"] <= e["interval"]["high"]
    assert e["provenance"]["hardware_sources"]["compute"]


def test_server_throughput_never_exceeds_offline() -> None:
    """Latency limits can only cost throughput."""
    kw = {"model": resolve.model("llama-3.1-70b"), "hw": resolve.hardware("h200"), "count": 2,
          "precision": Precision.parse("fp8"), "input_tokens": 1000, "output_tokens": 200}
    off = estimate(mode="offline", **kw).throughput_output_tokens_per_s
    srv = estimate(mode="server", ttft_p99_s=2.0, tpot_p99_s=0.1, **kw)
    assert srv.throughput_output_tokens_per_s <= off * (1 + 1e-9)
    assert srv.tpot_p99_s <= 0.1 + 1e-9


def test_model_that_does_not_fit_says_by_how_much() -> None:
    """405B in bf16 on one L4 fails with the shortfall in GB."""
    with pytest.raises(InfeasibleError, match=r"needs [\d.]+ GB more"):
        estimate(model=resolve.model("llama-3.1-405b"), hw=resolve.hardware("l4"))


@pytest.mark.parametrize(("kw", "field"), [
    ({"count": 0}, "count"), ({"input_tokens": -5}, "input_tokens"),
    ({"output_tokens": 0}, "output_tokens"), ({"batch": 0}, "batch"), ({"beams": 0}, "beams"),
])
def test_bad_numbers_name_the_field(kw: dict, field: str) -> None:
    """Zero or negative numbers raise SpecError naming the field."""
    with pytest.raises(SpecError, match=field):
        estimate(model=resolve.model("llama-3.1-8b"), hw=resolve.hardware("h100"), **kw)


def test_impossible_precision_for_hardware() -> None:
    """fp32 on a TPU (which has no fp32 matrix peak) is refused with the formats it has."""
    with pytest.raises(SpecError, match="bf16"):
        estimate(model=resolve.model("llama-3.1-8b"), hw=resolve.hardware("tpu-v5e"),
                 precision=Precision.parse("fp32"))


def test_more_devices_never_lower_offline_throughput() -> None:
    """Doubling the devices never lowers the best offline throughput."""
    m, h = resolve.model("llama-3.1-8b"), resolve.hardware("l40s")
    one = estimate(model=m, hw=h, count=1).throughput_output_tokens_per_s
    two = estimate(model=m, hw=h, count=2).throughput_output_tokens_per_s
    assert two >= one


def test_non_llm_reports_samples_per_second() -> None:
    """ResNet-50 has no token throughput; samples/s and latency are reported."""
    e = estimate(model=resolve.model("resnet-50"), hw=resolve.hardware("l4"),
                 precision=Precision.parse("int8"))
    assert e.throughput_output_tokens_per_s is None
    assert e.throughput_samples_per_s > 0 and e.ttft_p50_s > 0


def test_wafer_scale_and_lpu_estimates_run() -> None:
    """SRAM-resident designs (Cerebras, Groq) produce an estimate; Groq needs many chips."""
    m = resolve.model("llama-3.1-8b")
    assert estimate(model=m, hw=resolve.hardware("cerebras-cs3")).throughput_output_tokens_per_s
    with pytest.raises(InfeasibleError):
        estimate(model=m, hw=resolve.hardware("groq-lpu"), count=8)
    e = estimate(model=m, hw=resolve.hardware("groq-lpu"), count=128,
                 precision=Precision.parse("int8"))
    assert e.bottleneck in ("compute", "memory", "interconnect", "overhead")


def test_labels_say_what_each_figure_is() -> None:
    """A GPU-fitted profile on a Cerebras wafer is 'inherited', not 'calibrated', and its
    interval says so; p50 is a median (<= mean for a right tail) reported beside the mean."""
    m = resolve.model("llama-3.1-8b")
    w = estimate(model=m, hw=resolve.hardware("cerebras-cs3"), input_tokens=512,
                 output_tokens=128)
    assert w.provenance["kind"] == "inherited"
    assert "not validated on cerebras-cs3" in w.to_json()["interval"]["coverage"]
    h = estimate(model=m, hw=resolve.hardware("h100-sxm"), input_tokens=512, output_tokens=128)
    assert h.provenance["kind"] == "calibrated"
    j = h.to_json()
    assert j["ttft_s"]["p50"] <= j["ttft_s"]["mean"] <= j["ttft_s"]["p99"]
    assert "log-normal" in j["percentiles"]


def test_p50_from_mean_and_p99_is_a_lognormal_median() -> None:
    """For a log-normal with sigma 0.5: mean = exp(0.125), p99 = exp(2.3263 x 0.5), p50 = 1."""
    import math

    from airadar.perf.estimate import p50_from_mean_p99
    assert p50_from_mean_p99(math.exp(0.125), math.exp(2.3263 * 0.5)) == pytest.approx(1.0,
                                                                                        rel=1e-6)
    assert p50_from_mean_p99(2.0, 2.0) == 2.0


def test_gh200_main_memory_is_hbm() -> None:
    """GH200's main memory is its HBM (4.9 TB/s), not the LPDDR5X tier behind NVLink-C2C."""
    mm = resolve.hardware("gh200-144gb").main_memory
    assert "HBM" in mm.name and mm.bandwidth_bytes_per_s == pytest.approx(4.9e12)


def test_one_rounding_of_limits() -> None:
    """A latency just over its limit shows the digits that make it over, once, everywhere."""
    from airadar.units import ms_over_limit

    assert ms_over_limit(0.0803, 0.080) == "80.3 ms > limit 80.0 ms"
    assert ms_over_limit(0.08004, 0.080) == "80.04 ms > limit 80.00 ms"
    assert ms_over_limit(0.0044, 1e-6) == "4.400 ms > limit 0.001 ms"


def test_provenance_names_the_kernel_table_behind_the_format_peak() -> None:
    """An FP4 estimate on B200 says which measured kernel table scaled its FP4 peak."""
    e = estimate(model=resolve.model("llama-3.1-8b"), hw=resolve.hardware("b200"),
                 precision=Precision.parse("fp4"))
    k = e.provenance["kernel_format_factor"]
    assert k["format"] == "fp4" and k["factor"] < 1.0
    assert "b200_sxm/gemm/trtllm" in k["source"]
    r = e.provenance["kernel_weight_read"]
    assert r["bandwidth_vs_fp8"] < 1.0 and r["floor_s_per_gemm"] > 0
    assert "b200_sxm/gemm/trtllm" in r["source"]
