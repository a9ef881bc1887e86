"""Shared pieces of the distributed tests: the small sweep scenario, a reference answer
computed once with local workers, and the answer without its execution block."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.sweep.conftest import SMALL, write_small

__all__ = ["SMALL", "answer_of", "stored_rows", "write_small"]


def answer_of(stdout: str) -> dict[str, Any]:
    """The sweep's answer: everything but how it was executed (timings, store, workers)."""
    out = json.loads(stdout)
    out.pop("execution")
    return out


def stored_rows(db: Path) -> list[tuple[int, str]]:
    """(future index, attempt) of every stored future."""
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=30) as c:
        try:
            return list(c.execute("select idx, attempt from sweep_futures order by idx"))
        except sqlite3.OperationalError:
            return []


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The small sweep (seed 3, 120 futures) computed by one local worker."""
    d = tmp_path_factory.mktemp("ref")
    r = run_cli("sweep", str(write_small(d)), "--workers", "1", "--store", str(d / "ref.db"),
                "--json", home=d / "home")
    assert r.returncode == 0, r.stderr
    return answer_of(r.stdout)
