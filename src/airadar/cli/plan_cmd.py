"""``airadar plan`` and ``airadar schema``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from airadar.cli.app import app
from airadar.cli.output import console, print_json


@app.command()
def plan(
    scenario: Path = typer.Argument(..., help="scenario YAML (see examples/)"),
    as_json: bool = typer.Option(False, "--json", help="print every field as JSON"),
    as_csv: bool = typer.Option(False, "--csv", help="print the ranked candidates as CSV"),
    out: Path = typer.Option(None, "--out", help="write index.html and plan.json here"),
    top: int = typer.Option(10, help="rows in the terminal table"),
    max_price_age: float = typer.Option(None, "--max-price-age-days",
                                        help="flag prices older than this (financial.max_price_age_days)"),
    eur_usd: float = typer.Option(None, "--eur-usd", help="USD per EUR (financial.eur_usd)"),
) -> None:
    """Rank where and on what to run a workload; explain what was rejected and why."""
    from airadar.plan.planner import plan as run
    from airadar.report.tables import plan_csv, print_plan
    from airadar.specs.base import build
    from airadar.specs.financial import Financials
    from airadar.specs.scenario import load_scenario

    sc = load_scenario(scenario)
    over = {k: v for k, v in (("max_price_age_days", max_price_age), ("eur_usd", eur_usd))
            if v is not None}
    if over:
        fin = build(Financials, {**sc.financial.model_dump(), **over}, where="financial")
        sc = sc.model_copy(update={"financial": fin})
    res = run(sc, base_dir=scenario.parent)
    if out is not None:
        from airadar.report.html import render

        out.mkdir(parents=True, exist_ok=True)
        (out / "plan.json").write_text(json.dumps(res.to_json(), indent=1, default=str))
        (out / "index.html").write_text(render(res), encoding="utf-8")
    if as_json:
        print_json(res.to_json())
    elif as_csv:
        print(plan_csv(res), end="")
    else:
        print_plan(res, console, top=top)
        if out is not None:
            console.print(f"report: {out / 'index.html'}  data: {out / 'plan.json'}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor autocompletion)."""
    from airadar.specs.scenario import json_schema

    print_json(json_schema())
