"""The root ``airadar`` typer app and its command groups (catalog, policy, results).

Command modules (``*_cmd.py``) attach their commands to these; ``airadar.cli.app`` imports
every command module, so importing it yields the whole command line. Nothing here imports a
command module: the imports run one way, commands -> root, app -> commands."""

from __future__ import annotations

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Where and on what to run AI inference, and what it will cost.")
catalog_app = typer.Typer(no_args_is_help=True, help="Browse and extend the shipped catalogs.")
policy_app = typer.Typer(no_args_is_help=True, help="Data-sovereignty rules.")
results_app = typer.Typer(no_args_is_help=True, help="The measurement result store.")
app.add_typer(catalog_app, name="catalog")
app.add_typer(policy_app, name="policy")
app.add_typer(results_app, name="results")
