"""Operating points from the simulator (sim/operating.py): the engine behind Server and
Interactive capacity and latency at a rate."""

from __future__ import annotations

from airadar.catalog import resolve
from airadar.perf import serving
from airadar.perf.profiles import EfficiencyProfile
from airadar.perf.roofline import Deployment
from airadar.sim import operating
from airadar.sim.simulator import SimConfig, simulate
from airadar.specs.precision import Precision, Sparsity

PROF = EfficiencyProfile(key="test", ce_prefill=0.5, gemm_m_half=32.0, me=0.8, overlap_p=3.0,
                         ovh_layer_s=2e-5, batch_cap=256)
DEP = Deployment(model=resolve.model("llama-3.1-8b"), hw=resolve.hardware("h100-sxm"),
                 precision=Precision.parse("fp8"), sparsity=Sparsity())
INP, OUT = 512.0, 128.0


def _rm():  # type: ignore[no-untyped-def]
    return operating.replica(DEP, PROF, input_tokens=INP, output_tokens=OUT)


def _offline_rps() -> float:
    return serving.offline(DEP, PROF, input_tokens=INP, output_tokens=OUT).rate_rps


def test_tighter_limits_never_raise_capacity() -> None:
    """Interactive limits (tighter TTFT/TPOT) sustain at most the Server rate."""
    rm, hi = _rm(), _offline_rps()
    server = operating.server_capacity(rm, input_tokens=INP, output_tokens=OUT, ttft_p99_s=2.0,
                                       tpot_p99_s=0.1, hi_rps=hi)
    inter = operating.server_capacity(rm, input_tokens=INP, output_tokens=OUT, ttft_p99_s=0.5,
                                      tpot_p99_s=0.02, hi_rps=hi)
    assert server is not None and inter is not None
    assert inter.rate_rps <= server.rate_rps <= hi
    assert inter.tpot_p99_s <= 0.02 and inter.ttft_p99_s <= 0.5


def test_capacity_is_deterministic() -> None:
    """A fixed seed gives the same capacity twice."""
    rm, hi = _rm(), _offline_rps()
    a = operating.server_capacity(rm, input_tokens=INP, output_tokens=OUT, ttft_p99_s=1.0,
                                  tpot_p99_s=0.05, hi_rps=hi)
    b = operating.server_capacity(rm, input_tokens=INP, output_tokens=OUT, ttft_p99_s=1.0,
                                  tpot_p99_s=0.05, hi_rps=hi)
    assert a == b


def test_impossible_limits_give_none() -> None:
    """A TPOT limit below one batch-1 step cannot be met at any rate."""
    one = serving.steady_step(DEP, PROF, batch=1, input_tokens=INP, output_tokens=OUT).time_s
    assert operating.server_capacity(_rm(), input_tokens=INP, output_tokens=OUT, ttft_p99_s=None,
                                     tpot_p99_s=one / 10, hi_rps=_offline_rps()) is None


def test_queueing_grows_ttft_toward_capacity() -> None:
    """p99 TTFT at 90% of offline capacity exceeds p99 TTFT at 20% (queueing), and p99 is
    never below the mean."""
    rm, hi = _rm(), _offline_rps()
    low = operating.at_rate(rm, rate_rps=0.2 * hi, input_tokens=INP, output_tokens=OUT)
    high = operating.at_rate(rm, rate_rps=0.9 * hi, input_tokens=INP, output_tokens=OUT)
    assert high.ttft_p99_s > low.ttft_p99_s
    assert high.ttft_p99_s >= high.ttft_mean_s and high.tpot_p99_s >= high.tpot_mean_s


def test_loaded_replica_is_measured_at_its_steady_state() -> None:
    """A replica that settles at hundreds of sequences takes about one residence time of
    arrivals to fill: a fixed 1,500-request run at 90% of capacity measures mostly that ramp
    (the bug behind latency rows predicted at a third of MLPerf's measured TPOT). The
    adaptive run must agree with a run four times longer that discards its first half."""
    dep = Deployment(model=resolve.model("llama-2-70b"), hw=resolve.hardware("b200"),
                     precision=Precision.parse("fp8"), sparsity=Sparsity())
    prof = PROF.with_values(batch_cap=2048)
    inp, out = 350.0, 275.0
    full = serving.batch_limit(dep, prof, input_tokens=inp, output_tokens=out)
    rm = operating.replica(dep, prof, input_tokens=inp, output_tokens=out, max_batch=full)
    rate = 0.9 * serving.offline(dep, prof, input_tokens=inp, output_tokens=out).rate_rps
    adaptive = operating.at_rate(rm, rate_rps=rate, input_tokens=inp, output_tokens=out)
    fixed = operating.at_rate(rm, rate_rps=rate, input_tokens=inp, output_tokens=out, n=1500)
    res, _, _ = operating.steady_run(rm, rate_rps=rate, input_tokens=inp, output_tokens=out)
    n = 40_000  # the reference: a long run, its first half discarded
    long = simulate(operating.poisson_requests(rate, inp, out, fixed=False, n=n, seed=1),
                              SimConfig(replica=rm, seed=1), keep_latencies=True)
    ref = float(long["latencies"]["tpot_s"][n // 2:].mean())
    assert abs(adaptive.tpot_mean_s / ref - 1) < 0.15
    assert fixed.tpot_mean_s < 0.75 * ref  # what the fixed-length run got wrong
    assert res["requests"] > 1500


def test_overloaded_replica_is_flagged_not_lengthened() -> None:
    """Above capacity the queue grows without bound: the point says so, and the run is not
    lengthened (a longer run would only report a longer queue)."""
    rm, hi = _rm(), _offline_rps()
    res, _, pt = operating.steady_run(rm, rate_rps=2.0 * hi, input_tokens=INP, output_tokens=OUT)
    assert pt.saturated
    assert res["requests"] == operating.REQUESTS
    below = operating.at_rate(rm, rate_rps=0.3 * hi, input_tokens=INP, output_tokens=OUT)
    assert not below.saturated
