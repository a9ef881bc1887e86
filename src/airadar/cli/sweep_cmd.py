"""``airadar sweep``: many futures of one scenario, the robust choice and what it hinges on."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from airadar.cli.output import console, err_console, fmt, print_json
from airadar.cli.root import app
from airadar.errors import SpecError


@app.command()
def sweep(
    scenario: Path = typer.Argument(..., help="scenario YAML, optionally with a sweep: section"),
    futures: int = typer.Option(None, "--futures", "-n", help="how many futures (default: the "
                                "file's sweep.futures, else 1000)"),
    seed: int = typer.Option(None, "--seed", help="random seed (default: sweep.seed, else 0)"),
    workers: int = typer.Option(None, "--workers", "-w", help="local worker processes "
                                "(default: all cores)"),
    ray: str = typer.Option(None, "--ray", help="run the futures as Ray tasks: auto (the running "
                            "cluster, else a local one) or a cluster ADDRESS"),
    grid: list[str] = typer.Option(None, "--grid", help="FIELD=V1,V2,... (repeatable)"),
    vary: list[str] = typer.Option(None, "--vary", help="FIELD=DIST:PARAMS, e.g. "
                                   "workload.peak_rps=lognormal:25:0.3 (repeatable)"),
    interval: bool = typer.Option(None, "--interval/--no-interval",
                                  help="draw each candidate's speed in its 80% prediction "
                                  "interval (default on)"),
    simulate_top: int = typer.Option(None, "--simulate-top", help="run the serving simulator "
                                     "over a full day on the top K candidates of every future"),
    store: str = typer.Option(None, "--store", help="SQLite path or database URL (results are "
                              "written as they arrive; the same command resumes)"),
    out: Path = typer.Option(None, "--out", help="write index.html and sweep.json here"),
    as_json: bool = typer.Option(False, "--json", help="print the answer as JSON"),
    top: int = typer.Option(10, help="rows in the terminal table"),
) -> None:
    """Decide under uncertainty: grids and Monte Carlo over traffic, prices and prediction
    intervals; per candidate cost percentiles, probability of being best, regret and SLO miss
    probability; the robust choice and a tornado of what it depends on."""
    from airadar.bench.store import store_url
    from airadar.catalog.loader import user_dir
    from airadar.distributed.sweep_run import run_sweep
    from airadar.specs.scenario import load_scenario
    from airadar.sweep.future import make_plan
    from airadar.sweep.spec import build_spec, parse_flag_grid, parse_flag_vary, read_section

    if workers is not None and ray:
        raise SpecError("--workers", workers, "local worker processes or --ray, not both (on "
                        "Ray the cluster's CPUs are the workers)")
    if workers is not None and workers < 1:
        raise SpecError("--workers", workers, "an integer >= 1")
    if futures is not None and futures < 1:
        raise SpecError("--futures", futures, "an integer >= 1")
    sc = load_scenario(scenario)
    spec = build_spec(read_section(scenario), futures=futures, seed=seed,
                      grid=parse_flag_grid(grid or []), vary=parse_flag_vary(vary or []),
                      prediction_interval=interval, simulate_top=simulate_top, scenario=sc)
    plan = make_plan(sc, spec, str(scenario.parent.resolve()))
    url = store_url(store, user_dir())
    executor: Any
    show = not as_json and sys.stderr.isatty()
    # Ray's driver prints worker and raylet notices (a worker died, ...) on stdout; keep
    # stdout for the answer
    with contextlib.redirect_stdout(sys.stderr) if ray else contextlib.nullcontext(), \
            Progress(TextColumn("futures"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                     TimeElapsedColumn(), TimeRemainingColumn(), console=err_console,
                     transient=True, disable=not show) as prog:
        if ray:
            from airadar.distributed.ray_exec import RayExecutor

            executor = RayExecutor(ray)
            n_workers = int(executor.cluster["cpus"])
        else:
            from airadar.distributed.local import LocalExecutor
            from airadar.host import usable_cpus

            n_workers = workers or usable_cpus()
            executor = LocalExecutor(n_workers)
        task = prog.add_task("sweep", total=spec.futures)
        try:
            res = run_sweep(plan, executor, store_url=url, workers=n_workers,
                            progress=lambda done, total: prog.update(task, completed=done))
            if ray:
                executor.ray.shutdown()
        except KeyboardInterrupt:
            from airadar.distributed.store import SweepStore

            n = len({i for i in SweepStore(url).done(plan.sweep_id) if i < spec.futures})
            err_console.print(f"interrupted: {n} of {spec.futures} futures of sweep "
                              f"{plan.sweep_id} are stored in {url}; run the same command to "
                              "resume", highlight=False)
            raise typer.Exit(130) from None
    answer = {"scenario": sc.name, "sweep_id": plan.sweep_id, "sweep": spec.to_json(),
              **res.answer, "execution": res.execution}
    if out is not None:
        from airadar.report.sweep_html import render_sweep

        out.mkdir(parents=True, exist_ok=True)
        (out / "sweep.json").write_text(json.dumps(answer, indent=1, default=str))
        (out / "index.html").write_text(render_sweep(answer), encoding="utf-8")
    if as_json:
        print_json(answer)
        return
    _print(answer, top)
    if out is not None:
        console.print(f"report: {out / 'index.html'}  data: {out / 'sweep.json'}")


def _print(a: dict[str, Any], top: int) -> None:
    ex = a["execution"]
    t = Table(title=f"{a['scenario']}: {a['futures_evaluated']} futures, objective {a['objective']}")
    for col in ("candidate", "P(best)", "$/month P10", "P50", "P90", "$/1M tok P50",
                "regret P90", "SLO miss"):
        t.add_column(col, justify="left" if col == "candidate" else "right")
    for c in a["candidates"][:top]:
        u, r = c["usd_per_month"], c["regret"]
        t.add_row(c["label"], f"{c['probability_best']:.0%}", fmt(u["p10"]), fmt(u["p50"]),
                  fmt(u["p90"]), fmt(c["usd_per_million_output_tokens"]["p50"]), fmt(r["p90"]),
                  "-" if c["slo_miss_probability"] is None else f"{c['slo_miss_probability']:.0%}")
    console.print(t)
    rc = a["robust_choice"]
    if rc:
        console.print(f"robust choice (lowest P90 regret): {rc['label']}: best in "
                      f"{rc['probability_best']:.0%} of futures, P90 regret {fmt(rc['regret']['p90'])} "
                      f"{a['regret_unit']}, SLO miss {rc['slo_miss_probability']:.0%}")
    else:
        console.print("no candidate is feasible in every future")
    for s in a["sensitivity"][:5]:
        console.print(f"  sensitive to {s['input']}: ${fmt(s['usd_per_month_at_low'])} -> "
                      f"${fmt(s['usd_per_month_at_high'])}/month from {fmt_v(s['low'])} to "
                      f"{fmt_v(s['high'])} (P(best) {_p(s['probability_best_at_low'])} -> "
                      f"{_p(s['probability_best_at_high'])})")
    fps = ex["futures_per_s"]
    console.print(f"{ex['futures_computed']} futures computed, {ex['futures_reused']} reused from "
                  f"the store, in {ex['seconds']['total']:.1f} s ({ex['executor']}, "
                  f"{ex['workers']} worker{'' if ex['workers'] == 1 else 's'}; perf tables "
                  f"{ex['seconds']['tables']:.1f} s"
                  + (f", {fps:.1f} futures/s" if fps else "") + f"); sweep {ex['sweep_id']} in "
                  f"{ex['store']}")


def fmt_v(v: Any) -> str:
    return fmt(v) if isinstance(v, float) else str(v)


def _p(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"
