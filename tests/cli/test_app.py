"""The command line as a library: ``from airadar.cli.app import app`` is the whole CLI."""

from __future__ import annotations

import json
import subprocess
import sys

COMMANDS = {"plan", "schema", "estimate", "validate", "calibrate", "graph", "cost", "policy",
            "simulate", "sweep", "bench", "bench-host", "results", "loadtest", "catalog"}
GROUPS = {"catalog": {"hardware", "models", "sites", "show", "add-model", "add-price", "prices",
                      "packaged"},
          "policy": {"check"}, "results": {"list", "show", "export"}}


def test_importing_the_app_registers_every_command() -> None:
    """In a fresh interpreter, the imported app has every command and group command, without
    calling ``main`` first."""
    code = ("import json, typer.main as tm; from airadar.cli.app import app; g = tm.get_command(app);"
            "print(json.dumps({k: sorted(getattr(c, 'commands', {})) for k, c in g.commands.items()}))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert set(got) == COMMANDS
    for group, subs in GROUPS.items():
        assert set(got[group]) == subs, group

