"""``airadar bench`` and ``airadar results list|show|export``."""

from __future__ import annotations

import csv
import json
import signal
import sys
from contextlib import nullcontext
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from airadar.cli.output import console, fmt, ms, positive_numbers, print_json
from airadar.cli.root import app, results_app
from airadar.errors import SpecError
from airadar.units import ms_to_s


def _store(store: str | None, *, must_exist: bool = False):  # type: ignore[no-untyped-def]
    """The result store; reading commands (``must_exist``) refuse a SQLite path with no file
    instead of creating an empty database at a mistyped path."""
    from airadar.bench.store import Store, store_url
    from airadar.catalog.loader import user_dir

    if must_exist and store and "://" not in store and not Path(store).is_file():
        raise SpecError("--store", store, "an existing result store (no file at this path; "
                                          "airadar bench creates one)")
    return Store(store_url(store, user_dir()))


@app.command()
def bench(
    backend: str = typer.Option(..., "--backend", "-b", help="onnxruntime, torch or llamacpp"),
    model: str = typer.Option(..., "--model", "-m", help=".onnx (onnxruntime); config.json, "
                              "catalog id or llama .gguf (torch); .gguf (llamacpp); or a "
                              "packaged model name (airadar catalog packaged)"),
    scenario: str = typer.Option("single-stream", help="single-stream, offline, server"),
    batch: str = typer.Option("1", help="batch sizes, comma-separated (offline / LLM)"),
    rate: str = typer.Option(None, help="server scenario: Poisson arrivals per second, or a "
                             "comma-separated sweep (ascending; stops when p99 breaks --slo-p99-ms)"),
    slo_p99_ms: float = typer.Option(None, "--slo-p99-ms",
                                     help="server scenario: p99 latency limit for the sweep"),
    input_tokens: int = typer.Option(128, "--input-tokens", "-i"),
    output_tokens: int = typer.Option(32, "--output-tokens", "-o"),
    precision: str = typer.Option("fp32", help="torch: fp32, bf16, fp16"),
    variant: str = typer.Option(None, help="onnxruntime: fp32, int8-dynamic, int8-static, "
                                "prune-magnitude, prune-2:4; torch: fp32, int8-dynamic, "
                                "prune-magnitude, prune-2:4; llamacpp: file, q8_0, q4_k_m, "
                                "q2_k (quality change measured)"),
    reference: str = typer.Option(None, "--reference", help="onnxruntime: measure quality "
                                  "against this model (path or packaged name) instead of the "
                                  "model as given"),
    quality: bool = typer.Option(True, "--quality/--no-quality",
                                 help="measure the variant's quality (perplexity / cosine)"),
    threads: int = typer.Option(None, help="intra-op threads (default: the library's)"),
    device: str = typer.Option("cpu", help="torch: cpu or cuda (onnxruntime uses CUDA when "
                               "its CUDA provider is present)"),
    idle_baseline: float = typer.Option(1.0, "--idle-baseline",
                                        help="seconds of idle power measured before the run "
                                             "(energy counters only)"),
    min_count: int = typer.Option(10),
    min_duration: float = typer.Option(2.0, "--min-duration", help="seconds per point"),
    warmup: int = typer.Option(2),
    store: str = typer.Option(None, "--store", help="SQLite path or database URL"),
    ray: str = typer.Option(None, "--ray", help="fleet bench: run on a node of the Ray cluster "
                            "at this ADDRESS (or auto) that advertises --hardware"),
    hardware: str = typer.Option(None, "--hardware", help="with --ray: the Ray custom resource "
                                 "of the node to run on (e.g. the host id bench-host measures)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Measure real inference on this machine (or, with --ray, on the fleet node that holds
    --hardware); every sample goes to the result store."""
    from airadar.bench import backends, loadgen
    from airadar.bench.energy import EnergyMeter
    from airadar.bench.environment import environment

    if ray or hardware:
        if not (ray and hardware):
            raise SpecError("--hardware" if ray else "--ray", None,
                            "--ray ADDRESS and --hardware ID together (a fleet bench)")
        if not store:
            raise SpecError("--store", None, "a store every node can reach with --ray "
                            "(postgresql://...)")
        from airadar.distributed.fleet import bench_on

        argv = ["-b", backend, "-m", model, "--scenario", scenario, "--batch", batch,
                "-i", str(input_tokens), "-o", str(output_tokens), "--precision", precision,
                "--device", device, "--idle-baseline", str(idle_baseline), "--min-count",
                str(min_count), "--min-duration", str(min_duration), "--warmup", str(warmup),
                "--store", store, "--quality" if quality else "--no-quality"]
        for flag, val in (("--rate", rate), ("--slo-p99-ms", slo_p99_ms), ("--variant", variant),
                          ("--reference", reference), ("--threads", threads)):
            if val is not None:
                argv += [flag, str(val)]
        out = bench_on(ray, hardware, argv)
        if as_json:
            print_json(out)
        else:
            console.print(f"on {hardware} (node {out['node']['ray_node_id'][:12]}, "
                          f"{out['node']['hostname']}):")
            _print_bench(out)
        return

    if scenario not in ("single-stream", "offline", "server"):
        raise SpecError("--scenario", scenario, "single-stream, offline or server")
    batches = positive_numbers(batch, "--batch", integer=True)
    rates = positive_numbers(rate, "--rate", integer=False) if rate is not None else None
    if scenario == "server" and not rates:
        raise SpecError("--rate", rate, "a rate > 0 (or a sweep) for the server scenario")
    if slo_p99_ms is not None and slo_p99_ms <= 0:
        raise SpecError("--slo-p99-ms", slo_p99_ms, "a latency > 0 ms")
    if device not in ("cpu", "cuda"):
        raise SpecError("--device", device, "cpu or cuda")
    if idle_baseline < 0:
        raise SpecError("--idle-baseline", idle_baseline, "seconds >= 0")
    for name, v in (("--input-tokens", input_tokens), ("--output-tokens", output_tokens),
                    ("--min-count", min_count)):
        if v < 1:
            raise SpecError(name, v, "an integer >= 1")
    be = backends.get(backend)
    with console.status("preparing the model (variants and quality take a while)",
                        spinner="dots") if not as_json and sys.stderr.isatty() else nullcontext():
        runner = be.prepare(model, threads=threads, settings={
            "precision": precision, "variant": variant, "measure_quality": quality,
            "reference": reference,
            "device": device,
            "input_tokens": input_tokens, "output_tokens": output_tokens})
    if runner.kind == "llm" and scenario == "server":
        raise SpecError("--scenario", scenario, "single-stream or offline for an LLM (prefill "
                        "and decode timed per batch; Poisson serving is `airadar simulate`)")
    st = _store(store)
    settings = {"batches": batches, "rate": rates, "slo_p99_ms": slo_p99_ms,
                "input_tokens": input_tokens,
                "output_tokens": output_tokens, "min_count": min_count,
                "min_duration_s": min_duration, "warmup": warmup, **runner.description}
    run_id = st.start_run(backend=backend, model=model, scenario=scenario if runner.kind ==
                          "graph" else "llm", settings=settings, environment=environment(threads))
    budget = loadgen.Budget(warmup=warmup, min_count=min_count, min_duration_s=min_duration)
    on_gpu = device == "cuda" or "CUDAExecutionProvider" in (
        runner.description.get("providers") or [])[:1]
    meter = EnergyMeter(gpu_index=0 if on_gpu else None, idle_s=idle_baseline)
    status = "complete"
    res: dict = {}
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  TextColumn("{task.completed} samples"), TimeElapsedColumn(),
                  console=console, transient=True, disable=as_json or not sys.stderr.isatty()
                  ) as prog:
        task = prog.add_task(f"{backend} {scenario}", total=None)
        prev_term = signal.signal(signal.SIGTERM, _term_as_interrupt)
        try:
            if runner.kind == "llm":
                res = loadgen.run_llm(runner, st, run_id, batches=batches,
                                      input_tokens=input_tokens, output_tokens=output_tokens,
                                      budget=budget, meter=meter,
                                      progress=lambda n: prog.update(task, completed=n))
            else:
                res = loadgen.run_graph(runner, st, run_id, scenario=scenario, batches=batches,
                                        rate=rates, budget=budget, meter=meter,
                                        slo_p99_s=ms_to_s(slo_p99_ms) if slo_p99_ms else None,
                                        progress=lambda n: prog.update(task, completed=n))
        except KeyboardInterrupt:
            status = "interrupted"
        finally:
            signal.signal(signal.SIGTERM, prev_term)
            st.finish_run(run_id, status)
    out = {"run_id": run_id, "status": status, "store": st.url, "settings": settings,
           "results": res}
    if as_json:
        print_json(out)
    else:
        _print_bench(out)
    if status == "interrupted":
        raise typer.Exit(130)


def _print_bench(out: dict) -> None:
    settings, res = out["settings"], out["results"]
    console.print(f"run {out['run_id']} ({out['status']}) stored in {out['store']}")
    if out["status"] == "interrupted":
        console.print(f"interrupted: the samples measured so far are kept; "
                      f"airadar results show {out['run_id']}")
    q = settings.get("quality")
    if q:
        console.print(f"quality: {_quality_line(q)}")
    for k, v in res.items():
        if k == "energy":
            per = (f", {v['joules_per_output_token']:.3g} J/output token"
                   if "joules_per_output_token" in v else
                   f", {v['joules_per_sample']:.3g} J/sample" if "joules_per_sample" in v else "")
            total = f"{v['joules']:.3g} J{per}; " if v.get("joules") is not None else ""
            console.print(f"energy: {total}{v.get('note')}")
        elif k == "server_sweep":
            slo = f"{settings.get('slo_p99_ms'):g} ms" if settings.get("slo_p99_ms") else ""
            if v.get("first_rate_breaking_slo") is not None and v.get("max_rate_within_slo") is None:
                console.print(f"sweep: p99 above {slo} already at "
                              f"{v['first_rate_breaking_slo']:g} req/s")
            elif v.get("max_rate_within_slo") is not None:
                brk = v.get("first_rate_breaking_slo")
                console.print(f"sweep: p99 within {slo} up to {v['max_rate_within_slo']:g} "
                              "req/s; " + (f"broken at {brk:g} req/s" if brk else
                                           "no rate tried broke it"))
        elif "ttft_s" in v:
            flag = " [yellow](spread too wide)[/]" if v["tpot_s"].get("spread_too_wide") else ""
            console.print(f"{k}: TTFT p50 {ms(v['ttft_s']['p50'])} p99 {ms(v['ttft_s']['p99'])}; "
                          f"TPOT p50 {ms(v['tpot_s']['p50'])}; decode "
                          f"{fmt(v['decode_tokens_per_s'], 'tok/s')}{flag}")
        else:
            flag = " [yellow](spread too wide)[/]" if v.get("spread_too_wide") else ""
            console.print(f"{k}: latency p50 {ms(v['p50'])} p90 {ms(v['p90'])} p99 "
                          f"{ms(v['p99'])} ({v['count']} samples){flag}")


def _term_as_interrupt(signum: int, frame: object) -> None:
    """SIGTERM (a timeout, a job scheduler) stops a bench like Ctrl-C: samples kept."""
    raise KeyboardInterrupt


def _quality_line(q: dict) -> str:
    if "perplexity" in q:
        line = f"perplexity {q['perplexity']:.2f} on {q.get('tokens_scored')} corpus tokens"
        if "perplexity_reference" in q:
            line += (f" vs {q['perplexity_reference']:.2f} for {q.get('reference')} "
                     f"(x{q['perplexity_ratio']:.3f})")
        return line
    if "cosine" in q:
        return f"cosine {q['cosine']:.4f} vs {q.get('reference', 'the unmodified model')} ({q['method']})"
    return str(q.get("method"))


@app.command("bench-host")
def bench_host(store: str = typer.Option(None, "--store", help="SQLite path or database URL"),
               threads: int = typer.Option(None, help="threads (default: the library's)"),
               seconds: float = typer.Option(2.0, help="seconds per micro-benchmark"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Measure this machine's FP32 matmul rate and memory bandwidth and keep them in the store
    (calibrate --from-store uses them)."""
    from airadar.bench import host

    if seconds <= 0:
        raise SpecError("--seconds", seconds, "a duration > 0")
    m = host.measure(threads, seconds)
    st = _store(store)
    rid = host.store_measurement(st, m)
    if as_json:
        print_json({"run_id": rid, "store": st.url, **m})
        return
    console.print(f"run {rid}: {m['cpu']}, {m['threads']} threads: "
                  f"{m['peak_flops_fp32'] / 1e9:.0f} GFLOP/s fp32 matmul, "
                  f"{m['mem_bandwidth_bytes_per_s'] / 1e9:.1f} GB/s copy; stored in {st.url}")


@results_app.command("list")
def results_list(store: str = typer.Option(None, "--store"),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """Runs in the result store."""
    runs = _store(store, must_exist=True).list_runs()
    if as_json:
        print_json(runs)
        return
    t = Table(title=f"{len(runs)} runs")
    for c in ("id", "host", "backend", "model", "variant", "scenario", "samples", "status",
              "quality", "cpu"):
        t.add_column(c)
    for r in runs:
        q = r["settings"].get("quality") or {}
        qs = (f"PPL {q['perplexity']:.2f}" + (f" (x{q['perplexity_ratio']:.2f})"
                                              if "perplexity_ratio" in q else "")
              if "perplexity" in q else f"cos {q['cosine']:.4f}" if "cosine" in q else "")
        t.add_row(str(r["id"]), run_host(r), r["backend"], str(r["model"])[-40:],
                  str(r["settings"].get("variant") or ""), r["scenario"], str(r["samples"]),
                  r["status"], qs, str(r["environment"].get("cpu")))
    console.print(t)


def run_host(r: dict) -> str:
    """Where a run ran: the fleet hardware id it was scheduled on, else the host name."""
    env = r["environment"]
    return str((env.get("fleet") or {}).get("hardware") or env.get("host") or "")


@results_app.command("show")
def results_show(run_id: int = typer.Argument(...), store: str = typer.Option(None, "--store")
                 ) -> None:
    """One run with its environment and sample summary."""
    from airadar.bench.loadgen import summarise

    st = _store(store, must_exist=True)
    runs = {r["id"]: r for r in st.list_runs()}
    if run_id not in runs:
        raise SpecError("RUN_ID", run_id, f"one of the stored runs ({len(runs)} in {st.url})")
    samples = st.get_samples(run_id)
    groups: dict[str, list[float]] = {}
    for s in samples:
        groups.setdefault(f"{s['kind']} batch {s['batch']}", []).append(s["value"])
    print_json({**runs[run_id], "summary": {k: summarise(v) for k, v in groups.items()}})


@results_app.command("export")
def results_export(out: Path = typer.Argument(..., help=".csv, .json or .parquet"),
                   store: str = typer.Option(None, "--store")) -> None:
    """Every sample with its run's fields."""
    st = _store(store, must_exist=True)
    rows = []
    for r in st.list_runs():
        for s in st.get_samples(r["id"]):
            rows.append({"run_id": r["id"], "backend": r["backend"], "model": r["model"],
                         "scenario": r["scenario"], "kind": s["kind"], "value_s": s["value"],
                         "batch": s["batch"], "tokens": s["tokens"],
                         "cpu": r["environment"].get("cpu")})
    if out.suffix == ".json":
        out.write_text(json.dumps(rows, indent=1))
    elif out.suffix == ".csv":
        with out.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["run_id"])
            w.writeheader()
            w.writerows(rows)
    elif out.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise SpecError("OUT", str(out), ".csv or .json; Parquet needs pyarrow: "
                                             "pip install 'airadar[bench]'") from None
        pq.write_table(pa.Table.from_pylist(rows), str(out))
    else:
        raise SpecError("OUT", str(out), "a .csv, .json or .parquet path")
    console.print(f"{len(rows)} samples -> {out}")
