"""Shared fixtures: an isolated AIRADAR_HOME per test, paths to shared data, and scripted
OpenAI-compatible servers on 127.0.0.1 (tests/loadtest/scripted_server.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CALIBRATION = ROOT / "data" / "calibration.csv"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRADAR_HOME", str(tmp_path / "home"))
    from airadar.catalog.loader import clear_caches
    from airadar.catalog.prices import clear_price_caches
    from airadar.catalog.sites import load_prices, load_sites
    from airadar.perf.profiles import load_profiles
    from airadar.policy.sovereignty import load_rules

    clear_caches()
    load_profiles.cache_clear()
    load_sites.cache_clear()
    load_prices.cache_clear()
    clear_price_caches()
    load_rules.cache_clear()


def run_cli(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess."""
    env = dict(os.environ)
    if home is not None:
        env["AIRADAR_HOME"] = str(home)
    env.pop("AIRADAR_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "airadar", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def tiny_llama_config(path: Path, vocab: int = 1000) -> Path:
    """A 2-layer llama config.json (random-weight speed tests)."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"model_type": "llama", "hidden_size": 128, "num_hidden_layers": 2,
                                "num_attention_heads": 4, "num_key_value_heads": 2,
                                "intermediate_size": 256, "vocab_size": vocab}))
    return path


class Server:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.loadtest.scripted_server", *args], cwd=ROOT,
            stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def scripted() -> Iterator[Callable[..., Server]]:
    """Start scripted servers with the given options; all are killed after the test."""
    started: list[Server] = []

    def start(*args: str) -> Server:
        s = Server(*args)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture()
def postgres_url(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real PostgreSQL server (the binaries pgserver ships on PyPI), on a Unix socket."""
    pgserver = pytest.importorskip("pgserver")
    pytest.importorskip("psycopg")
    srv = pgserver.get_server(str(tmp_path / "pg"), cleanup_mode="stop")
    try:
        yield srv.get_uri()
    finally:
        srv.cleanup()
