"""``airadar plan`` and ``airadar schema``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from airadar.cli.output import _clean, console, print_json
from airadar.cli.root import app

if TYPE_CHECKING:
    from airadar.plan.planner import PlanResult


@app.command()
def plan(
    scenario: Path = typer.Argument(..., help="scenario YAML (see examples/)"),
    as_json: bool = typer.Option(False, "--json", help="print every field as JSON"),
    as_csv: bool = typer.Option(False, "--csv", help="print the ranked candidates as CSV"),
    out: Path = typer.Option(None, "--out", help="write index.html and plan.json here"),
    top: int = typer.Option(10, help="rows in the terminal shortlist (1 to 1000)"),
    everything: bool = typer.Option(False, "--all",
                                    help="every feasible candidate, not the diverse shortlist"),
    max_price_age: float = typer.Option(None, "--max-price-age-days",
                                        help="flag prices older than this (financial.max_price_age_days)"),
    eur_usd: float = typer.Option(None, "--eur-usd", help="USD per EUR (financial.eur_usd)"),
    profiles: Path = typer.Option(None, "--profiles",
                                  help="a profiles file (calibrate --out) over the shipped ones"),
) -> None:
    """Rank where and on what to run a workload; explain what was rejected and why."""
    if profiles is not None:
        from airadar.perf.profiles import use_profiles_file

        use_profiles_file(profiles)
    from airadar.errors import SpecError
    from airadar.plan.planner import plan as run
    from airadar.report.tables import plan_csv, print_plan
    from airadar.specs.base import build
    from airadar.specs.financial import Financials
    from airadar.specs.scenario import load_scenario

    if not 1 <= top <= 1000:
        raise SpecError("--top", top, "an integer from 1 to 1000")
    if as_json and as_csv:
        raise SpecError("--json/--csv", "both", "one output format at a time")
    if out is not None:
        _check_out_dir(out)
    sc = load_scenario(scenario)
    over = {k: v for k, v in (("max_price_age_days", max_price_age), ("eur_usd", eur_usd))
            if v is not None}
    if over:
        fin = build(Financials, {**sc.financial.model_dump(), **over}, where="financial")
        sc = sc.model_copy(update={"financial": fin})
    res = run(sc, base_dir=scenario.parent)
    if out is not None:
        from airadar.report.html import render

        try:
            out.mkdir(parents=True, exist_ok=True)
            (out / "plan.json").write_text(json.dumps(_clean(plan_json(res)), indent=1,
                                                      default=str))
            (out / "index.html").write_text(render(res), encoding="utf-8")
        except OSError as exc:
            raise SpecError("--out", str(out), f"a folder you can write ({exc.strerror})"
                            ) from None
    if as_json:
        print_json(plan_json(res))
    elif as_csv:
        print(plan_csv(res), end="")
    else:
        print_plan(res, console, top=top, everything=everything)
        if out is not None:
            console.print(f"report: {out / 'index.html'}  data: {out / 'plan.json'}")


def plan_json(res: PlanResult) -> dict[str, Any]:
    """The plan's JSON with the decision first."""
    from airadar.plan.shortlist import answer

    return {"answer": answer(res).to_json(), **res.to_json()}


def _check_out_dir(out: Path) -> None:
    """--out must be a folder we can write (or create): refuse before planning."""
    from airadar.errors import SpecError

    if out.exists() and not out.is_dir():
        raise SpecError("--out", str(out), "a folder (this path is an existing file)")
    parent = out if out.exists() else next((p for p in out.parents if p.exists()), Path("."))
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise SpecError("--out", str(out), f"a folder you can write ({parent} is not writable)")


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor autocompletion)."""
    from airadar.specs.scenario import json_schema

    print_json(json_schema())
