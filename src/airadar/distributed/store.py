"""Where a sweep's futures land as they are computed: the result store of ``bench``
(SQLite by default, PostgreSQL by URL; bench/store.py's engine and URL handling), two more
tables. A future's row is keyed by (sweep id, future index) and written with "insert, do
nothing on conflict", so a retried task (a killed worker) or a resumed sweep never counts a
future twice. The sweep id is a hash of the scenario and the sweep definition (not of the
number of futures), so re-running the same command resumes, and asking for more futures
keeps the ones already computed."""

from __future__ import annotations

import json
import time
from typing import Any

from airadar.bench.store import _redact, _sa, _with_driver, open_engine
from airadar.errors import BackendError


class SweepStore:
    def __init__(self, url: str) -> None:
        sa = _sa()
        url = _with_driver(url)
        self.url = url
        try:
            self.engine = open_engine(url)
            md = sa.MetaData()
            self.sweeps = sa.Table(
                "sweeps", md, sa.Column("id", sa.String(32), primary_key=True),
                sa.Column("created", sa.Float), sa.Column("scenario", sa.Text),
                sa.Column("spec", sa.Text), sa.Column("status", sa.String(32)))
            self.futures = sa.Table(
                "sweep_futures", md, sa.Column("sweep_id", sa.String(32), primary_key=True),
                sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
                sa.Column("result", sa.Text), sa.Column("host", sa.String(128)),
                sa.Column("attempt", sa.String(32)), sa.Column("seconds", sa.Float),
                sa.Column("written", sa.Float))
            md.create_all(self.engine)
        except Exception as exc:  # noqa: BLE001 - driver errors vary; one line for the user
            raise BackendError(f"cannot open sweep store {_redact(url)}: "
                               f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}") from None

    def _insert(self) -> Any:
        name = self.engine.dialect.name
        if name == "sqlite":
            from sqlalchemy.dialects import sqlite as dialect
        elif name == "postgresql":
            from sqlalchemy.dialects import postgresql as dialect  # type: ignore[no-redef]
        else:
            raise BackendError(f"sweep store: {name} is not supported (SQLite or PostgreSQL)")
        return dialect.insert

    def begin(self, sweep_id: str, *, scenario: str, spec: dict[str, Any]) -> None:
        insert = self._insert()
        with self.engine.begin() as c:
            c.execute(insert(self.sweeps).values(
                id=sweep_id, created=time.time(), scenario=scenario, spec=json.dumps(spec),
                status="running").on_conflict_do_nothing())

    def set_status(self, sweep_id: str, status: str) -> None:
        sa = _sa()
        with self.engine.begin() as c:
            c.execute(sa.update(self.sweeps).where(self.sweeps.c.id == sweep_id)
                      .values(status=status))

    def put(self, sweep_id: str, rows: list[tuple[int, dict[str, Any]]], *, host: str,
            attempt: str, seconds: float) -> int:
        """Write futures in one transaction; rows already stored are left as they are.
        Returns how many were new."""
        if not rows:
            return 0
        insert = self._insert()
        now = time.time()
        vals = [{"sweep_id": sweep_id, "idx": i, "result": json.dumps(r, separators=(",", ":")),
                 "host": host, "attempt": attempt, "seconds": seconds / len(rows), "written": now}
                for i, r in rows]
        with self.engine.begin() as c:
            res = c.execute(insert(self.futures).on_conflict_do_nothing(
                index_elements=["sweep_id", "idx"]), vals)
        return max(int(res.rowcount or 0), 0)

    def done(self, sweep_id: str) -> set[int]:
        sa = _sa()
        with self.engine.connect() as c:
            return {int(r[0]) for r in c.execute(sa.select(self.futures.c.idx).where(
                self.futures.c.sweep_id == sweep_id))}

    def load(self, sweep_id: str, n: int) -> list[dict[str, Any]]:
        """Futures 0..n-1 in index order."""
        sa = _sa()
        with self.engine.connect() as c:
            rows = c.execute(sa.select(self.futures.c.result).where(
                (self.futures.c.sweep_id == sweep_id) & (self.futures.c.idx < n))
                .order_by(self.futures.c.idx)).all()
        return [json.loads(r[0]) for r in rows]

    def rows(self, sweep_id: str) -> list[dict[str, Any]]:
        """Bookkeeping of every stored future (index, host, attempt)."""
        sa = _sa()
        f = self.futures
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(sa.select(f.c.idx, f.c.host, f.c.attempt, f.c.seconds)
                                               .where(f.c.sweep_id == sweep_id)
                                               .order_by(f.c.idx)).mappings()]
