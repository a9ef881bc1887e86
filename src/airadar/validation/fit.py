"""Fit efficiency profiles to measurements and cross-validate them.

Per profile group (hardware class / stack family), in three stages, each on the rows that
inform it (never a parameter per row):
1. throughput rows in Offline mode fit ce (LLM matrix products), me, ovh_layer_s, ce_other by
   robust least squares on log(predicted / measured) (scipy.optimize.least_squares);
2. rows measured at a known load fit ttft_k (median log ratio of mean TTFT), and the p99
   rows fit ttft_tail and tpot_tail (median ratio of measured p99 to predicted mean);
3. Server throughput rows fit server_util (bounded 1-D search).
Groups are also split by the precision the matrix units run in ("gpu/tensorrt-llm@fp8"): FP8
and INT8 kernels reach a different fraction of their peak than BF16 ones. A class-wide profile
("gpu/*") and a global one ("*/*") are fitted the same way on all rows of the class, for
stacks or hardware with no rows of their own.

Cross-validation holds out whole hardware models (k folds grouped by hardware id), so no row
is predicted by a profile fitted on itself or on another row of the same device."""

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
from airadar.perf.profiles import SPEC_ONLY, EfficiencyProfile
from airadar.validation.rows import Query
from airadar.validation.score import predict

MIN_ROWS = 6
_P1 = ("ce_prefill", "me", "ovh_layer_s", "ce_other")
_LO = np.log([0.02, 0.05, 1e-7, 0.005])
_HI = np.log([1.0, 1.0, 1e-4, 1.0])
_X0 = np.log([0.5, 0.7, 2e-5, 0.3])


def _safe_log_ratio(q: Query, prof: EfficiencyProfile) -> float | None:
    try:
        p = predict(q, prof)
    except (AiradarError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if not (p > 0 and math.isfinite(p)):
        return None
    return math.log(p / q.measured)


def _stage1(rows: list[Query], base: EfficiencyProfile) -> EfficiencyProfile:
    thr = [q for q in rows if q.target in ("tok_s", "samples_s") and q.mode == "offline"]
    if len(thr) < 3:
        return base
    has_llm = any(q.model.is_llm for q in thr)
    has_other = any(not q.model.is_llm for q in thr)

    def prof(x: np.ndarray) -> EfficiencyProfile:
        vals = dict(zip(_P1, np.exp(x).tolist(), strict=True))
        return base.with_values(ce_decode=vals["ce_prefill"], **vals)

    def resid(x: np.ndarray) -> np.ndarray:
        p = prof(x)
        r = [_safe_log_ratio(q, p) for q in thr]
        return np.array([v if v is not None else 3.0 for v in r])

    x0 = _X0.copy()
    lo, hi = _LO.copy(), _HI.copy()
    # freeze parameters no row informs at their start value
    if not has_llm:
        lo[0], hi[0] = x0[0] - 1e-9, x0[0] + 1e-9
    if not has_other:
        lo[3], hi[3] = x0[3] - 1e-9, x0[3] + 1e-9
    res = least_squares(resid, x0, bounds=(lo, hi), loss="soft_l1", f_scale=0.2,
                        diff_step=0.05, max_nfev=60)
    return prof(res.x)


def _stage2(rows: list[Query], p: EfficiencyProfile) -> EfficiencyProfile:
    means = [q for q in rows if q.target == "ttft_mean"]
    if len(means) >= 3:
        base = replace(p, ttft_k=1.0)
        r = [v for q in means if (v := _safe_log_ratio(q, base)) is not None]
        if r:
            p = replace(p, ttft_k=float(min(max(math.exp(-statistics.median(r)), 0.05), 50)))
    for target, attr in (("ttft_p99", "ttft_tail"), ("tpot_p99", "tpot_tail")):
        tail_rows = [q for q in rows if q.target == target]
        if len(tail_rows) >= 3:
            base = p.with_values(**{attr: 1.0})
            r = [v for q in tail_rows if (v := _safe_log_ratio(q, base)) is not None]
            if r:
                p = p.with_values(**{attr: float(min(max(math.exp(-statistics.median(r)), 1.0), 20))})
    return p


def _stage3(rows: list[Query], p: EfficiencyProfile) -> EfficiencyProfile:
    srv = [q for q in rows if q.target in ("tok_s", "samples_s") and q.mode == "server"]
    if len(srv) < 3:
        return p

    def cost(u: float) -> float:
        pp = replace(p, server_util=u)
        r = [_safe_log_ratio(q, pp) for q in srv]
        return float(np.median([abs(v) if v is not None else 3.0 for v in r]))

    res = minimize_scalar(cost, bounds=(0.3, 1.0), method="bounded",
                          options={"xatol": 0.01, "maxiter": 20})
    return replace(p, server_util=float(res.x))


def fit_group(rows: list[Query], *, key: str, fitted_on: str = "") -> EfficiencyProfile:
    base = replace(SPEC_ONLY, key=key, provenance="calibrated", fitted_on=fitted_on)
    p = _stage1(rows, base)
    p = _stage2(rows, p)
    p = _stage3(rows, p)
    return p


def fit_profiles(rows: list[Query], *, progress: Callable[[str], None] | None = None,
                 ) -> dict[str, EfficiencyProfile]:
    """Fit one profile per group with enough rows, per class, and a global fallback."""
    by_group: dict[str, list[Query]] = defaultdict(list)
    by_class: dict[str, list[Query]] = defaultdict(list)
    for q in rows:
        by_group[q.group].append(q)
        by_group[f"{q.group}@{q.precision.compute_dtype}"].append(q)
        by_class[f"{q.hw.hw_class}/*"].append(q)
    out: dict[str, EfficiencyProfile] = {}
    todo = [(k, v) for k, v in by_group.items() if len(v) >= MIN_ROWS]
    todo += [(k, v) for k, v in by_class.items() if len(v) >= MIN_ROWS]
    todo.append(("*/*", rows))
    for key, grp in todo:
        if progress:
            progress(key)
        hw = sorted({q.hw.id for q in grp})
        out[key] = fit_group(grp, key=key,
                             fitted_on=f"{len(grp)} rows on {len(hw)} hardware: {', '.join(hw)}")
    return out


def folds_by_hardware(rows: list[Query], k: int) -> list[set[str]]:
    """Deterministic k-way split of hardware ids (a device is never in two folds)."""
    ids = sorted({q.hw.id for q in rows}, key=lambda s: zlib.crc32(s.encode()))
    return [set(ids[i::k]) for i in range(k)]


def with_sigma(profiles: dict[str, EfficiencyProfile], residuals: dict[str, list[float]]
               ) -> dict[str, EfficiencyProfile]:
    """Set each profile's interval width from its held-out log residuals, split-conformal
    style: the ceil((n + 1) x 0.8) / n quantile of |residual| (Vovk et al. 2005; the finite-
    sample correction makes the 80% band cover at least 80% of new rows), falling back to the
    pooled residuals for groups with fewer than 10."""
    pooled = [abs(v) for vs in residuals.values() for v in vs]

    def sig(vals: list[float]) -> float:
        if len(vals) < 10:
            vals = pooled
        if not vals:
            return 0.5
        n = len(vals)
        level = min(1.0, math.ceil((n + 1) * 0.8) / n)
        return float(np.quantile(np.abs(vals), level) / 1.2816)

    return {k: replace(p, sigma_log=sig(residuals.get(k, []))) for k, p in profiles.items()}


def profiles_to_yaml(profiles: dict[str, EfficiencyProfile], meta: dict[str, Any]) -> dict[str, Any]:
    keep = ("ce_prefill", "ce_decode", "me", "ovh_layer_s", "ce_other", "server_util", "ttft_k",
            "ttft_tail", "tpot_tail", "sigma_log", "provenance", "fitted_on")
    return {"meta": meta, "profiles": {
        k: {f: (round(v, 6) if isinstance(v := getattr(p, f), float) else v) for f in keep}
        for k, p in sorted(profiles.items())}}
