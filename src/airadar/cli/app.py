"""``airadar`` entry point: the root typer app with every command registered (importing
this module is enough), every error turned into one line and an exit code (2 bad input,
3 infeasible, 70 internal)."""

from __future__ import annotations

import os
import sys

import typer

from airadar.cli import (  # noqa: F401  (each module registers its commands on the root app)
    bench_cmd,
    catalog_cmd,
    cost_cmd,
    loadtest_cmd,
    perf_cmd,
    plan_cmd,
    prices_cmd,
    sim_cmd,
    sweep_cmd,
)
from airadar.cli.root import app, catalog_app, policy_app, results_app
from airadar.errors import AiradarError

__all__ = ["app", "catalog_app", "main", "policy_app", "results_app"]


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; never show a traceback for bad input."""
    args = sys.argv[1:] if argv is None else argv
    try:
        rc = app(args=args, standalone_mode=False)  # click returns typer.Exit's code here
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except AiradarError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("error: aborted\n")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 - last line of defence, never a traceback
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # usage errors
            sys.stderr.write(f"error: {exc.format_message()}\n")
            sys.exit(2)
        if os.environ.get("AIRADAR_DEBUG"):
            raise
        sys.stderr.write(f"error: internal error ({type(exc).__name__}: {exc}); "
                         "set AIRADAR_DEBUG=1 for the traceback\n")
        sys.exit(70)

