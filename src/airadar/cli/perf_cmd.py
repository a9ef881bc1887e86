"""``airadar estimate``, ``airadar validate``, ``airadar calibrate``."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from airadar.cli.output import console, fmt, ms, positive_numbers, print_json
from airadar.cli.root import app
from airadar.errors import InfeasibleError, SpecError
from airadar.units import ms_to_s


@app.command()
def estimate(
    model: str = typer.Option(..., "--model", "-m", help="catalog id or alias, or a config.json"),
    hardware: str = typer.Option(..., "--hardware", "-H", help="catalog id or alias"),
    count: int = typer.Option(1, "--count", "-n", help="devices"),
    precision: str = typer.Option("bf16", help="fp8, int4, w4a16, or WEIGHTS/ACTS/KV"),
    sparsity: str = typer.Option("none", help="none, 2:4, unstructured-N"),
    input_tokens: float = typer.Option(1024, "--input-tokens", "-i"),
    output_tokens: float = typer.Option(256, "--output-tokens", "-o"),
    mode: str = typer.Option("offline", help="offline | server | single-stream"),
    ttft_p99_ms: float | None = typer.Option(None, "--ttft-p99-ms"),
    tpot_p99_ms: float | None = typer.Option(None, "--tpot-p99-ms"),
    batch: int | None = typer.Option(None, "--batch", help="cap on concurrent sequences"),
    stack: str | None = typer.Option(None, "--stack", help="tensorrt-llm, vllm, pytorch, ..."),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    profiles: Path = typer.Option(None, "--profiles",
                                  help="a profiles file (calibrate --out) over the shipped ones"),
) -> None:
    """Predict throughput, latency, memory and the bottleneck of one deployment."""
    if profiles is not None:
        from airadar.perf.profiles import use_profiles_file

        use_profiles_file(profiles)
    from airadar.catalog import resolve
    from airadar.perf.estimate import estimate as run
    from airadar.specs.model import spec_from_config_file
    from airadar.specs.precision import Precision, Sparsity

    if mode not in ("offline", "server", "single-stream"):
        raise SpecError("--mode", mode, "offline, server or single-stream")
    spec = spec_from_config_file(model) if model.endswith(".json") else resolve.model(model)
    spec.check_context(input_tokens=input_tokens, output_tokens=output_tokens, field="--input-tokens")
    hw = resolve.hardware(hardware)
    prec, sp = Precision.parse(precision), Sparsity.parse(sparsity)
    ttft = ms_to_s(ttft_p99_ms) if ttft_p99_ms is not None else None
    tpot = ms_to_s(tpot_p99_ms) if tpot_p99_ms is not None else None
    est = run(model=spec, hw=hw, count=count, precision=prec, sparsity=sp,
              input_tokens=input_tokens, output_tokens=output_tokens, mode=mode,  # type: ignore[arg-type]
              ttft_p99_s=ttft, tpot_p99_s=tpot, batch=batch, stack=stack)
    if mode == "server":
        from airadar.perf.profiles import select_profile
        from airadar.sim.operating import simulated_server
        est = simulated_server(est, model=spec, hw=hw, precision=prec, sparsity=sp,
                               profile=select_profile(hw, prec, stack), ttft_p99_s=ttft,
                               tpot_p99_s=tpot, batch=batch)
    if as_json:
        print_json(est.to_json())
        return
    t = Table(title=f"{est.model} on {est.count}x {est.hardware} ({est.precision}, {est.mode})",
              show_header=True)
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_column("note")
    lo, hi = est.interval
    if est.throughput_output_tokens_per_s is not None:
        t.add_row("throughput", fmt(est.throughput_output_tokens_per_s, "tok/s"),
                  f"80% interval {fmt(lo)} - {fmt(hi)}")
        how = ("p50: log-normal through mean and p99" if est.simulated_p50_s is None
               else "mean, p50, p99 of the simulated requests")
        t.add_row("TTFT mean / p50 / p99", f"{ms(est.ttft_mean_s)} / {ms(est.ttft_p50_s)} / "
                  f"{ms(est.ttft_p99_s)}", how)
        t.add_row("TPOT mean / p50 / p99", f"{ms(est.tpot_mean_s)} / {ms(est.tpot_p50_s)} / "
                  f"{ms(est.tpot_p99_s)}", "")
    else:
        t.add_row("throughput", fmt(est.throughput_samples_per_s, "samples/s"),
                  f"80% interval {fmt(lo)} - {fmt(hi)}")
        t.add_row("latency mean / p99", f"{ms(est.ttft_mean_s)} / {ms(est.ttft_p99_s)}", "")
    t.add_row("layout", est.layout.label, "tensor x pipeline x replicas")
    t.add_row("batch (max)", f"{est.batch:.0f} ({est.max_batch})", "concurrent sequences")
    t.add_row("memory", fmt(est.memory_bytes / 1e9, "GB"),
              f"of {fmt(est.memory_capacity_bytes / 1e9, 'GB')}")
    t.add_row("bottleneck", est.bottleneck, "")
    t.add_row("provenance", est.provenance["kind"], est.provenance["profile"])
    kf = est.provenance.get("kernel_format_factor")
    if kf and kf["factor"] != 1.0:
        where = kf["source"].split(":")[0]
        t.add_row(f"{kf['format']} GEMM peak", f"x{kf['factor']:.3g}",
                  f"of the datasheet's, relative to FP8 ({where}, measured kernels)")
    kr = est.provenance.get("kernel_weight_read")
    if kr and kr["source"] != "none":
        where = kr["source"].split(":")[0]
        t.add_row(f"{kr['format']} weight reads",
                  f"x{kr['bandwidth_vs_fp8']:.3g}, {kr['floor_s_per_gemm'] * 1e6:.3g} us/GEMM",
                  f"bandwidth relative to FP8 and fixed time per GEMM ({where}, measured kernels)")
    t.add_row("figures", "simulated" if "figures" in est.provenance else "steady state",
              "server capacity and percentiles from airadar.sim" if "figures" in est.provenance
              else "closed form of the engine's steady state")
    console.print(t)


def _table_groups(summary: dict, group: str) -> Table:
    t = Table(title=f"by {group}")
    for c in ("group", "rows", "median APE", "within 25%", "in interval"):
        t.add_column(c, justify="right" if c != "group" else "left")
    for k, v in summary["groups"].get(group, {}).items():
        if v.get("rows"):
            t.add_row(k, str(v["rows"]), f"{v['median_ape']:.1%}", f"{v['within_25pct']:.0%}",
                      f"{v['interval_coverage']:.0%}")
    return t


WORKERS_HELP = ("processes that score rows (default: the usable CPUs, at most 8; 1 = this "
                "process); the results do not depend on it")


def _check_workers(workers: int | None) -> None:
    if workers is not None and not 1 <= workers <= 256:
        raise SpecError("--workers", workers, "an integer from 1 to 256")


def _check_latency_at(latency_at: str) -> None:
    if latency_at not in ("operating", "rate"):
        raise SpecError("--latency-at", latency_at, "'operating' or 'rate'")


@app.command()
def validate(
    file: Path = typer.Argument(..., help="CSV in the column format of calibration.csv"),
    as_json: bool = typer.Option(False, "--json"),
    spec_only: bool = typer.Option(False, "--spec-only", help="ignore fitted profiles"),
    workers: int = typer.Option(None, "--workers", metavar="<int>",
                                help=WORKERS_HELP),
    latency_at: str = typer.Option(
        "operating", "--latency-at", metavar="operating|rate",
        help="TTFT/TPOT rows of a run under latency limits: at the simulated operating point "
             "under those limits (what estimate --mode server shows) or at the run's measured "
             "rate"),
) -> None:
    """Predict every row of a measurement file that maps, and report the errors."""
    from airadar.validation.rows import map_rows, read_rows
    from airadar.validation.score import score, summary

    _check_workers(workers)
    _check_latency_at(latency_at)
    rows = read_rows(file)
    queries, skipped, _ = map_rows(rows)
    scored, skipped2 = score(queries, profiles={} if spec_only else None, workers=workers,
                             latency_at=latency_at)
    for k, v in skipped2.items():
        skipped[k] = skipped.get(k, 0) + v
    sm = summary(scored)
    out = {
        "rows_total": len(rows), "rows_scored": len(scored),
        "rows_skipped": skipped,
        "median_ape": sm["overall"].get("median_ape"),
        "within_25pct": sm["overall"].get("within_25pct"),
        "interval_coverage": sm["overall"].get("interval_coverage"),
        "profiles": "spec-only" if spec_only else "shipped", "latency_at": latency_at,
        "groups": sm["groups"],
        "rows": [{"id": s.query.id, "predicted": s.predicted, "measured": s.query.measured,
                  "ape": s.ape, "metric": s.query.target, "profile": s.profile,
                  "interval": [s.low, s.high], "assumptions": list(s.query.assumptions)}
                 for s in scored],
    }
    if not scored:
        why = "; ".join(f"{k} ({v})" for k, v in sorted(skipped.items(), key=lambda kv: -kv[1])[:3])
        if as_json:
            print_json(out)
            raise typer.Exit(3)
        raise InfeasibleError(f"no row of {file} could be scored: {why or 'the file has no rows'}")
    if as_json:
        print_json(out)
        return
    console.print(f"scored {len(scored)} of {len(rows)} rows; median APE "
                  f"{out['median_ape']:.1%}, within 25%: {out['within_25pct']:.0%}, "
                  f"inside the 80% interval: {out['interval_coverage']:.0%}")
    for g in ("scenario", "metric", "profile"):
        console.print(_table_groups(sm, g))
    if skipped:
        console.print("skipped: " + "; ".join(f"{k} ({v})" for k, v in skipped.items()))


@app.command()
def calibrate(
    from_csv: Path = typer.Option(None, "--from-csv", help="measurements (calibration.csv format)"),
    from_store: str = typer.Option(None, "--from-store",
                                   help="result store (path or URL) of this machine's bench and "
                                        "loadtest runs"),
    folds: int = typer.Option(4, help="cross-validation folds, grouped by hardware (0 = skip)"),
    forward: str = typer.Option("mlperf-v5.1", "--forward",
                                help="publication round to predict from every older row "
                                     "(forward-in-time test; 'none' = skip)"),
    out: Path = typer.Option(None, "--out", help="profiles file to write "
                             "(default: $AIRADAR_HOME/profiles.yaml)"),
    report: Path = typer.Option(None, "--report", help="also write the JSON report here"),
    as_json: bool = typer.Option(False, "--json"),
    workers: int = typer.Option(None, "--workers", metavar="<int>", help=WORKERS_HELP),
) -> None:
    """Fit the profile tree; report per subset the error cross-validated by hardware, forward
    in time, and in-sample, each with its worst model and worst hardware."""
    from rich.progress import Progress

    from airadar.catalog.loader import user_dir
    from airadar.perf.estimate import Z80
    from airadar.validation.fit import (
        fit_profiles,
        folds_by_hardware,
        forward_split,
        profiles_to_yaml,
        with_dataset_lengths,
        with_sigma,
    )
    from airadar.validation.rows import map_rows, prior_input_tokens, read_rows
    from airadar.validation.score import score, sigma_for, subsets, summary, under_limits

    if (from_csv is None) == (from_store is None):
        raise SpecError("--from-csv/--from-store", None, "exactly one of them")
    _check_workers(workers)
    if from_store is not None:
        _calibrate_store(from_store, out, report, as_json)
        return
    if folds == 1 or folds < 0:
        raise SpecError("--folds", folds, "0 (skip) or an integer >= 2")
    rows = read_rows(from_csv)
    queries, skipped, _ = map_rows(rows)
    if not queries:
        why = "; ".join(f"{k} ({v})" for k, v in sorted(skipped.items(), key=lambda kv: -kv[1])[:3])
        raise InfeasibleError(f"no row of {from_csv} maps to a catalog model and hardware, "
                              f"nothing to fit: {why or 'the file has no rows'}")
    # every dataset's assumed input length starts from its documented prior, not from the
    # value fitted with the shipped profiles (fitted on all rows, the held-out ones included):
    # each fold and the forward test then see only what their training rows fit
    queries = with_dataset_lengths(queries, prior_input_tokens())
    t0 = time.time()
    spec_scored, _ = score(queries, profiles={}, workers=workers)
    cv_scored: list = []
    fw_scored: list = []
    fw_lengths: dict[str, float] = {}
    residuals: dict[str, list[float]] = {}
    latency_residuals: dict[str, list[float]] = {}
    split = folds_by_hardware(queries, folds) if folds else []
    fw_train, fw_test = forward_split(queries, forward) if forward != "none" else ([], [])
    if forward != "none" and not fw_test:
        raise SpecError("--forward", forward, "a round present in the file (e.g. mlperf-v5.1)")
    with Progress(console=console, transient=True, disable=as_json) as prog:
        task = prog.add_task("cross-validating", total=len(split) + (1 if fw_test else 0) + 1)
        for held in split:
            train = [q for q in queries if q.hw.id not in held]
            test = [q for q in queries if q.hw.id in held]
            profs, lengths = fit_profiles(train)
            sc, _ = score(with_dataset_lengths(test, lengths), profs, workers=workers)
            cv_scored += sc
            for s in sc:
                into = residuals if s.query.target in ("tok_s", "samples_s") \
                    else latency_residuals
                into.setdefault(s.profile, []).append(s.log_ratio)
            prog.advance(task)
        fw_profs: dict = {}
        if fw_test:
            prog.update(task, description=f"forward: fit before {forward}, predict {forward}")
            fw_profs, fw_lengths = fit_profiles(fw_train)
            fw_scored, _ = score(with_dataset_lengths(fw_test, fw_lengths), fw_profs,
                                 workers=workers)
            prog.advance(task)
        prog.update(task, description="fitting on all rows")
        fitted, lengths = fit_profiles(queries)
        final = with_sigma(fitted, residuals, latency_residuals) if residuals else fitted
        prog.advance(task)
    # the same forward profiles, with each dataset's mean input length as fitted on all rows
    # (a property of the benchmark, not of the systems): separates "unknown prompt lengths"
    # from "efficiencies that do not carry forward"
    fw_known, _ = score(with_dataset_lengths(fw_test, lengths), fw_profs,
                        workers=workers) if fw_test else ([], {})
    # the forward test's TTFT/TPOT rows again at each run's measured rate instead of at the
    # predicted operating point: near saturation a latency amplifies the capacity's error
    fw_at_rate, _ = score(with_dataset_lengths(
        [q for q in fw_test if q.subset == "latency" and under_limits(q)], fw_lengths),
        fw_profs, workers=workers, latency_at="rate")
    fit_scored, _ = score(with_dataset_lengths(queries, lengths), final, workers=workers)

    def coverage(items: list) -> float | None:
        if not items:
            return None
        inside = sum(1 for s in items if abs(s.log_ratio) <= Z80 * sigma_for(
            s.query, final.get(s.profile, final["*/*"])))
        return inside / len(items)

    llm_thr = [q for q in queries if q.model.is_llm and q.target == "tok_s"]
    res: dict[str, Any] = {
        "rows_total": len(rows), "rows_mapped": len(queries), "rows_skipped": skipped,
        "folds": [sorted(f) for f in split], "forward_round": forward,
        "forward_rows": {"train": len(fw_train), "test": len(fw_test)},
        "dataset_input_tokens": lengths, "dataset_input_tokens_forward": fw_lengths,
        # what the forward test's rows assumed: fitted on the older rows, else the prior
        "dataset_input_tokens_forward_used": {
            q.dataset: q.input_tokens for q in with_dataset_lengths(fw_test, fw_lengths)
            if q.input_assumed and q.dataset},
        "llm_throughput_rows_scored": len([s for s in fit_scored if s.query.model.is_llm
                                           and s.query.target == "tok_s"]),
        "llm_throughput_rows": len(llm_thr) + sum(v for k, v in skipped.items()
                                                  if "diffusion" not in k and "twin" not in k
                                                  and "duplicates" not in k),
        "seconds": round(time.time() - t0, 1),
        "subsets": {"cross_validated": subsets(cv_scored), "forward": subsets(fw_scored),
                    "forward_known_lengths": subsets(fw_known),
                    "forward_latency_at_measured_rate": subsets(fw_at_rate),
                    "in_sample": subsets(fit_scored), "spec_only": subsets(spec_scored)},
        "interval_coverage": {"cross_validated": coverage(cv_scored), "forward": coverage(fw_scored),
                              "forward_known_lengths": coverage(fw_known)},
        "spec_only": summary(spec_scored), "fitted_in_sample": summary(fit_scored),
        "cross_validated": summary(cv_scored), "forward": summary(fw_scored)}
    target = out or (user_dir() / "profiles.yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    import yaml
    target.write_text(yaml.safe_dump(profiles_to_yaml(final, {
        "fitted_from": str(from_csv), "rows": len(queries),
        "cv_median_ape": res["cross_validated"]["overall"].get("median_ape"),
        "forward_median_ape": res["forward"]["overall"].get("median_ape"),
        "dataset_input_tokens": lengths}), sort_keys=False))
    if report:
        report.write_text(json.dumps(res, indent=1, default=str))
    if as_json:
        print_json(res)
        return
    console.print(_subset_table(res, folds, forward))
    cov = res["interval_coverage"]
    console.print("80% interval coverage: " + ", ".join(
        f"{k.replace('_', ' ')} {v:.0%}" for k, v in cov.items() if v is not None)
        + f"; fitted mean input tokens: {lengths}; profiles written to {target}")


def _subset_table(res: dict[str, Any], folds: int, forward: str) -> Table:
    t = Table(title=f"median APE by subset ({res['rows_mapped']} rows mapped of "
                    f"{res['rows_total']}; CV = {folds} folds by hardware; forward = fit before "
                    f"{forward}, predict {forward})")
    for c in ("subset", "rows", "CV by hardware", "forward", "forward worst model",
              "forward worst hardware", "forward, known lengths", "in-sample"):
        t.add_column(c)
    subs = res["subsets"]
    names = sorted(set(subs["in_sample"]) | set(subs["forward"]))

    def pct(block: dict[str, Any] | None) -> str:
        v = (block or {}).get("median_ape")
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1%}"

    def worst(block: dict[str, Any] | None, key: str) -> str:
        w = (block or {}).get(key)
        return f"{w['name']} {w['median_ape']:.0%} ({w['rows']})" if w else "-"

    for n in names:
        fw = subs["forward"].get(n)
        t.add_row(n, str(subs["in_sample"].get(n, {}).get("rows", 0)),
                  pct(subs["cross_validated"].get(n)), pct(fw),
                  worst(fw, "worst_model"), worst(fw, "worst_hardware"),
                  pct(subs["forward_known_lengths"].get(n)), pct(subs["in_sample"].get(n)))
    at_rate = subs.get("forward_latency_at_measured_rate", {}).get("latency")
    if at_rate:
        t.add_row("latency at measured rate", str(at_rate["rows"]), "-", pct(at_rate),
                  worst(at_rate, "worst_model"), worst(at_rate, "worst_hardware"), "-", "-")
    return t


@app.command()
def graph(
    model: Path = typer.Argument(..., help="an .onnx file, or a packaged ONNX model name "
                                 "(airadar catalog packaged)"),
    hardware: str = typer.Option(..., "--hardware", "-H"),
    batch: str = typer.Option("1,8,32", help="comma-separated batch sizes to sweep"),
    dtype: str = typer.Option("fp32", help="format the graph computes in"),
    stack: str = typer.Option("onnxruntime", "--stack"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Estimate any ONNX model node by node (FLOPs and bytes by shape inference, roofline)."""
    from airadar.bench import packaged
    from airadar.catalog import resolve
    from airadar.catalog.loader import user_dir
    from airadar.perf.estimate import profile_kind
    from airadar.perf.graph import estimate_graph
    from airadar.perf.profiles import select_profile
    from airadar.specs.precision import Precision

    if str(model) in packaged.PACKAGED and packaged.PACKAGED[str(model)].fmt == "onnx":
        model = packaged.resolve(str(model), user_dir() / "models")
    hw = resolve.hardware(hardware)
    sizes = positive_numbers(batch, "--batch", integer=True)
    prof = select_profile(hw, Precision.parse(dtype), stack)
    results = [estimate_graph(model, hw=hw, profile=prof, batch=b, dtype=dtype) for b in sizes]
    if as_json:
        print_json({"model": str(model), "hardware": hw.id, "profile": prof.key,
                    "provenance": profile_kind(hw, prof)[0],
                    "profile_status": profile_kind(hw, prof)[1],
                    "sweep": [r.__dict__ for r in results]})
        return
    t = Table(title=f"{model.name} on {hw.id} ({dtype}, profile {prof.key})")
    for c in ("batch", "latency", "samples/s", "GFLOP", "MB moved", "compute/memory-bound nodes"):
        t.add_column(c, justify="right")
    for r in results:
        t.add_row(str(r.batch), ms(r.latency_s), fmt(r.throughput_samples_per_s),
                  fmt(r.flops / 1e9), fmt(r.bytes / 1e6),
                  f"{r.compute_bound_nodes}/{r.memory_bound_nodes}")
    console.print(t)


def _calibrate_store(store: str, out: Path | None, report: Path | None, as_json: bool) -> None:
    """Fit this host's CPU profile from its own measurements (leave one model out)."""

    import yaml

    from airadar.bench import host as host_mod
    from airadar.bench.store import Store, store_url
    from airadar.catalog.loader import user_dir
    from airadar.units import s_to_ms
    from airadar.validation.store_fit import (
        calibrate_host,
        points_from_store,
        profile_rows,
        to_json,
    )

    st = Store(store_url(store, user_dir()))
    base = Path(store).parent.parent.parent if "://" not in store else Path.cwd()
    points = points_from_store(st, base if base.exists() else Path.cwd())
    meas = host_mod.stored_measurement(st)
    when = (f"median of {meas['stored_runs']} micro-benchmarks stored with the runs"
            if meas else "measured now (no micro-benchmark in the store: airadar bench-host)")
    if meas is None:
        meas = host_mod.measure()
    host_id = host_mod.host_id(meas["cpu"])
    row = host_mod.host_row(meas, host_id)
    res = calibrate_host(points, row, host_id)
    home = user_dir()
    (home / "hardware").mkdir(parents=True, exist_ok=True)
    (home / "hardware" / "host.yaml").write_text(yaml.safe_dump([row], sort_keys=False))
    target = out or (home / "profiles.yaml")
    existing = yaml.safe_load(target.read_text()) if target.is_file() else None
    data = existing or {"meta": {}, "profiles": {}}
    data.setdefault("profiles", {}).update(profile_rows(res))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    if report:
        report.write_text(to_json(res))
    if as_json:
        import json
        print_json(json.loads(to_json(res)))
        return
    console.print(f"host {host_id}: measured {meas['peak_flops_fp32'] / 1e9:.0f} GFLOP/s fp32, "
                  f"{meas['mem_bandwidth_bytes_per_s'] / 1e9:.1f} GB/s ({when})")
    for stack, r in res["stacks"].items():
        cv = r["cross_validated"]
        src = ", ".join(f"{n} from {k}" for k, n in r["points_by_source"].items())
        if "served_on" in r:
            p = r["profile"]
            title = (f"{stack}: median APE on {r['spec_only']['points']} points ({src}); "
                     f"front end fitted on the {r['served_on']} engine profile: "
                     f"{s_to_ms(p.ovh_request_s):.1f} ms per request, "
                     f"{s_to_ms(p.ovh_token_s):.2f} ms per streamed token"
                     + (f", prefill at {p.ce_prefill:.3g} of peak" if "ce_prefill" in p.fitted
                        else ""))
            cols = ("metric", f"{r['served_on']} engine only", "fitted (in-sample)",
                    "cross-validated (leave one run out)")
        else:
            title = (f"{stack}: median APE on {r['spec_only']['points']} points ({src}; "
                     f"{len(cv['held_out_models'])} models, leave one model out)")
            cols = ("metric", "spec-only", "fitted (in-sample)", "cross-validated")
        t = Table(title=title)
        for c in cols:
            t.add_column(c)
        for k, name in (("ttft_median_ape", "TTFT"), ("tpot_median_ape", "decode step (TPOT)")):
            t.add_row(name, f"{r['spec_only'][k]:.1%}", f"{r['fitted_in_sample'][k]:.1%}",
                      f"{cv[k]:.1%}" if cv else "n/a (one run)")
        console.print(t)
    stacks = ", ".join(f"{r['key']}" for r in res["stacks"].values())
    console.print(f"profiles {stacks} -> {target}; hardware row -> "
                  f"{home / 'hardware' / 'host.yaml'} (use --hardware {host_id} --stack "
                  f"{' or '.join(res['stacks'])})")
