"""``airadar simulate``."""

from __future__ import annotations

import math
from pathlib import Path

import typer
from rich.table import Table

from airadar.cli.output import console, fmt, ms, print_json
from airadar.cli.root import app
from airadar.errors import InfeasibleError, SpecError
from airadar.units import ms_to_s


@app.command()
def simulate(
    model: str = typer.Option(..., "--model", "-m"),
    hardware: str = typer.Option(..., "--hardware", "-H"),
    count: int = typer.Option(1, "--count", "-n", help="devices per replica (tensor parallel)"),
    precision: str = typer.Option("bf16"),
    stack: str = typer.Option(None, "--stack"),
    replicas: int = typer.Option(1, "--replicas"),
    router: str = typer.Option("round-robin", help="round-robin, random or least-loaded"),
    preemption: str = typer.Option("none", help="none (book full length) or recompute"),
    prefill_replicas: int = typer.Option(0, "--prefill-replicas",
                                         help="disaggregated: replicas of a prefill-only pool"),
    kv_transfer_ms: float = typer.Option(None, "--kv-transfer-ms",
                                         help="disaggregated: KV hand-off time (default: KV bytes "
                                              "over the device's scale-out link)"),
    rate: float = typer.Option(None, "--rate", help="mean arrival rate, requests/s"),
    requests: int = typer.Option(10_000, "--requests", help="requests to simulate"),
    arrivals_kind: str = typer.Option("poisson", "--arrivals", help="poisson, gamma, daily"),
    burstiness: float = typer.Option(1.0, help="gamma: coefficient of variation of gaps"),
    daily_curve: str = typer.Option(None, help="24 comma-separated fractions of peak"),
    trace: Path = typer.Option(None, "--trace", help="replay a CSV/JSONL trace instead"),
    input_tokens: str = typer.Option("512", "--input-tokens", "-i",
                                     help="N, uniform:LO:HI, lognormal:MEAN:SIGMA, empirical:FILE"),
    output_tokens: str = typer.Option("128", "--output-tokens", "-o"),
    max_batch: int = typer.Option(None, "--max-batch"),
    prefill_chunk: int = typer.Option(2048, "--prefill-chunk",
                                      help="prompt tokens per step (chunked prefill budget)"),
    ttft_slo_ms: float = typer.Option(None, "--ttft-slo-ms"),
    tpot_slo_ms: float = typer.Option(None, "--tpot-slo-ms"),
    e2e_slo_ms: float = typer.Option(None, "--e2e-slo-ms"),
    seed: int = typer.Option(0, "--seed"),
    timeline_every: float = typer.Option(0.0, "--timeline-every",
                                         help="sample batch size and KV occupancy every N "
                                              "simulated seconds (in --json as 'timeline')"),
    trace_out: Path = typer.Option(None, "--trace-out", help="per-request records (.csv/.parquet)"),
    as_json: bool = typer.Option(False, "--json"),
    profiles: Path = typer.Option(None, "--profiles",
                                  help="a profiles file (calibrate --out) over the shipped ones"),
) -> None:
    """Simulate serving replicas request by request (continuous batching, KV capacity)."""
    import numpy as np

    from airadar.catalog import resolve
    from airadar.perf.profiles import select_profile, use_profiles_file

    if profiles is not None:
        use_profiles_file(profiles)
    from airadar.perf.roofline import Deployment
    from airadar.sim.simulator import SimConfig, replica_model
    from airadar.sim.simulator import simulate as run
    from airadar.sim.workload import Requests, arrivals, lengths, read_trace
    from airadar.specs.precision import Precision, Sparsity

    if trace is None and (rate is None or rate <= 0):
        raise SpecError("--rate", rate, "a rate > 0 requests/s (or --trace FILE)")
    if requests < 1:
        raise SpecError("--requests", requests, "an integer >= 1")
    if count < 1:
        raise SpecError("--count", count, "an integer >= 1")
    if prefill_chunk < 1:
        raise SpecError("--prefill-chunk", prefill_chunk, "an integer >= 1")
    if max_batch is not None and max_batch < 1:
        raise SpecError("--max-batch", max_batch, "an integer >= 1")
    if timeline_every < 0 or not math.isfinite(timeline_every):
        raise SpecError("--timeline-every", timeline_every, "a number of seconds >= 0 (0 = off)")
    if trace_out is not None and not trace_out.parent.is_dir():
        raise SpecError("--trace-out", str(trace_out),
                        f"a file in an existing folder ({trace_out.parent} does not exist)")
    spec = resolve.model(model)
    if not spec.is_llm:
        raise SpecError("--model", spec.id, "an LLM (the simulator serves token streams)")
    hw = resolve.hardware(hardware)
    dep = Deployment(model=spec, hw=hw, precision=Precision.parse(precision), sparsity=Sparsity(),
                     tp=count, pp=1)
    prof = select_profile(hw, dep.precision, stack)
    rng = np.random.default_rng(seed)
    if trace is not None:
        req = read_trace(trace)
    else:
        curve = None
        if daily_curve:
            try:
                curve = tuple(float(x) for x in daily_curve.split(","))
            except ValueError:
                raise SpecError("--daily-curve", daily_curve, "24 comma-separated numbers") from None
        arr = arrivals(kind=arrivals_kind, rate_rps=rate, n=requests, rng=rng,
                       burstiness=burstiness, daily_curve=curve)
        req = Requests(arrival_s=arr, input_tokens=lengths(input_tokens, requests, rng,
                                                           name="--input-tokens"),
                       output_tokens=lengths(output_tokens, requests, rng, name="--output-tokens"))
    spec.check_context(input_tokens=float(req.input_tokens.mean()),
                       output_tokens=float(req.output_tokens.mean()),
                       field="--trace" if trace is not None else "--input-tokens")
    rm = replica_model(dep, prof, mean_input=float(req.input_tokens.mean()),
                       mean_output=float(req.output_tokens.mean()), max_batch=max_batch,
                       prefill_chunk_tokens=prefill_chunk)
    if preemption not in ("none", "recompute"):
        raise SpecError("--preemption", preemption, "none or recompute")
    if prefill_replicas < 0:
        raise SpecError("--prefill-replicas", prefill_replicas, "an integer >= 0")
    transfer = 0.0
    if prefill_replicas:
        from airadar.perf.memory import kv_bytes_per_token
        mean_in = float(req.input_tokens.mean())
        transfer = ms_to_s(kv_transfer_ms) if kv_transfer_ms is not None else (
            kv_bytes_per_token(model=spec, precision=dep.precision, context=mean_in) * mean_in
            / max(hw.scale_out_bandwidth_bytes_per_s, 1e8))
    cfg = SimConfig(replica=rm, replicas=replicas, router=router, seed=seed,
                    kv_policy="recompute" if preemption == "recompute" else "reserve",
                    prefill_replica=rm if prefill_replicas else None,
                    prefill_replicas=prefill_replicas, kv_transfer_s=transfer,
                    timeline_every_s=max(timeline_every, 0.0),
                    ttft_slo_s=ms_to_s(ttft_slo_ms) if ttft_slo_ms else None,
                    tpot_slo_s=ms_to_s(tpot_slo_ms) if tpot_slo_ms else None,
                    e2e_slo_s=ms_to_s(e2e_slo_ms) if e2e_slo_ms else None,
                    provenance={"step_times": f"perf roofline x profile {prof.key}",
                                "replica": f"{count}x {hw.id} {precision}"})
    res = run(req, cfg, trace_out=trace_out)
    if res["dropped"] and res["dropped"] == res["requests"]:
        raise InfeasibleError(f"every one of the {res['requests']:,} requests was dropped: none "
                              f"fits the KV capacity of a replica ({count}x {hw.id}); shorten "
                              "--input-tokens/--output-tokens or add devices (--count)")
    if as_json:
        print_json(res)
        return
    t = Table(title=f"{res['requests']:,} requests on {replicas} x ({count}x {hw.id}) {spec.id}")
    t.add_column("metric")
    t.add_column("p50", justify="right")
    t.add_column("p90", justify="right")
    t.add_column("p99", justify="right")
    for k in ("ttft_s", "tpot_s", "e2e_s", "queue_s"):
        v = res[k]
        t.add_row(k[:-2].upper(), ms(v["p50"]), ms(v["p90"]), ms(v["p99"]))
    console.print(t)
    if res["preemptions"]:
        console.print(f"preemptions (recompute): {res['preemptions']:,}")
    if res["timeline"]:
        kv = max(x["kv_fraction"] for x in res["timeline"])
        console.print(f"timeline: {len(res['timeline'])} samples; peak KV occupancy {kv:.0%}, "
                      f"peak batch {max(x['batch'] for x in res['timeline'])}")
    console.print(f"throughput {fmt(res['throughput_output_tokens_per_s'], 'tok/s')}, goodput "
                  f"{fmt(res['goodput_requests_per_s'], 'req/s')}, mean batch "
                  f"{res['mean_batch']:.1f}, dropped {res['dropped']}, simulated "
                  f"{res['wall_s']:.0f} s in {res['runtime_s']:.2f} s")
