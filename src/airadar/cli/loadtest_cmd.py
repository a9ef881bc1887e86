"""``airadar loadtest``: measure a live OpenAI-compatible endpoint under load."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from airadar.cli.output import console, err_console, fmt, ms, positive_numbers, print_json
from airadar.cli.root import app
from airadar.errors import SpecError
from airadar.units import ms_to_s, s_to_ms


@app.command()
def loadtest(
    url: str = typer.Option(..., "--url", help="server base URL (http://host:port), .../v1, or "
                            "the endpoint URL"),
    model: str = typer.Option(..., "--model", "-m", help="the model name the server serves"),
    endpoint: str = typer.Option("completions", "--endpoint", help="completions or chat"),
    rate: str = typer.Option(None, "--rate", help="open loop: requests/s, or an ascending "
                             "comma-separated sweep"),
    concurrency: str = typer.Option(None, "--concurrency", "-c",
                                    help="closed loop: clients, or a comma-separated sweep"),
    arrivals_kind: str = typer.Option("poisson", "--arrivals",
                                      help="open loop: poisson, constant or gamma"),
    burstiness: float = typer.Option(1.0, help="gamma: coefficient of variation of the gaps"),
    trace: Path = typer.Option(None, "--trace", help="replay a trace (the `simulate` format: "
                               "CSV/JSONL with arrival_s, input_tokens, output_tokens)"),
    requests: int = typer.Option(100, "--requests", "-n", help="measured requests per load point"),
    input_tokens: str = typer.Option("128", "--input-tokens", "-i",
                                     help="prompt length in words (about one token each): N, "
                                          "uniform:LO:HI, lognormal:MEAN:SIGMA, empirical:FILE"),
    output_tokens: str = typer.Option("64", "--output-tokens", "-o",
                                      help="max_tokens per request (same forms)"),
    prompts: Path = typer.Option(None, "--prompts", help="a file of prompts, one per line "
                                 "(or JSONL with 'prompt'), used in turn"),
    warmup: int = typer.Option(1, "--warmup", help="requests sent first, one at a time, excluded"),
    max_duration: float = typer.Option(600.0, "--max-duration",
                                       help="seconds of sending per load point at most"),
    timeout: float = typer.Option(120.0, "--timeout", help="seconds per request at most"),
    max_inflight: int = typer.Option(512, "--max-inflight", help="open loop: requests in flight "
                                     "at most (a later send is late, and the result says so)"),
    ttft_p99_ms: float = typer.Option(None, "--ttft-p99-ms", help="SLO: p99 TTFT limit"),
    tpot_p99_ms: float = typer.Option(None, "--tpot-p99-ms", help="SLO: p99 TPOT limit"),
    e2e_slo_ms: float = typer.Option(None, "--e2e-slo-ms", help="SLO for goodput: end-to-end"),
    refine: int = typer.Option(2, "--refine", help="rate sweep with limits: bisection steps "
                               "between the last rate that met them and the first that broke"),
    tokenizer: str = typer.Option(None, "--tokenizer", help="count tokens on the client where "
                                  "the server sends no usage: a .gguf, a packaged model name "
                                  "(smollm2-135m) or a tokenizer.json"),
    ignore_eos: bool = typer.Option(True, "--ignore-eos/--no-ignore-eos",
                                    help="ask the server to ignore EOS (dropped if it refuses)"),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env",
                                    help="environment variable holding the API key (sent as a "
                                         "Bearer token; never stored or printed)"),
    deployment: str = typer.Option(None, "--deployment", help="what serves the endpoint, for "
                                   "predicted vs measured: hardware=ID,count=N,precision=P,"
                                   "stack=S[,model=CATALOG_ID][,max_batch=B]"),
    description: str = typer.Option(None, "--description", help="free text kept with the run"),
    seed: int = typer.Option(0, "--seed"),
    store: str = typer.Option(None, "--store", help="SQLite path or database URL"),
    html: Path = typer.Option(None, "--html", help="write a self-contained HTML page here"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Measure a live OpenAI-compatible endpoint: TTFT, ITL, TPOT, end-to-end, throughput and
    goodput under open- or closed-loop load; each request goes to the result store."""
    import numpy as np

    from airadar.bench import loadtest as lt
    from airadar.bench.environment import environment
    from airadar.bench.openai_stream import endpoint_url
    from airadar.cli.bench_cmd import _store
    from airadar.sim.workload import arrivals, lengths, read_trace

    target_url = endpoint_url(url, endpoint)
    modes = sum(x is not None for x in (rate, concurrency, trace))
    if modes > 1:
        raise SpecError("--rate/--concurrency/--trace", None, "at most one of them")
    rates = positive_numbers(rate, "--rate", integer=False) if rate is not None else None
    concs = positive_numbers(concurrency, "--concurrency", integer=True) if concurrency else None
    if modes == 0:
        concs = [1]
    if arrivals_kind not in ("poisson", "constant", "gamma"):
        raise SpecError("--arrivals", arrivals_kind, "poisson, constant or gamma")
    for name, v in (("--requests", requests), ("--warmup", warmup + 1), ("--refine", refine + 1)):
        if v < 1:
            raise SpecError(name, v, "an integer >= 1" if name == "--requests" else ">= 0")
    for name, fv in (("--timeout", float(timeout)), ("--burstiness", float(burstiness))):
        if not fv > 0:
            raise SpecError(name, fv, "a number > 0")
    slo = {}
    for name, lim, key in (("--ttft-p99-ms", ttft_p99_ms, "ttft_slo_s"),
                           ("--tpot-p99-ms", tpot_p99_ms, "tpot_slo_s"),
                           ("--e2e-slo-ms", e2e_slo_ms, "e2e_slo_s")):
        if lim is not None and not lim > 0:
            raise SpecError(name, lim, "a latency > 0 ms")
        slo[key] = ms_to_s(lim) if lim is not None else None
    bounds = lt.Bounds(max_duration_s=max_duration, max_inflight=max_inflight, warmup=warmup)
    desc = None
    if deployment:
        from airadar.validation.loadtest_predict import parse_deployment

        desc = parse_deployment(deployment, default_model=model)
    prompt_list = _read_prompts(prompts) if prompts else None
    counter = None
    if tokenizer:
        from airadar.bench.token_count import load_counter
        from airadar.catalog.loader import user_dir

        counter = load_counter(tokenizer, user_dir() / "models")
    headers = {}
    key = os.environ.get(api_key_env, "")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    elif api_key_env != "OPENAI_API_KEY":
        raise SpecError("--api-key-env", api_key_env, "the name of a set environment variable")
    target = lt.Target(url=target_url, kind=endpoint, model=model, headers=headers,
                       ignore_eos=ignore_eos, timeout_s=timeout)
    caps = lt.probe(target)  # a dead endpoint or an error status stops here, in one line
    target = dataclasses.replace(target, ignore_eos=caps["ignore_eos"],
                                 include_usage=caps["include_usage"])
    st = _store(store)
    env = environment(None)
    common = {**target.describe(), "url": _public_url(target_url), "probe": caps,
              "deployment": desc.as_dict() if desc else None, "description": description,
              "client_host": socket.gethostname(), "requests": requests,
              "input_tokens": input_tokens, "output_tokens": output_tokens, "seed": seed,
              "prompts_file": str(prompts) if prompts else None, "warmup": warmup,
              "tokenizer": tokenizer,
              "max_duration_s": max_duration, **slo}

    def plan(load_rate: float | None, k: int) -> list[lt.Planned]:
        if trace is not None:
            tr = read_trace(trace)
            return lt.plan_requests(input_words=tr.input_tokens.tolist(),
                                    output_tokens=tr.output_tokens.tolist(),
                                    arrivals_s=tr.arrival_s.tolist(), prompts=prompt_list,
                                    seed=seed, count_tokens=counter)
        rng = np.random.default_rng(seed + k)
        ins = lengths(input_tokens, requests, rng, name="--input-tokens")
        outs = lengths(output_tokens, requests, rng, name="--output-tokens")
        arr = (arrivals(kind=arrivals_kind, rate_rps=load_rate, n=requests, rng=rng,
                        burstiness=burstiness).tolist() if load_rate is not None else None)
        return lt.plan_requests(input_words=ins.tolist(), output_tokens=outs.tolist(),
                                arrivals_s=arr, prompts=prompt_list, seed=seed + k,
                                count_tokens=counter)

    points: list[dict[str, Any]] = []
    group: list[int] = []
    interrupted = False
    prev_term = signal.signal(signal.SIGTERM, _term_as_interrupt)

    def run_point(load: dict[str, Any], planned: list[lt.Planned]) -> dict[str, Any]:
        nonlocal interrupted
        if interrupted:
            raise _Stop
        rid = st.start_run(backend="openai-http", model=model, scenario="loadtest",
                           settings={**common, "load": load, "group": group[0] if group else None},
                           environment=env)
        group.append(rid)

        def keep(rec: Any) -> None:
            st.add_sample(rid, kind="request", value=rec.e2e_s if rec.ok else None,
                          tokens=rec.output_tokens, extra={**rec.as_dict(), "ok": rec.ok})

        run = lt.Run()
        with _progress(as_json) as prog:
            task = prog.add_task(lt.load_label(load), total=len(planned))
            failed = 0

            def tick(done: int, total: int) -> None:
                nonlocal failed
                failed = sum(1 for r in run.records if not r.ok)
                prog.update(task, completed=done,
                            description=f"{lt.load_label(load)}  failed {failed}")

            lt.run(target, planned, concurrency=load.get("concurrency"), bounds=bounds, out=run,
                   on_record=keep, progress=tick, count_tokens=counter)
        st.finish_run(rid, run.stopped)
        s = lt.summarise_run(run.records, **slo)
        s.update({"run_id": rid, "load": load, "status": run.stopped})
        if desc is not None:
            s["predicted"] = _predict(desc, run.records, load, slo)
        points.append({"load": load, "summary": s, "records": run.records})
        if run.stopped == "interrupted":
            interrupted = True
        return s

    sweep = None
    try:
        if rates is not None:
            if len(rates) == 1 and not (slo["ttft_slo_s"] or slo["tpot_slo_s"]):
                run_point({"shape": arrivals_kind, "rate": rates[0], "burstiness": burstiness},
                          plan(rates[0], 0))
            else:
                sweep = lt.sweep_rates(
                    rates, lambda r: run_point({"shape": arrivals_kind, "rate": r,
                                                "burstiness": burstiness}, plan(r, 0)),
                    ttft_slo_s=slo["ttft_slo_s"], tpot_slo_s=slo["tpot_slo_s"], refine=refine)
        elif trace is not None:
            run_point({"shape": "trace", "trace": str(trace)}, plan(None, 0))
        else:
            for c in concs or [1]:
                run_point({"shape": "closed", "concurrency": c}, plan(None, 0))
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, prev_term)
    if not points:
        raise typer.Exit(130)
    result = _result(points, sweep, common, st.public_url)
    if html is not None:
        from airadar.report.loadtest_html import render

        html.write_text(render(result, [(p["load"], p["records"]) for p in points]),
                        encoding="utf-8")
        result["html"] = str(html)
    if as_json:
        print_json(result)
    else:
        _print(result)
    if interrupted:
        raise typer.Exit(130)
    if any(s["failed"] for s in result["points"]):
        raise typer.Exit(1)


class _Stop(Exception):
    """Ctrl-C during a sweep: stop before the next load point."""


def _term_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _public_url(u: str) -> str:
    """The URL without credentials or query (either may carry a key)."""
    p = urlsplit(u)
    host = p.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if p.port:
        netloc += f":{p.port}"
    return urlunsplit((p.scheme, netloc, p.path, "", ""))


def _read_prompts(path: Path) -> list[str]:
    try:
        lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError("--prompts", str(path), f"a readable UTF-8 text file ({exc})") from None
    out = []
    for i, line in enumerate(lines, 1):
        if path.suffix == ".jsonl":
            try:
                out.append(str(json.loads(line)["prompt"]))
            except (json.JSONDecodeError, KeyError, TypeError):
                raise SpecError(f"--prompts ({path}, line {i})", line[:60],
                                'a JSON object with "prompt"') from None
        else:
            out.append(line)
    if not out:
        raise SpecError("--prompts", str(path), "at least one prompt")
    return out


def _progress(as_json: bool) -> Progress:
    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                    TextColumn("{task.completed}/{task.total} requests"), TimeElapsedColumn(),
                    console=err_console, transient=True,
                    disable=as_json or not sys.stderr.isatty())


def _predict(desc: Any, records: list[Any], load: dict[str, Any], slo: dict[str, Any]
             ) -> dict[str, Any]:
    import numpy as np

    from airadar.validation.loadtest_predict import predict

    ok = [r for r in records if r.ok and not r.warmup]
    if not ok:
        return {"error": "no completed request to compare"}
    closed = load["shape"] == "closed"
    arr = np.array([r.sent_at_s if closed else r.scheduled_at_s for r in ok])
    ins = np.array([r.input_tokens or r.prompt_words for r in ok])
    outs = np.array([r.output_tokens for r in ok])
    res = predict(desc, arrival_s=arr, input_tokens=ins, output_tokens=outs, **slo)
    res.pop("timeline", None)
    res["arrivals"] = ("the moments the client sent each request (closed loop)" if closed
                       else "the scheduled arrival times")
    return res


def _result(points: list[dict[str, Any]], sweep: dict[str, Any] | None, common: dict[str, Any],
            store_url: str) -> dict[str, Any]:
    """The contract's fields come from the reported point: the highest rate within the SLO
    for an SLO search, else the last load point; every point is under ``points``."""
    from airadar.validation.loadtest_predict import compare

    summaries = [p["summary"] for p in points]
    main = summaries[-1]
    if sweep is not None and sweep.get("max_rate_within_slo") is not None:
        main = next(s for s in summaries if s["load"].get("rate") == sweep["max_rate_within_slo"])
    out = {**main}
    if "predicted" in main and "error" not in main["predicted"]:
        out["predicted_vs_measured"] = compare(main, main["predicted"])
    out.update({"model": common["model"], "url": common["url"], "endpoint": common["endpoint"],
                "probe": common["probe"], "deployment": common["deployment"],
                "client_host": common["client_host"], "description": common["description"],
                "store": store_url,
                "points": [{k: v for k, v in s.items()} for s in summaries]})
    if sweep is not None:
        out["sweep"] = {k: v for k, v in sweep.items() if k != "points"}
    return out


def _print(res: dict[str, Any]) -> None:
    from airadar.bench.loadtest import load_label

    pts = res["points"]
    t = Table(title=f"{res['model']} at {res['url']}")
    for c in ("load", "done/sent", "TTFT p50", "TTFT p99", "ITL p50", "TPOT p50", "TPOT p99",
              "E2E p99", "tok/s", "req/s", "goodput"):
        t.add_column(c, justify="left" if c == "load" else "right")
    for s in pts:
        t.add_row(load_label(s["load"]), f"{s['completed']}/{s['requests']}",
                  ms(s["ttft_s"]["p50"]), ms(s["ttft_s"]["p99"]), ms(s["itl_s"]["p50"]),
                  ms(s["tpot_s"]["p50"]), ms(s["tpot_s"]["p99"]), ms(s["e2e_s"]["p99"]),
                  fmt(s["throughput_output_tokens_per_s"]),
                  fmt(s["throughput_requests_per_s"]), fmt(s["goodput_requests_per_s"]))
    console.print(t)
    sw = res.get("sweep")
    if sw:
        lim = " and ".join(f"{name} p99 <= {s_to_ms(sw[k]):g} ms" for k, name in
                           (("ttft_p99_limit_s", "TTFT"), ("tpot_p99_limit_s", "TPOT")) if sw[k])
        if sw["max_rate_within_slo"] is None:
            console.print(f"SLO search: {lim} not met even at {sw['first_rate_breaking_slo']:g} "
                          "req/s")
        else:
            brk = sw["first_rate_breaking_slo"]
            console.print(f"SLO search: {lim} met up to {sw['max_rate_within_slo']:.3g} req/s; "
                          + (f"broken at {brk:.3g} req/s" if brk else "no rate tried broke it"))
    for s in pts:
        if s["errors"]:
            console.print(f"{load_label(s['load'])}: {s['failed']} failed: "
                          + "; ".join(f"{k} x{v}" for k, v in s["errors"].items()))
    if "predicted_vs_measured" in res:
        p = res["predicted"]
        t = Table(title=f"predicted ({p['provenance'].get('replica')}, profile {p['profile']}) "
                        f"vs measured, {load_label(res['load'])}")
        for c in ("metric", "measured", "predicted", "error"):
            t.add_column(c, justify="left" if c == "metric" else "right")
        for r in res["predicted_vs_measured"]:
            f = ms if r["unit"] == "s" else (lambda x: fmt(x, "tok/s"))
            t.add_row(r["metric"], f(r["measured"]), f(r["predicted"]),
                      "-" if r["error"] is None else f"{r['error']:+.0%}")
        console.print(t)
        console.print(f"simulated on {p['arrivals']} and the lengths the server reported")
    elif res.get("predicted"):
        console.print(f"no prediction: {res['predicted'].get('error')}")
    probe = res["probe"]
    forced = res.get("output_length_reached_share")
    console.print(
        f"ignore_eos {'sent' if probe['ignore_eos'] else 'refused by the server, not sent'}; "
        f"output tokens from {', '.join(res['output_tokens_source']) or '-'}"
        + (f"; {forced:.0%} of requests reached max_tokens" if forced is not None else ""))
    ids = [str(s["run_id"]) for s in pts]
    console.print(f"runs {', '.join(ids)} stored in {res['store']}"
                  + (f"; HTML: {res['html']}" if res.get("html") else ""))
