"""Mechanisms of the per-operator step model (perf.roofline), each pinned by a small case."""

from __future__ import annotations

import pytest

from airadar.catalog import resolve
from airadar.perf import serving
from airadar.perf.profiles import EfficiencyProfile
from airadar.perf.roofline import Deployment, iteration_time, smooth_max
from airadar.specs.precision import Precision, Sparsity

#: a profile with imperfect overlap and realistic efficiencies, independent of any fit
PROF = EfficiencyProfile(key="test", ce_prefill=0.6, gemm_m_half=64.0, me=0.8, overlap_p=3.0,
                         ovh_layer_s=0.0, batch_cap=2048)


def _offline(model: str, hw: str, n: int, prec: str, inp: float, out: float) -> float:
    dep = Deployment(model=resolve.model(model), hw=resolve.hardware(hw),
                     precision=Precision.parse(prec), sparsity=Sparsity(), tp=n)
    return serving.offline(dep, PROF, input_tokens=inp, output_tokens=out).throughput_tok_s


def test_smooth_max_lies_between_max_and_sum() -> None:
    """The overlap of compute and memory is imperfect: max(a, b) < smooth_max < a + b."""
    a, b = 3.0, 2.0
    assert max(a, b) < smooth_max(a, b, 3.0) < a + b
    assert smooth_max(a, b, 1.0) == pytest.approx(a + b)
    assert smooth_max(a, b, 200.0) == pytest.approx(max(a, b), rel=1e-3)


def test_h200_over_h100_offline_follows_bandwidth() -> None:
    """Llama-2-70B FP8 Offline on 8x H200 vs 8x H100: MLPerf v4.1 measured about 1.3x
    (calibration.csv V00198 32,124 vs V00184 24,087 tokens/s, both Dell XE9680, TensorRT
    10.2) with identical FP8 peaks; the H200's extra bandwidth (4.8 vs 3.35 TB/s) must show
    in the Offline point (attention's KV reads run after the GEMMs, they do not hide under
    them), and never by more than the bandwidth ratio. The model's ratio (about 1.03 with
    these lengths) is still short of the measured one: see README "Known gaps"."""
    h200 = _offline("llama-2-70b", "h200-sxm", 8, "fp8", 160, 294)
    h100 = _offline("llama-2-70b", "h100-sxm", 8, "fp8", 160, 294)
    assert 1.01 < h200 / h100 < 4.8 / 3.35


def test_fp4_never_beats_fp8_by_more_than_the_peak_ratio() -> None:
    """FP4 weights speed the linear layers at most by the datasheet FP4/FP8 peak ratio;
    attention stays in the FP8 KV format."""
    hw = resolve.hardware("b200")
    fp4 = _offline("llama-3.1-70b", "b200", 8, "fp4", 1024, 1024)
    fp8 = _offline("llama-3.1-70b", "b200", 8, "fp8", 1024, 1024)
    ratio = (hw.peak_flops("fp4") or 0) / (hw.peak_flops("fp8") or 1)
    assert fp8 < fp4 < fp8 * ratio
    dep = Deployment(model=resolve.model("llama-3.1-70b"), hw=hw, precision=Precision.parse("fp4"),
                     sparsity=Sparsity())
    assert dep.attention_peak_flops() == hw.peak_flops("fp8")


def test_int4_weights_run_attention_in_bf16() -> None:
    """Weight-only INT4 never runs attention in a 4-bit format."""
    hw = resolve.hardware("h100-sxm")
    dep = Deployment(model=resolve.model("llama-3.1-8b"), hw=hw, precision=Precision.parse("int4"),
                     sparsity=Sparsity())
    assert dep.attention_peak_flops() == hw.peak_flops("bf16")


def test_gemm_efficiency_grows_with_tokens_per_step() -> None:
    """A GEMM of 8 rows reaches a smaller share of peak than one of 4,096 (so decode steps
    are slower per FLOP than prompts)."""
    dep = Deployment(model=resolve.model("llama-3.1-8b"), hw=resolve.hardware("h100-sxm"),
                     precision=Precision.parse("fp8"), sparsity=Sparsity())
    small = iteration_time(dep=dep, profile=PROF, decode=8, context=1, prefill_tokens=0)
    big = iteration_time(dep=dep, profile=PROF, decode=4096, context=1, prefill_tokens=0)
    assert small.linear_compute_s / 8 > 5 * big.linear_compute_s / 4096


def test_moe_experts_see_few_tokens_each() -> None:
    """Mixtral's routed experts at batch 16 get about 16 x 2 / 8 = 4 tokens each: their
    GEMMs run far below the dense layers' efficiency, and ce_moe slows them further."""
    dep = Deployment(model=resolve.model("mixtral-8x7b"), hw=resolve.hardware("h100-sxm"),
                     precision=Precision.parse("fp8"), sparsity=Sparsity(), tp=2)
    base = iteration_time(dep=dep, profile=PROF, decode=512, context=500, prefill_tokens=0)
    slow = iteration_time(dep=dep, profile=PROF.with_values(ce_moe=0.5), decode=512, context=500,
                          prefill_tokens=0)
    assert slow.linear_compute_s > base.linear_compute_s
    assert slow.time_s > base.time_s


def test_attention_is_read_bound_in_decode() -> None:
    """Decode attention at long context reads the KV cache: doubling the context roughly
    doubles its time, whatever the GEMMs do."""
    dep = Deployment(model=resolve.model("llama-3.1-8b"), hw=resolve.hardware("h100-sxm"),
                     precision=Precision.parse("fp8"), sparsity=Sparsity())
    a = iteration_time(dep=dep, profile=PROF, decode=64, context=8000, prefill_tokens=0)
    b = iteration_time(dep=dep, profile=PROF, decode=64, context=16000, prefill_tokens=0)
    assert b.attention_s == pytest.approx(2 * a.attention_s, rel=0.1)
