"""Fit efficiency profiles to measurements, general to specific, and score them honestly.

The profile tree (:mod:`airadar.perf.profiles`) is fitted from the root down: ``*/*`` on
every row, then each class (``gpu/*``), each (class, stack), each (class, stack, precision)
and each (class, stack, hardware) with at least ``MIN_ROWS`` rows. A group fits only the
fields its rows inform, each shrunk toward the value its parent resolves to (a Gaussian
prior in log space, ``PRIOR_SD``), and is not written at all when it informs nothing, so an
unfittable group falls back to its parent. Never a parameter per row:

1. throughput rows (Offline, fixed-length vendor tables) and the decode steps of Server and
   online runs (batch = output tokens/s x mean TPOT, see ``score.step_at_measured_batch``)
   fit the GEMM efficiency ``ce_prefill``
   and its curve ``gemm_m_half`` (root and class only), ``me``, ``ovh_layer_s``, ``ce_moe``
   (groups with MoE rows), ``ce_other`` (non-LLM rows) and, at the root, the compute/memory
   overlap exponent ``overlap_p``, by robust least squares on log(predicted / measured)
   (scipy.optimize.least_squares);
2. tails are measured, not fitted against a prediction: ``ttft_tail`` / ``tpot_tail`` are the
   median over runs of measured p99 / measured mean (MLPerf Server/Interactive runs publish
   both); ``ttft_k`` is the median ratio of measured to predicted mean TTFT at the measured
   load;
3. Server/Interactive throughput rows fit ``server_util`` (bounded 1-D search);
4. the per-query latency rows of non-LLM models (MLPerf SingleStream and MultiStream) fit
   their per-layer overhead ``ovh_other_layer_s`` (kernel launches, host copies and the
   harness: at batch 1 a ResNet-50 on a datacenter GPU is mostly that) by the median
   absolute log error, as the stages above.

Each MLPerf dataset's unknown mean input length is one more parameter per dataset, shared by
every system that ran it, searched inside its documented bounds after the root fit.

Scoring: cross-validation holds out whole hardware models (k folds grouped by hardware id);
the forward test fits on every publication before a round and predicts that round."""

from __future__ import annotations

import math
import statistics
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from scipy.optimize import least_squares, minimize_scalar

from airadar.errors import AiradarError
from airadar.perf import nonllm
from airadar.perf.profiles import FITTED, SPEC_ONLY, EfficiencyProfile, chain, resolve_chain, stack_family
from airadar.validation.rows import Query, datasets
from airadar.validation.score import predict, step_at_measured_batch

MIN_ROWS = 6
#: rows of one group used by the least-squares stage (deterministic, spread over models and
#: hardware); keeps a fit to minutes on two cores
MAX_FIT_ROWS = 90
#: log-space standard deviation of the prior that shrinks a child toward its parent
PRIOR_SD = 0.5
#: stage-1 parameters, their bounds and their root starting values (log space)
_BOUNDS = {"ce_prefill": (0.02, 1.0, 0.5), "me": (0.05, 1.0, 0.7),
           "ovh_layer_s": (1e-7, 5e-4, 2e-5), "gemm_m_half": (1.0, 4096.0, 64.0),
           "ce_moe": (0.05, 1.5, 0.6), "ce_other": (0.005, 1.0, 0.3),
           "overlap_p": (1.2, 16.0, 3.0)}


#: each measured run's layout during one fit, chosen once with the first profile values its
#: group tries (the layout search is most of a Server row's cost; scoring re-chooses it with
#: the fitted profile)
_LAYOUTS: dict[tuple[Any, ...], Any] = {}


def _safe_log_ratio(q: Query, prof: EfficiencyProfile) -> float | None:
    """log(predicted / measured) with the closed-form screen (the factors fitted here are the
    screen's and the step model's; the simulator needs none of its own)."""
    try:
        p = predict(q, prof, engine="closed", memo=_LAYOUTS)
    except (AiradarError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if not (p > 0 and math.isfinite(p)):
        return None
    return math.log(p / q.measured)


def _safe_step_log_ratio(q: Query, prof: EfficiencyProfile) -> float | None:
    try:
        p = step_at_measured_batch(q, prof, memo=_LAYOUTS)
    except (AiradarError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if not (p > 0 and math.isfinite(p)):
        return None
    return math.log(p / q.measured)


def _step_rows(rows: list[Query]) -> list[Query]:
    return [q for q in rows if q.target == "tpot_mean" and q.rate_rps and q.model.is_llm]


def _spread(rows: list[Query], n: int) -> list[Query]:
    """At most ``n`` rows, round-robin over (model, hardware) so no pair dominates."""
    if len(rows) <= n:
        return rows
    by: dict[tuple[str, str], list[Query]] = defaultdict(list)
    for q in sorted(rows, key=lambda q: zlib.crc32(q.id.encode())):
        by[(q.model.id, q.hw.id)].append(q)
    out: list[Query] = []
    lists = [by[k] for k in sorted(by)]
    i = 0
    while len(out) < n:
        added = False
        for lst in lists:
            if i < len(lst) and len(out) < n:
                out.append(lst[i])
                added = True
        if not added:
            break
        i += 1
    return out


def _throughput(rows: list[Query]) -> list[Query]:
    return [q for q in rows if q.target in ("tok_s", "samples_s") and q.mode == "offline"]


def _informed(rows: list[Query], level: int) -> list[str]:
    thr = _throughput(rows)
    llm = [q for q in thr if q.model.is_llm]
    out: list[str] = []
    if len(llm) >= 3:
        out += ["ce_prefill", "me", "ovh_layer_s"]
        if level <= 1:
            out.append("gemm_m_half")
        if level == 0:
            out.append("overlap_p")
        if sum(q.model.is_moe for q in llm) >= 3:
            out.append("ce_moe")
    if sum(not q.model.is_llm for q in thr) >= 3:
        out.append("ce_other")
        if "me" not in out:
            out.append("me")
    return out


def _stage1(rows: list[Query], parent: EfficiencyProfile, names: list[str],
            base: EfficiencyProfile) -> EfficiencyProfile:
    thr = _spread(_throughput(rows), MAX_FIT_ROWS)
    steps = _spread(_step_rows(rows), MAX_FIT_ROWS // 2) if "ce_prefill" in names else []
    if not names or not thr:
        return base
    n_res = len(thr) + len(steps)
    lo = np.log([_BOUNDS[n][0] for n in names])
    hi = np.log([_BOUNDS[n][1] for n in names])
    prior = np.log([getattr(parent, n) if parent.key != "spec" else _BOUNDS[n][2] for n in names])
    prior = np.clip(prior, lo + 1e-6, hi - 1e-6)
    w = math.sqrt(1.0 / n_res) / PRIOR_SD if parent.key != "spec" else 0.0

    def prof(x: np.ndarray) -> EfficiencyProfile:
        return base.with_values(**dict(zip(names, np.exp(x).tolist(), strict=True)))

    def resid(x: np.ndarray) -> np.ndarray:
        p = prof(x)
        r = [_safe_log_ratio(q, p) for q in thr] + [_safe_step_log_ratio(q, p) for q in steps]
        data = np.array([v if v is not None else 3.0 for v in r]) / math.sqrt(n_res)
        return np.concatenate([data, w * (x - prior)]) if w else data

    res = least_squares(resid, prior, bounds=(lo, hi), loss="soft_l1", f_scale=0.1,
                        diff_step=0.05, max_nfev=30)
    return prof(res.x)


def measured_tails(rows: list[Query]) -> dict[str, float]:
    """Median over runs of measured p99 / measured mean for TTFT and TPOT (rows of one run
    share their source path and load)."""
    runs: dict[tuple[str, float | None], dict[str, float]] = defaultdict(dict)
    for q in rows:
        if q.target in ("ttft_p99", "ttft_mean", "tpot_p99", "tpot_mean"):
            runs[(q.source, q.rate_rps)][q.target] = q.measured
    out: dict[str, float] = {}
    for name, (p99, mean) in (("ttft_tail", ("ttft_p99", "ttft_mean")),
                              ("tpot_tail", ("tpot_p99", "tpot_mean"))):
        ratios = [r[p99] / r[mean] for r in runs.values() if p99 in r and mean in r and r[mean] > 0]
        if len(ratios) >= 3:
            out[name] = float(min(max(statistics.median(ratios), 1.0), 50.0))
    return out


def _stage2(rows: list[Query], p: EfficiencyProfile) -> tuple[EfficiencyProfile, list[str]]:
    tails = measured_tails(rows)
    p = p.with_values(**tails)
    names = list(tails)
    means = _spread([q for q in rows if q.target == "ttft_mean"], MAX_FIT_ROWS)
    if len(means) >= 3:
        base = replace(p, ttft_k=1.0)
        r = [v for q in means if (v := _safe_log_ratio(q, base)) is not None]
        if r:
            p = replace(p, ttft_k=float(min(max(math.exp(-statistics.median(r)), 0.05), 50)))
            names.append("ttft_k")
    return p, names


def _stage3(rows: list[Query], p: EfficiencyProfile) -> tuple[EfficiencyProfile, list[str]]:
    srv = _spread([q for q in rows if q.target in ("tok_s", "samples_s") and q.mode == "server"],
                  40)
    if len(srv) < 3:
        return p, []

    def cost(u: float) -> float:
        pp = replace(p, server_util=u)
        r = [_safe_log_ratio(q, pp) for q in srv]
        return float(np.median([abs(v) if v is not None else 3.0 for v in r]))

    res = minimize_scalar(cost, bounds=(0.3, 1.0), method="bounded",
                          options={"xatol": 0.02, "maxiter": 12})
    return replace(p, server_util=float(res.x)), ["server_util"]


def _other_latency_rows(rows: list[Query]) -> list[Query]:
    return [q for q in rows if not q.model.is_llm and q.target == "latency"
            and q.mode in ("single-stream", "multistream")]


#: largest per-layer overhead a non-LLM fit may set (a 50-layer ResNet would take 50 ms)
MAX_OTHER_LAYER_S = 1e-3


def _stage4(rows: list[Query], p: EfficiencyProfile) -> tuple[EfficiencyProfile, list[str]]:
    """``ovh_other_layer_s``: the per-layer overhead, on a grid from 0 to MAX_OTHER_LAYER_S,
    that minimizes the median absolute log error of the rows' per-query latencies (each row's
    prediction is its roofline time plus its layers times the overhead)."""
    lat = _spread(_other_latency_rows(rows), MAX_FIT_ROWS)
    bare = replace(p, ovh_other_layer_s=0.0)
    roof, layers, meas = [], [], []
    for q in lat:
        try:
            t0 = predict(q, bare, engine="closed")
        except (AiradarError, ValueError, ZeroDivisionError, OverflowError):
            continue
        if t0 > 0 and math.isfinite(t0):
            roof.append(t0)
            layers.append(nonllm.layers_of(q.model))
            meas.append(q.measured)
    if len(roof) < 3:
        return p, []
    grid = np.concatenate([[0.0], np.geomspace(1e-8, MAX_OTHER_LAYER_S, 241)])
    pred = np.array(roof)[None, :] + grid[:, None] * np.array(layers)[None, :]
    cost = np.median(np.abs(np.log(pred / np.array(meas)[None, :])), axis=1)
    return replace(p, ovh_other_layer_s=float(grid[int(np.argmin(cost))])), ["ovh_other_layer_s"]


def fit_group(rows: list[Query], *, key: str, parent: EfficiencyProfile, level: int,
              fitted_on: str = "") -> EfficiencyProfile | None:
    """Fit one group starting from (and shrunk toward) its resolved ``parent``; None when its
    rows inform no field."""
    base = replace(parent, key=key, provenance="calibrated", fitted_on=fitted_on, fitted=(),
                   inherited={})
    names = _informed(rows, level)
    p = _stage1(rows, parent, names, base)
    p, tails = _stage2(rows, p)
    p, srv = _stage3(rows, p)
    p, other = _stage4(rows, p)
    fitted = tuple(f for f in FITTED if f in set(names) | set(tails) | set(srv) | set(other))
    if not fitted:
        return None
    return replace(p, fitted=fitted)


def _keys(q: Query) -> list[str]:
    return chain(q.hw.hw_class, stack_family(q.stack), q.hw.id, q.precision.compute_dtype)


def with_dataset_lengths(rows: list[Query], lengths: dict[str, float]) -> list[Query]:
    """The rows with each dataset's assumed mean input length set to ``lengths``."""
    return [replace(q, input_tokens=lengths[q.dataset]) if q.input_assumed and
            q.dataset in lengths else q for q in rows]


def fit_dataset_lengths(rows: list[Query], profiles: dict[str, EfficiencyProfile]
                        ) -> dict[str, float]:
    """Per dataset, the mean input length inside its documented bounds that best explains its
    Offline throughput rows under the fitted profiles (a 1-D bounded search in log space)."""
    out: dict[str, float] = {}
    for key, ds in datasets().items():
        sub = _spread([q for q in _throughput(rows) if q.dataset == key and q.input_assumed], 40)
        bounds = ds.get("input_tokens_bounds")
        if len(sub) < 3 or not bounds or ds.get("input_tokens_published"):
            continue  # too few rows, no documented bounds, or a published mean (used as is)
        profs = {q.id: resolve_chain(_keys(q), profiles) for q in sub}

        def cost(x: float, sub: list[Query] = sub, profs: dict = profs) -> float:
            qs = [replace(q, input_tokens=math.exp(x)) for q in sub]
            r = [_safe_log_ratio(q, profs[q.id]) for q in qs]
            return float(np.median([abs(v) if v is not None else 3.0 for v in r]))

        res = minimize_scalar(cost, bounds=(math.log(bounds[0]), math.log(bounds[1])),
                              method="bounded", options={"xatol": 0.05, "maxiter": 14})
        out[key] = float(round(math.exp(res.x)))
    return out


def fit_profiles(rows: list[Query], *, progress: Callable[[str], None] | None = None,
                 fit_lengths: bool = True) -> tuple[dict[str, EfficiencyProfile], dict[str, float]]:
    """Fit the profile tree (root first) and the datasets' mean input lengths; returns
    (profiles by key, dataset -> fitted mean input tokens)."""
    lengths: dict[str, float] = {}
    _LAYOUTS.clear()
    profiles = _fit_tree(rows, progress)
    if fit_lengths:
        lengths = fit_dataset_lengths(rows, profiles)
        if lengths:
            profiles = _fit_tree(with_dataset_lengths(rows, lengths), progress)
    return profiles, lengths


def _fit_tree(rows: list[Query], progress: Callable[[str], None] | None
              ) -> dict[str, EfficiencyProfile]:
    by_key: dict[str, list[Query]] = defaultdict(list)
    depth: dict[str, int] = {}
    for q in rows:
        for lvl, k in enumerate(_keys(q)):
            by_key[k].append(q)
            depth[k] = lvl
    out: dict[str, EfficiencyProfile] = {}
    for key in sorted(by_key, key=lambda k: (depth[k], k)):
        grp = by_key[key]
        if len(grp) < MIN_ROWS and key != "*/*":
            continue
        if progress:
            progress(key)
        q0 = grp[0]
        parent_keys = _keys(q0)[:depth[key]]
        parent = resolve_chain(parent_keys, out) if parent_keys else SPEC_ONLY
        hw = sorted({q.hw.id for q in grp})
        fitted = fit_group(grp, key=key, parent=parent, level=depth[key],
                           fitted_on=f"{len(grp)} rows on {len(hw)} hardware: {', '.join(hw)}")
        if fitted is not None:
            out[key] = fitted
    return out


def folds_by_hardware(rows: list[Query], k: int) -> list[set[str]]:
    """Deterministic k-way split of hardware ids (a device is never in two folds)."""
    ids = sorted({q.hw.id for q in rows}, key=lambda s: zlib.crc32(s.encode()))
    return [set(ids[i::k]) for i in range(k)]


def forward_split(rows: list[Query], test_round: str) -> tuple[list[Query], list[Query]]:
    """(rows published before ``test_round``, rows of that round)."""
    order = ["mlperf-v4.0", "trtllm-docs", "mlperf-v4.1", "mlperf-v5.0", "mlperf-v5.1"]
    rank = {r: i for i, r in enumerate(order)}
    t = rank.get(test_round, len(order))
    train = [q for q in rows if rank.get(q.published, -1) < t]
    test = [q for q in rows if q.published == test_round]
    return train, test


def with_sigma(profiles: dict[str, EfficiencyProfile], residuals: dict[str, list[float]],
               latency_residuals: dict[str, list[float]] | None = None
               ) -> dict[str, EfficiencyProfile]:
    """Set each profile's interval widths from its held-out log residuals, split-conformal
    style: the ceil((n + 1) x 0.8) / n quantile of |residual| (Vovk et al. 2005; the finite-
    sample correction makes the 80% band cover at least 80% of new rows), falling back to the
    pooled residuals for groups with fewer than 10. Throughput rows (``residuals``) set
    ``sigma_log``; latency rows (TTFT, TPOT, per-query latency; ``latency_residuals``) set
    ``sigma_log_latency``, so neither band is sized by the other's errors."""
    lat = latency_residuals or {}

    def sig(vals: list[float], pooled: list[float]) -> float:
        if len(vals) < 10:
            vals = pooled
        if not vals:
            return 0.5
        n = len(vals)
        level = min(1.0, math.ceil((n + 1) * 0.8) / n)
        return float(np.quantile(np.abs(vals), level) / 1.2816)

    pooled = [abs(v) for vs in residuals.values() for v in vs]
    pooled_lat = [abs(v) for vs in lat.values() for v in vs] or pooled
    return {k: replace(p, sigma_log=sig(residuals.get(k, []), pooled),
                       sigma_log_latency=sig(lat.get(k, []), pooled_lat))
            for k, p in profiles.items()}


def profiles_to_yaml(profiles: dict[str, EfficiencyProfile], meta: dict[str, Any]) -> dict[str, Any]:
    """Each profile with only the fields it fitted (the rest resolve from its parents)."""
    out: dict[str, Any] = {}
    for k, p in sorted(profiles.items()):
        row: dict[str, Any] = {f: round(float(getattr(p, f)), 6) for f in p.fitted}
        row.update(sigma_log=round(p.sigma_log, 6),
                   sigma_log_latency=round(p.sigma_log_latency, 6), fitted=list(p.fitted),
                   provenance=p.provenance, fitted_on=p.fitted_on)
        out[k] = row
    return {"meta": meta, "profiles": out}
