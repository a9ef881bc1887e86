"""Calibrate a host profile from airadar's own measurements (``airadar bench`` runs of
random-weight LLMs in the result store, and ``airadar loadtest`` runs of a served model),
cross-validated by leaving one model out.

The host's peak FLOP/s and bandwidth are measured (``bench.host``); the fitted factors of an
engine (from ``bench`` runs, in-process) are the matrix efficiency of prefill (large GEMMs)
and of decode (GEMMs with as few rows as the batch, which CPUs run far below their
large-matrix rate), the bandwidth efficiency and the per-layer step overhead.

A load-test run measures a *served* stack: the engine behind an HTTP front end
(llama.cpp behind llama-cpp-python's server is the stack ``llama.cpp-server``). It becomes a
point only when it maps onto what the fit models: one client at a time (closed loop,
concurrency 1, so no request queues behind another and the server decodes a batch of one),
a ``--deployment`` naming the catalog model, the stack and the precision, and completed
requests. Other load tests (open loop, more clients) are read and skipped: their latencies
are mostly queueing, which the simulator, not this fit, accounts for. The served stack's
profile keeps every engine factor (fitted from the bench runs in the same store, else the
engine profile already on file for this host) and fits only what the front end adds: a time
per request (``ovh_request_s``, in the TTFT) and a time per streamed token (``ovh_token_s``,
in every decode step), cross-validated by leaving one load-test run out."""

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
from airadar.perf.profiles import (
    FITTED,
    SERVED_STACKS,
    SPEC_ONLY,
    EfficiencyProfile,
    lookup,
    served_family,
)
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
    stack: str = "pytorch"
    precision: str = "fp32"
    source: str = "bench"  # "bench" or "loadtest"


STACK_OF_BACKEND = {"torch": "pytorch", "llamacpp": "llama.cpp"}


def points_from_store(store: Any, base: Path) -> list[Point]:
    out: list[Point] = []
    for r in store.list_runs():
        if r["backend"] == "openai-http":
            lp = _loadtest_point(store, r)
            if lp is not None:
                out.append(lp)
            continue
        if (r["backend"] not in STACK_OF_BACKEND or r["scenario"] != "llm"
                or r["status"] != "complete"):
            continue
        st = r["settings"]
        if r["backend"] == "torch":
            if st.get("variant") not in (None, "fp32") or st.get("device", "cpu") != "cpu":
                continue  # quantized/pruned variants run other kernels
            prec = str(st.get("dtype", "fp32"))
        else:
            if not st.get("weight_precision"):
                continue
            prec = f"{st['weight_precision']}/fp32/fp16"  # llama.cpp: f16 KV cache
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
        samples = store.get_samples(r["id"])
        for b in st.get("batches", [1]):
            tt = [s["value"] for s in samples if s["kind"] == "ttft" and s["batch"] == b]
            tp = [s["value"] for s in samples if s["kind"] == "tpot" and s["batch"] == b]
            if tt and tp:
                out.append(Point(model=spec, batch=b, input_tokens=st["input_tokens"],
                                 output_tokens=st["output_tokens"], ttft_s=statistics.median(tt),
                                 tpot_s=statistics.median(tp),
                                 stack=STACK_OF_BACKEND[r["backend"]], precision=prec))
    return out


def _loadtest_point(store: Any, r: dict[str, Any]) -> Point | None:
    """A load-test run as a batch-1 point (see the module docstring), else None."""
    st = r["settings"]
    dep, load = st.get("deployment") or {}, st.get("load") or {}
    if (r["scenario"] != "loadtest" or r["status"] != "complete" or load.get("shape") != "closed"
            or load.get("concurrency") != 1 or not dep.get("stack") or not dep.get("model")):
        return None
    try:
        spec = resolve.model(str(dep["model"]))
    except AiradarError:
        return None
    reqs = [s["extra"] for s in store.get_samples(r["id"]) if s["kind"] == "request"]
    ok = [x for x in reqs if x.get("ok") and x.get("ttft_s") and x.get("tpot_s")]
    if not ok:
        return None
    return Point(model=spec, batch=1,
                 input_tokens=int(statistics.median(x.get("input_tokens") or x["prompt_words"]
                                                    for x in ok)),
                 output_tokens=int(statistics.median(x["output_tokens"] for x in ok)),
                 ttft_s=statistics.median(x["ttft_s"] for x in ok),
                 tpot_s=statistics.median(x["tpot_s"] for x in ok),
                 stack=served_family(str(dep["stack"])),
                 precision=str(dep.get("precision") or "fp32"), source="loadtest")


def predict(p: Point, hw: HardwareSpec, prof: EfficiencyProfile) -> tuple[float, float]:
    dep = Deployment(model=p.model, hw=hw, precision=Precision.parse(p.precision),
                     sparsity=Sparsity(), tp=1)
    ttft = iteration_time(dep=dep, profile=prof, decode=0, context=p.input_tokens,
                          prefill_tokens=p.batch * p.input_tokens, prefill_seqs=p.batch).time_s
    tpot = iteration_time(dep=dep, profile=prof, decode=p.batch,
                          context=p.input_tokens + p.output_tokens / 2, prefill_tokens=0).time_s
    return ttft, tpot


def log_residuals(points: list[Point], hw: HardwareSpec, fitted: Fitted) -> np.ndarray:
    """log(predicted / measured) of each point's TTFT and TPOT (what every host fit minimises)."""
    r = []
    for p in points:
        a, b = predict(p, hw, fitted.for_point(p))
        r += [math.log(a / p.ttft_s), math.log(b / p.tpot_s)]
    return np.array(r)


@dataclass(frozen=True)
class Fitted:
    """A stack's fitted profile, with a prefill efficiency per weight format where the runs
    used several (llama.cpp's prefill rate depends on how its weights are quantized)."""

    base: EfficiencyProfile
    by_weights: dict[str, EfficiencyProfile]

    def for_point(self, p: Point) -> EfficiencyProfile:
        return self.by_weights.get(p.precision.split("/")[0], self.base)


def fit(points: list[Point], hw: HardwareSpec, key: str) -> Fitted:
    base = replace(SPEC_ONLY, key=key, provenance="measured", mem_reserve=0.3,
                   fitted_on=f"{len(points)} points, models: "
                             f"{', '.join(sorted({p.model.id for p in points}))}")
    formats = sorted({p.precision.split("/")[0] for p in points})
    idx = {f: i for i, f in enumerate(formats)}

    def profs(x: np.ndarray) -> Fitted:
        cd, me, ov, *cps = np.exp(x)
        shared = replace(base, ce_decode=float(cd), me=float(me), ovh_layer_s=float(ov))
        by = {f: replace(shared, key=f"{key}@{f}", ce_prefill=float(cps[idx[f]]))
              for f in formats}
        mean_cp = float(np.exp(np.mean(np.log(cps))))
        return Fitted(base=replace(shared, ce_prefill=mean_cp),
                      by_weights=by if len(formats) > 1 else {})

    def resid(x: np.ndarray) -> np.ndarray:
        return log_residuals(points, hw, profs(x))

    n = len(formats)
    res = least_squares(resid, np.log([0.1, 0.5, 1e-4] + [0.5] * n),
                        bounds=(np.log([0.001, 0.01, 1e-7] + [0.01] * n),
                                np.log([1.5, 1.5, 0.05] + [1.5] * n)),
                        diff_step=0.02)
    return profs(res.x)


def ape(points: list[Point], hw: HardwareSpec, pr: Fitted) -> dict[str, float]:
    tt, tp = [], []
    for p in points:
        a, b = predict(p, hw, pr.for_point(p))
        tt.append(abs(a - p.ttft_s) / p.ttft_s)
        tp.append(abs(b - p.tpot_s) / p.tpot_s)
    return {"ttft_median_ape": statistics.median(tt), "tpot_median_ape": statistics.median(tp),
            "points": len(points)}


def calibrate_host(points: list[Point], host: dict[str, Any], host_id: str) -> dict[str, Any]:
    """One profile per engine stack (pytorch, llama.cpp) that has bench runs of at least two
    models, then one per served stack (llama.cpp-server) that has load-test points, on top of
    its engine's profile."""
    stacks: dict[str, dict[str, Any]] = {}
    engines = sorted({p.stack for p in points if p.stack not in SERVED_STACKS})
    for stack in engines:
        pts = [p for p in points if p.stack == stack]
        if len({p.model.id for p in pts}) >= 2:
            stacks[stack] = calibrate_stack(pts, host, host_id, stack)
    for served in sorted({p.stack for p in points if p.stack in SERVED_STACKS}):
        pts = [p for p in points if p.stack == served]
        engine = stacks.get(SERVED_STACKS[served])
        stacks[served] = calibrate_served(pts, host, host_id, served,
                                          engine["fitted"] if engine else None)
    if not stacks:
        raise SpecError("--from-store", f"{len(points)} points",
                        "torch or llamacpp LLM runs of at least two models "
                        "(scripts/host_campaign.sh), or load tests of a served stack")
    return {"host": host, "stacks": stacks}


def calibrate_stack(points: list[Point], host: dict[str, Any], host_id: str, stack: str
                    ) -> dict[str, Any]:
    hw = hardware_from_row(host, file="host")
    key = f"cpu/{stack}/{host_id}"
    spec = ape(points, hw, Fitted(base=SPEC_ONLY, by_weights={}))
    models = sorted({p.model.id for p in points})
    cv_tt, cv_tp, per_model, logs = [], [], {}, []
    for m in models:
        train = [p for p in points if p.model.id != m]
        test = [p for p in points if p.model.id == m]
        pr = fit(train, hw, key)
        r = ape(test, hw, pr)
        per_model[m] = r
        for p in test:
            a, b = predict(p, hw, pr.for_point(p))
            cv_tt.append(abs(a - p.ttft_s) / p.ttft_s)
            cv_tp.append(abs(b - p.tpot_s) / p.tpot_s)
            logs += [math.log(a / p.ttft_s), math.log(b / p.tpot_s)]
    # the interval's spread: the held-out models' log residuals (estimate's 80% interval)
    sigma = float(np.sqrt(np.mean(np.square(logs))))
    final = fit(points, hw, key)
    final = Fitted(base=replace(final.base, sigma_log=sigma),
                   by_weights={f: replace(p, sigma_log=sigma) for f, p in final.by_weights.items()})
    return {"profile": final.base, "by_weights": final.by_weights, "key": key,
            "fitted": final, "points_by_source": _sources(points),
            "spec_only": spec, "fitted_in_sample": ape(points, hw, final),
            "cross_validated": {"ttft_median_ape": statistics.median(cv_tt),
                                "tpot_median_ape": statistics.median(cv_tp),
                                "held_out_models": per_model}}


def _sources(points: list[Point]) -> dict[str, int]:
    return {src: sum(1 for p in points if p.source == src)
            for src in sorted({p.source for p in points})}


def _engine_on_file(points: list[Point], hw: HardwareSpec, host_id: str, served: str) -> Fitted:
    """The engine profile already on file for this host (shipped + $AIRADAR_HOME), per weight
    format of the points."""
    engine = SERVED_STACKS[served]

    def prof(p: Point) -> EfficiencyProfile:
        pr = Precision.parse(p.precision)
        return lookup(hw.hw_class, engine, host_id, pr.compute_dtype, pr.weights)

    base = prof(points[0])
    if base.key != f"cpu/{engine}/{host_id}" and not base.key.startswith(
            f"cpu/{engine}/{host_id}@"):
        raise SpecError("--from-store", served,
                        f"bench runs of the {engine} engine in the same store (at least two "
                        f"models), or a {engine} profile for {host_id} fitted before "
                        f"(calibrate --from-store on the bench runs)")
    return Fitted(base=base, by_weights={p.precision.split("/")[0]: prof(p) for p in points})


def served_fields(points: list[Point]) -> tuple[str, ...]:
    """What a served stack's fit sets: the front end's time per request and per streamed
    token, and, once the runs used two prompt lengths or more (so that a time per prompt
    token can be told from a time per request), the prefill efficiency the engine reaches
    behind that server (its threads share the cores with the server's own)."""
    if len({p.input_tokens for p in points}) >= 2:
        return ("ovh_request_s", "ovh_token_s", "ce_prefill")
    return ("ovh_request_s", "ovh_token_s")


def fit_served(points: list[Point], hw: HardwareSpec, engine: Fitted, key: str) -> Fitted:
    """The served stack's front end (and prefill efficiency, see ``served_fields``) on top of
    the engine's fitted factors."""
    with_prefill = "ce_prefill" in served_fields(points)

    def profs(x: np.ndarray) -> Fitted:
        rq, tk, *sc = (float(v) for v in np.exp(x))
        scale = sc[0] if sc else 1.0

        def add(p: EfficiencyProfile) -> EfficiencyProfile:
            return replace(p, ovh_request_s=rq, ovh_token_s=tk,
                           ce_prefill=min(p.ce_prefill * scale, 1.5))

        return Fitted(base=replace(add(engine.base), key=key),
                      by_weights={f: add(p) for f, p in engine.by_weights.items()})

    def resid(x: np.ndarray) -> np.ndarray:
        return log_residuals(points, hw, profs(x))

    lo, hi, x0 = [1e-6, 1e-6], [10.0, 1.0], [1e-3, 1e-3]
    if with_prefill:  # a factor on the engine's prefill efficiency
        lo, hi, x0 = lo + [0.02], hi + [5.0], x0 + [1.0]
    res = least_squares(resid, np.log(x0), bounds=(np.log(lo), np.log(hi)), diff_step=0.02)
    return profs(res.x)


def calibrate_served(points: list[Point], host: dict[str, Any], host_id: str, served: str,
                     engine: Fitted | None) -> dict[str, Any]:
    """Fit a served stack's front-end overheads from its load-test points; report the error
    of the engine profile alone, in-sample and leaving one load-test run out."""
    hw = hardware_from_row(host, file="host")
    key = f"cpu/{served}/{host_id}"
    eng = engine or _engine_on_file(points, hw, host_id, served)
    final = fit_served(points, hw, eng, key)
    cv_tt, cv_tp = [], []
    held_out = list(enumerate(points)) if len(points) >= 2 else []  # one run: no CV
    for i, test in held_out:
        pr = fit_served(points[:i] + points[i + 1:], hw, eng, key)
        a, b = predict(test, hw, pr.for_point(test))
        cv_tt.append(abs(a - test.ttft_s) / test.ttft_s)
        cv_tp.append(abs(b - test.tpot_s) / test.tpot_s)
    # the served row holds one prefill efficiency: the one of the weight format served
    served_pf = final.for_point(points[0]).ce_prefill
    prof = replace(final.base, provenance="measured", fitted=served_fields(points),
                   ce_prefill=served_pf,
                   fitted_on=f"{len(points)} load-test points, models: "
                             f"{', '.join(sorted({p.model.id for p in points}))}")
    cv = ({"ttft_median_ape": statistics.median(cv_tt), "tpot_median_ape": statistics.median(cv_tp),
           "held_out": "one load-test run at a time"} if cv_tt else None)
    return {"profile": prof, "by_weights": {}, "key": key, "fitted": final,
            "served_on": SERVED_STACKS[served], "points_by_source": _sources(points),
            "spec_only": ape(points, hw, eng), "fitted_in_sample": ape(points, hw, final),
            "cross_validated": cv}


#: what an engine fit assumed of the fields it does not fit (the spec-only values: GEMMs at
#: ce_prefill / ce_decode by phase, no grouped-GEMM or tail factors, no HTTP front end): its
#: profile row pins them, so that a prediction does not inherit the MLPerf-fitted values of
#: the class profiles above it in the chain (cpu/*, */*) and differ from the fit
PINNED = tuple(f for f in FITTED if f not in ("ce_prefill", "ce_decode", "me", "ovh_layer_s",
                                              "ce_other", "ovh_other_layer_s"))


def profile_rows(res: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The profiles file rows of a ``calibrate_host`` result: per engine stack, its fitted
    factors and PINNED fields (and one row per weight format with its prefill efficiency);
    per served stack, only what its own fit set (the rest comes from the engine's chain)."""
    keep = ("ce_prefill", "ce_decode", "me", "ovh_layer_s", "mem_reserve", "sigma_log",
            "provenance", "fitted_on")
    keep_served = ("mem_reserve", "sigma_log", "provenance", "fitted_on")
    out: dict[str, dict[str, Any]] = {}
    for r in res["stacks"].values():
        base: EfficiencyProfile = r["profile"]
        d = base.as_dict()
        if "served_on" in r:
            row = {k: d[k] for k in (*keep_served, *base.fitted)}
            row["fitted"] = list(base.fitted)
            out[r["key"]] = row
            continue
        row = {k: d[k] for k in (*keep, *PINNED)}
        row["fitted"] = ["ce_prefill", "ce_decode", "me", "ovh_layer_s", *PINNED]
        row["fitted_on"] = (f"{base.fitted_on}; fixed as the fit assumed: "
                            f"{', '.join(f'{f}={d[f]:g}' for f in PINNED)}")
        out[r["key"]] = row
        for fmt, pr in r["by_weights"].items():
            out[f"{r['key']}@{fmt}"] = {k: v for k, v in pr.as_dict().items() if k in keep}
    return out


def to_json(res: dict[str, Any]) -> str:
    out = {"host": res["host"], "stacks": {}}
    for name, r in res["stacks"].items():
        o = {k: v for k, v in r.items() if k != "fitted"}
        o["profile"] = {k: v for k, v in r["profile"].as_dict().items() if k != "extra"}
        o["by_weights"] = {f: {k: v for k, v in pr.as_dict().items() if k != "extra"}
                           for f, pr in r["by_weights"].items()}
        out["stacks"][name] = o
    return json.dumps(out, indent=1, default=str)
