"""The iteration roofline: physical invariants and hand-checked values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from airadar.catalog import resolve
from airadar.perf.profiles import SPEC_ONLY
from airadar.perf.roofline import Deployment, iteration_time
from airadar.specs.hardware import MemoryTier
from airadar.specs.precision import Precision, Sparsity
from tests import strategies as S

BF16 = Precision()


def _dep(model, hw, **kw):  # type: ignore[no-untyped-def]
    return Deployment(model=model, hw=hw, precision=kw.get("precision", BF16),
                      sparsity=kw.get("sparsity", Sparsity()), tp=kw.get("tp", 1))


def test_batch1_decode_is_weight_read_time() -> None:
    """Llama-3.1-8B bf16 on one H100 SXM, one token: 16.06 GB / 3.35 TB/s = 4.79 ms
    (plus the tiny KV read) at spec efficiency, plus the fixed 4.31 us of each of its 128 BF16
    GEMM kernels (4 per layer; H100 kernel table, aiconfigurator 0.12.0). H100's BF16 GEMMs
    read 1.03x as fast as its FP8 ones, but never past the datasheet's 3.35 TB/s."""
    m, h = resolve.model("llama-3.1-8b"), resolve.hardware("h100-sxm")
    st = iteration_time(dep=_dep(m, h), profile=SPEC_ONLY, decode=1, context=10, prefill_tokens=0)
    floors = 4 * m.num_layers * 4.31e-6
    assert st.time_s == pytest.approx(m.params_total * 2 / 3.35e12 + floors, rel=0.01)
    assert st.bottleneck == "memory"
    # an accelerator without a kernel table: the weight read alone
    mi = resolve.hardware("mi300x")
    st = iteration_time(dep=_dep(m, mi), profile=SPEC_ONLY, decode=1, context=10,
                        prefill_tokens=0)
    assert st.time_s == pytest.approx(m.params_total * 2 / mi.fast_memory.bandwidth_bytes_per_s,
                                      rel=0.01)


def test_long_prefill_is_compute_bound() -> None:
    """8k prompt tokens of Llama-3.1-8B: 2 x 7.5e9 x 8192 FLOPs over 989 TFLOP/s dominates."""
    m, h = resolve.model("llama-3.1-8b"), resolve.hardware("h100-sxm")
    st = iteration_time(dep=_dep(m, h), profile=SPEC_ONLY, decode=0, context=8192,
                        prefill_tokens=8192)
    assert st.bottleneck == "compute"
    assert st.compute_s >= 2 * m.params_active * 8192 / 989.4e12


def test_prefill_charges_the_output_projection_once_per_sequence() -> None:
    """Engines compute logits only for a sequence's last prompt token: 4 sequences of 1,000
    tokens of Llama-3.1-8B save 3,996 x 2 x 128,256 x 4,096 FLOPs against charging every
    token (the 8B model's output projection is 0.53B of its 8B parameters)."""
    m, h = resolve.model("llama-3.1-8b"), resolve.hardware("h100-sxm")
    every = iteration_time(dep=_dep(m, h), profile=SPEC_ONLY, decode=0, context=1000,
                           prefill_tokens=4000)
    per_seq = iteration_time(dep=_dep(m, h), profile=SPEC_ONLY, decode=0, context=1000,
                             prefill_tokens=4000, prefill_seqs=4)
    saved = 3996 * 2 * 128_256 * 4096
    assert (every.compute_s - per_seq.compute_s) * 989.4e12 * SPEC_ONLY.ce_prefill == \
        pytest.approx(saved, rel=0.01)


@settings(max_examples=40, deadline=None)
@given(model=S.small_llm, hw=S.gpu, b=S.batch, ctx=S.tokens, k=S.scale)
def test_more_bandwidth_never_slows(model, hw, b, ctx, k) -> None:  # type: ignore[no-untyped-def]
    """Scaling every memory tier's bandwidth up never increases the step time."""
    faster = hw.model_copy(update={"memory_tiers": tuple(
        MemoryTier(name=t.name, capacity_bytes=t.capacity_bytes,
                   bandwidth_bytes_per_s=t.bandwidth_bytes_per_s * k, on_chip=t.on_chip)
        for t in hw.memory_tiers)})
    a = iteration_time(dep=_dep(model, hw), profile=SPEC_ONLY, decode=b, context=ctx,
                       prefill_tokens=0).time_s
    f = iteration_time(dep=_dep(model, faster), profile=SPEC_ONLY, decode=b, context=ctx,
                       prefill_tokens=0).time_s
    assert f <= a * (1 + 1e-9)


@settings(max_examples=40, deadline=None)
@given(model=S.small_llm, hw=S.gpu, b=S.batch, ctx=S.tokens)
def test_more_tokens_never_take_less_time(model, hw, b, ctx) -> None:  # type: ignore[no-untyped-def]
    """A step with one more decode sequence is never faster."""
    t1 = iteration_time(dep=_dep(model, hw), profile=SPEC_ONLY, decode=b, context=ctx,
                        prefill_tokens=0).time_s
    t2 = iteration_time(dep=_dep(model, hw), profile=SPEC_ONLY, decode=b + 1, context=ctx,
                        prefill_tokens=0).time_s
    assert t2 >= t1


def test_fp8_weights_halve_the_decode_read() -> None:
    """FP8 weights read half the bytes of BF16 at batch 1. On an accelerator without a kernel
    table that halves the read; on H200 the kernel table (aiconfigurator 0.12.0) adds a fixed
    13.36 us per FP8 GEMM kernel against 4.85 us per BF16 one, 4 kernels per layer, and both
    formats read at the datasheet's 4.8 TB/s at spec efficiency (BF16 would read 1.04x FP8's
    rate, capped at the datasheet)."""
    m = resolve.model("llama-3.1-70b")
    fp8 = Precision.parse("fp8")
    mi = resolve.hardware("mi300x")
    t16 = iteration_time(dep=_dep(m, mi), profile=SPEC_ONLY, decode=1, context=1,
                         prefill_tokens=0).memory_s
    t8 = iteration_time(dep=_dep(m, mi, precision=fp8), profile=SPEC_ONLY, decode=1, context=1,
                        prefill_tokens=0).memory_s
    assert t8 == pytest.approx(t16 / 2, rel=0.01)
    h = resolve.hardware("h200-sxm")
    t16 = iteration_time(dep=_dep(m, h), profile=SPEC_ONLY, decode=1, context=1,
                         prefill_tokens=0).memory_s
    t8 = iteration_time(dep=_dep(m, h, precision=fp8), profile=SPEC_ONLY, decode=1, context=1,
                        prefill_tokens=0).memory_s
    kernels = 4 * m.num_layers
    read16 = m.params_total * 2 / 4.8e12
    assert t16 == pytest.approx(read16 + kernels * 4.85e-6, rel=0.01)
    assert t8 == pytest.approx(read16 / 2 + kernels * 13.36e-6, rel=0.01)


def test_two_four_sparsity_uses_the_sparse_peak() -> None:
    """2:4 sparsity doubles the compute peak on hardware that publishes a sparse figure."""
    m, h = resolve.model("llama-3.1-8b"), resolve.hardware("h100-sxm")
    dense = _dep(m, h).peak_flops()
    sparse = _dep(m, h, sparsity=Sparsity.parse("2:4")).peak_flops()
    assert sparse == pytest.approx(2 * dense, rel=1e-3)


def test_unstructured_sparsity_saves_no_time() -> None:
    """Unstructured pruning is modelled honestly: dense storage, dense compute."""
    m, h = resolve.model("llama-3.1-8b"), resolve.hardware("h100-sxm")
    a = iteration_time(dep=_dep(m, h), profile=SPEC_ONLY, decode=8, context=512,
                       prefill_tokens=512).time_s
    b = iteration_time(dep=_dep(m, h, sparsity=Sparsity.parse("unstructured-50")),
                       profile=SPEC_ONLY, decode=8, context=512, prefill_tokens=512).time_s
    assert a == b


def test_moe_decode_reads_only_touched_experts() -> None:
    """Mixtral at batch 1 reads about the active parameters, not all 46.7B."""
    m, h = resolve.model("mixtral-8x7b"), resolve.hardware("h200-sxm")
    st = iteration_time(dep=_dep(m, h), profile=SPEC_ONLY, decode=1, context=1, prefill_tokens=0)
    assert st.memory_s < 0.4 * m.params_total * 2 / 4.8e12


def test_gh200_spills_weights_to_lpddr() -> None:
    """Llama-3.1-70B bf16 (141 GB) does not fit GH200's 96 GB HBM: the spilled part is read
    over the 512 GB/s LPDDR5X tier, so a step is slower than on an H200 (all HBM)."""
    m = resolve.model("llama-3.1-70b")
    gh, h200 = resolve.hardware("gh200-96gb"), resolve.hardware("h200-sxm")
    t_gh = iteration_time(dep=_dep(m, gh), profile=SPEC_ONLY, decode=1, context=1,
                          prefill_tokens=0).time_s
    t_h = iteration_time(dep=_dep(m, h200), profile=SPEC_ONLY, decode=1, context=1,
                         prefill_tokens=0).time_s
    assert t_gh > 2 * t_h
