"""Calibrate a host profile from airadar's own measurements (``airadar bench`` runs of
random-weight LLMs in the result store), cross-validated by leaving one model out.

The host's peak FLOP/s and bandwidth are measured (``bench.host``); the fitted factors are
the matrix efficiency of prefill (large GEMMs) and of decode (GEMMs with as few rows as the
batch, which CPUs run far below their large-matrix rate), the bandwidth efficiency and the
per-layer step overhead."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from airadar.catalog import resolve
from airadar.catalog.loader import hardware_from_row
from airadar.errors import AiradarError, SpecError
from airadar.perf.profiles import SPEC_ONLY, EfficiencyProfile
from airadar.perf.roofline import Deployment, iteration_time
from airadar.specs.hardware import HardwareSpec
from airadar.specs.model import ModelSpec, spec_from_config_file
from airadar.specs.precision import Precision, Sparsity


@dataclass(frozen=True, kw_only=True)
class Point:
    model: ModelSpec
    batch: int
    input_tokens: int
    output_tokens: int
    ttft_s: float
    tpot_s: float


def points_from_store(store: Any, base: Path) -> list[Point]:
    out: list[Point] = []
    for r in store.list_runs():
        if r["backend"] != "torch" or r["scenario"] != "llm" or r["status"] != "complete":
            continue
        if r["settings"].get("variant") not in (None, "fp32"):
            continue  # quantized/pruned variants run other kernels
        ref = str(r["model"])
        try:
            if ref.endswith(".json"):
                p = Path(ref)
                if not p.is_absolute() and not p.exists():
                    p = base / p
                spec = spec_from_config_file(p)
            else:
                spec = resolve.model(ref)
        except AiradarError:
            continue
        st = r["settings"]
        samples = store.get_samples(r["id"])
        for b in st.get("batches", [1]):
            tt = [s["value"] for s in samples if s["kind"] == "ttft" and s["batch"] == b]
            tp = [s["value"] for s in samples if s["kind"] == "tpot" and s["batch"] == b]
            if tt and tp:
                out.append(Point(model=spec, batch=b, input_tokens=st["input_tokens"],
                                 output_tokens=st["output_tokens"], ttft_s=statistics.median(tt),
                                 tpot_s=statistics.median(tp)))
    return out


def predict(p: Point, hw: HardwareSpec, prof: EfficiencyProfile) -> tuple[float, float]:
    dep = Deployment(model=p.model, hw=hw, precision=Precision.parse("fp32"),
                     sparsity=Sparsity(), tp=1)
    ttft = iteration_time(dep=dep, profile=prof, decode=0, context=p.input_tokens,
                          prefill_tokens=p.batch * p.input_tokens).time_s
    tpot = iteration_time(dep=dep, profile=prof, decode=p.batch,
                          context=p.input_tokens + p.output_tokens / 2, prefill_tokens=0).time_s
    return ttft, tpot


def fit(points: list[Point], hw: HardwareSpec, key: str) -> EfficiencyProfile:
    base = replace(SPEC_ONLY, key=key, provenance="calibrated", mem_reserve=0.3,
                   fitted_on=f"{len(points)} points, models: "
                             f"{', '.join(sorted({p.model.id for p in points}))}")

    def prof(x: np.ndarray) -> EfficiencyProfile:
        cp, cd, me, ov = np.exp(x)
        return replace(base, ce_prefill=float(cp), ce_decode=float(cd), me=float(me),
                       ovh_layer_s=float(ov))

    def resid(x: np.ndarray) -> np.ndarray:
        pr = prof(x)
        r = []
        for p in points:
            a, b = predict(p, hw, pr)
            r += [math.log(a / p.ttft_s), math.log(b / p.tpot_s)]
        return np.array(r)

    res = least_squares(resid, np.log([0.5, 0.1, 0.5, 1e-4]),
                        bounds=(np.log([0.01, 0.001, 0.01, 1e-7]),
                                np.log([1.5, 1.5, 1.5, 0.05])),
                        diff_step=0.02)
    return prof(res.x)


def ape(points: list[Point], hw: HardwareSpec, pr: EfficiencyProfile) -> dict[str, float]:
    tt, tp = [], []
    for p in points:
        a, b = predict(p, hw, pr)
        tt.append(abs(a - p.ttft_s) / p.ttft_s)
        tp.append(abs(b - p.tpot_s) / p.tpot_s)
    return {"ttft_median_ape": statistics.median(tt), "tpot_median_ape": statistics.median(tp),
            "points": len(points)}


def calibrate_host(points: list[Point], host: dict[str, Any], host_id: str) -> dict[str, Any]:
    if len({p.model.id for p in points}) < 2:
        raise SpecError("--from-store", f"{len(points)} points",
                        "torch LLM runs of at least two models (scripts/host_campaign.sh)")
    hw = hardware_from_row(host, file="host")
    key = f"cpu/pytorch/{host_id}"
    spec = ape(points, hw, SPEC_ONLY)
    models = sorted({p.model.id for p in points})
    cv_tt, cv_tp, per_model = [], [], {}
    for m in models:
        train = [p for p in points if p.model.id != m]
        test = [p for p in points if p.model.id == m]
        pr = fit(train, hw, key)
        r = ape(test, hw, pr)
        per_model[m] = r
        for p in test:
            a, b = predict(p, hw, pr)
            cv_tt.append(abs(a - p.ttft_s) / p.ttft_s)
            cv_tp.append(abs(b - p.tpot_s) / p.tpot_s)
    final = fit(points, hw, key)
    return {"host": host, "profile": final, "key": key,
            "spec_only": spec, "fitted_in_sample": ape(points, hw, final),
            "cross_validated": {"ttft_median_ape": statistics.median(cv_tt),
                                "tpot_median_ape": statistics.median(cv_tp),
                                "held_out_models": per_model}}


def to_json(res: dict[str, Any]) -> str:
    out = dict(res)
    out["profile"] = {k: v for k, v in res["profile"].as_dict().items() if k != "extra"}
    return json.dumps(out, indent=1, default=str)
