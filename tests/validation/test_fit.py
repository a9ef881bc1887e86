"""The profile tree: fitting general to specific, fallback, measured tails, forward split."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from airadar.perf.profiles import SPEC_ONLY, EfficiencyProfile, resolve_chain
from airadar.validation.fit import fit_group, forward_split, measured_tails, profiles_to_yaml
from airadar.validation.rows import map_rows, read_rows
from airadar.validation.score import predict
from tests.conftest import CALIBRATION


def _rows(pred) -> list:  # type: ignore[no-untyped-def]
    with CALIBRATION.open() as fh:
        return [r for r in csv.DictReader(fh) if pred(r)]


def test_child_inherits_what_it_did_not_fit() -> None:
    """A profile that fitted only server_util takes every other factor from its parent,
    and says so field by field."""
    parent = EfficiencyProfile(key="gpu/*", ce_prefill=0.4, me=0.7, ttft_tail=2.5,
                               fitted=("ce_prefill", "me", "ttft_tail"))
    child = EfficiencyProfile(key="gpu/vllm", server_util=0.8, fitted=("server_util",))
    p = resolve_chain(["*/*", "gpu/*", "gpu/vllm"], {"gpu/*": parent, "gpu/vllm": child})
    assert (p.key, p.ce_prefill, p.me, p.ttft_tail, p.server_util) == ("gpu/vllm", 0.4, 0.7, 2.5, 0.8)
    assert p.fitted == ("server_util",)
    assert p.inherited["ttft_tail"] == "gpu/*" and p.inherited["overlap_p"] == "spec"
    assert p.kind == "calibrated"


def test_a_class_wide_profile_is_labelled_inherited() -> None:
    """A device whose class and stack have no rows borrows the global profile: its figures
    say "inherited", not "calibrated" (a GPU-fitted profile on a wafer-scale engine)."""
    root = EfficiencyProfile(key="*/*", ce_prefill=0.4, fitted=("ce_prefill",))
    p = resolve_chain(["*/*", "wafer/*", "wafer/default"], {"*/*": root})
    assert p.key == "*/*" and p.kind == "inherited"


def test_a_chain_with_no_profile_is_spec_only() -> None:
    """No fitted profile anywhere: the datasheet defaults, labelled spec."""
    p = resolve_chain(["*/*", "npu/*"], {})
    assert p.ce_prefill == SPEC_ONLY.ce_prefill and p.kind == "spec"


def test_unfittable_group_is_not_written() -> None:
    """Rows that inform no factor (TTFT p99 rows alone: no mean to take a tail against, no
    throughput, no step) give no profile, so the group falls back to its parent instead of
    shipping the fitter's starting values."""
    queries, _, _ = map_rows(_rows(lambda r: r["metric"].startswith("TTFT p99")))
    assert len(queries) >= 6
    assert fit_group(queries[:40], key="x/y", parent=SPEC_ONLY, level=1) is None


def test_non_llm_latency_rows_fit_a_per_layer_overhead() -> None:
    """MLPerf v4.1 Lenovo L40S and L4 (TensorRT, INT8) SingleStream and MultiStream rows
    (calibration.csv V00403-V00414: ResNet-50 p90 latency 0.332 / 0.387 ms at batch 1, where
    the roofline alone gives 0.03-0.09 ms) fit ``ovh_other_layer_s``; with it the v5.1
    RTX 4090 ResNet-50 SingleStream row (V01079, 0.305 ms; fitted on none of it) comes within
    40%, where the roofline alone predicts under 15% of it."""
    ids = {"V00403", "V00407", "V00409", "V00411", "V00412", "V00414"}
    queries, _, _ = map_rows(_rows(lambda r: r["id"] in ids | {"V01079"}))
    train = [q for q in queries if q.id in ids]
    test = next(q for q in queries if q.id == "V01079")
    parent = EfficiencyProfile(key="gpu/*", ce_other=0.3, me=0.7, fitted=("ce_other", "me"))
    p = fit_group(train, key="gpu/tensorrt", parent=parent, level=1)
    assert p is not None and "ovh_other_layer_s" in p.fitted
    assert 1e-6 < p.ovh_other_layer_s < 5e-5  # microseconds per layer, not a whole query
    before = predict(test, parent, engine="closed")
    after = predict(test, p, engine="closed")
    assert before < 0.15 * test.measured
    assert abs(after / test.measured - 1) < 0.4


def test_tails_are_measured_p99_over_measured_mean() -> None:
    """MLPerf v4.1 AMD MI300X llama2-70b Server run (calibration.csv V00003/V00004: TTFT p99
    785.266 ms, mean 401.874 ms; V00005/V00006 TPOT): the tail is their ratio, not a ratio
    to a prediction."""
    queries, _, _ = map_rows(_rows(lambda r: r["id"] in {f"V0000{i}" for i in range(3, 7)}))
    runs = [replace(q, source=f"{q.source} #{i}") for i in range(3) for q in queries]
    tails = measured_tails(runs)  # >= 3 runs are needed; the same run stands for three
    assert tails["ttft_tail"] == pytest.approx(785.266 / 401.874, rel=1e-6)
    assert tails["tpot_tail"] > 1.0


def test_profiles_file_holds_only_fitted_fields(tmp_path: Path) -> None:
    """A written profile lists what it fitted; nothing else (the rest resolves from parents)."""
    p = EfficiencyProfile(key="gpu/vllm", server_util=0.8, fitted=("server_util",))
    out = profiles_to_yaml({"gpu/vllm": p}, {})["profiles"]["gpu/vllm"]
    assert out["fitted"] == ["server_util"] and "ce_prefill" not in out and "ttft_tail" not in out


def test_forward_split_keeps_newer_rows_out_of_training() -> None:
    """Forward test: nothing published in MLPerf v5.1 is fitted on."""
    queries, _, _ = map_rows(read_rows(CALIBRATION))
    train, test = forward_split(queries, "mlperf-v5.1")
    assert test and train
    assert all(q.published != "mlperf-v5.1" for q in train)
    assert {q.published for q in test} == {"mlperf-v5.1"}


def test_interactive_rows_map_with_their_own_limits() -> None:
    """MLPerf v5.1 Interactive llama2-70b (V00757, AMD 8x MI300X): a latency-bounded server
    with p99 TTFT <= 450 ms and TPOT <= 40 ms."""
    queries, _, why = map_rows(_rows(lambda r: r["id"] == "V00757"))
    assert queries, why
    q = queries[0]
    assert (q.mode, q.subset, q.ttft_slo_s, q.tpot_slo_s) == ("server", "Interactive", 0.45, 0.04)


def test_unknown_input_length_is_a_dataset_assumption() -> None:
    """llama3.1-405b rows leave the input blank: the dataset's one value is used and named."""
    queries, _, _ = map_rows(_rows(lambda r: "llama3.1-405b" in r["scenario"]
                                   and "Offline" in r["scenario"]))
    assert queries
    assert all(q.input_assumed and q.dataset == "llama3.1-405b" for q in queries)
    assert len({q.input_tokens for q in queries}) == 1
    assert any("mean input" in a for a in queries[0].assumptions)


def test_latency_and_throughput_intervals_are_sized_apart() -> None:
    """Each band is the conformal 80% quantile of its own kind of held-out residual: a
    profile whose throughput misses by about 10% and whose TTFT/TPOT miss by about 2x gets a
    narrow throughput band and a wide latency band, not one band sized by the mixture."""
    import math

    from airadar.validation.fit import with_sigma

    p = EfficiencyProfile(key="gpu/x", fitted=("ce_prefill",))
    thr = [0.1 * (-1) ** i for i in range(20)]
    lat = [math.log(2.0) * (-1) ** i for i in range(20)]
    out = with_sigma({"gpu/x": p}, {"gpu/x": thr}, {"gpu/x": lat})["gpu/x"]
    assert out.sigma_log == pytest.approx(0.1 / 1.2816)
    assert out.sigma_log_latency == pytest.approx(math.log(2.0) / 1.2816)
    # a profile with too few latency rows takes the pooled latency residuals, not 0.5
    few = with_sigma({"gpu/x": p, "gpu/y": replace(p, key="gpu/y")},
                     {"gpu/x": thr, "gpu/y": thr}, {"gpu/x": lat, "gpu/y": lat[:3]})
    assert few["gpu/y"].sigma_log_latency == pytest.approx(math.log(2.0) / 1.2816)
    # the shipped file keeps both
    assert "sigma_log_latency" in profiles_to_yaml({"gpu/x": out}, {})["profiles"]["gpu/x"]


def test_a_latency_row_is_scored_against_the_latency_band() -> None:
    from airadar.validation.score import sigma_for

    rows = _rows(lambda r: r["metric"].startswith("TTFT") or r["metric"].startswith("Offline"))
    q, _, _ = map_rows(rows[:40])
    prof = EfficiencyProfile(key="k", sigma_log=0.1, sigma_log_latency=0.7)
    kinds = {x.target: sigma_for(x, prof) for x in q}
    assert kinds.get("tok_s") == 0.1
    assert any(t.startswith("ttft") and s == 0.7 for t, s in kinds.items())
