"""The result store: SQLite by default (a file in the user's data directory or ``--store
PATH``), any SQLAlchemy URL otherwise (``postgresql://...``). Schema versioned; every sample
is its own transaction, so a run killed with SIGKILL loses at most the sample in flight."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from airadar.errors import BackendError, SpecError

SCHEMA_VERSION = 1


def _sa() -> Any:
    try:
        import sqlalchemy
    except ImportError:
        raise BackendError("the result store needs SQLAlchemy: pip install 'airadar[bench]'"
                           ) from None
    return sqlalchemy


def open_engine(url: str) -> Any:
    """A SQLAlchemy engine; SQLite in WAL mode with a busy timeout, so several processes
    (sweep workers, bench nodes) can write to one file."""
    sa = _sa()
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, future=True, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _pragma(conn: Any, _rec: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit survives the process being killed (SIGKILL);
            # only an OS crash or power loss can lose the last commits
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
        return engine
    return sa.create_engine(url, future=True)


class Store:
    """Runs and their samples."""

    def __init__(self, url: str) -> None:
        sa = _sa()
        url = _with_driver(url)
        self.url = url
        self._conn: Any = None
        try:
            self.engine = open_engine(url)
            md = sa.MetaData()
            self.meta = sa.Table("meta", md, sa.Column("key", sa.String(64), primary_key=True),
                                 sa.Column("value", sa.Text))
            self.runs = sa.Table(
                "runs", md, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                sa.Column("started", sa.Float), sa.Column("backend", sa.String(64)),
                sa.Column("model", sa.Text), sa.Column("scenario", sa.String(64)),
                sa.Column("settings", sa.Text), sa.Column("environment", sa.Text),
                sa.Column("status", sa.String(32)))
            self.samples = sa.Table(
                "samples", md, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), index=True),
                sa.Column("kind", sa.String(32)), sa.Column("value", sa.Float),
                sa.Column("batch", sa.Integer), sa.Column("tokens", sa.Integer),
                sa.Column("extra", sa.Text))
            md.create_all(self.engine)
            with self.engine.begin() as c:
                row = c.execute(sa.select(self.meta.c.value).where(
                    self.meta.c.key == "schema_version")).first()
                if row is None:
                    c.execute(self.meta.insert().values(key="schema_version",
                                                        value=str(SCHEMA_VERSION)))
                elif int(row[0]) != SCHEMA_VERSION:
                    raise BackendError(f"store {url} has schema version {row[0]}; this airadar "
                                       f"reads version {SCHEMA_VERSION}")
        except BackendError:
            raise
        except Exception as exc:  # noqa: BLE001 - driver errors vary; one line for the user
            raise BackendError(f"cannot open result store {_redact(url)}: "
                               f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}") from None

    @property
    def public_url(self) -> str:
        """The URL with any password hidden: safe to print or keep."""
        return _redact(self.url)

    def start_run(self, *, backend: str, model: str, scenario: str, settings: dict[str, Any],
                  environment: dict[str, Any]) -> int:
        with self.engine.begin() as c:
            # the writing process, so that a run whose process died (SIGKILL, power loss)
            # reads as stale rather than running forever
            env = {**environment, "writer": {"pid": os.getpid(), "host": socket.gethostname()}}
            r = c.execute(self.runs.insert().values(
                started=time.time(), backend=backend, model=model, scenario=scenario,
                settings=json.dumps(settings), environment=json.dumps(env),
                status="running"))
            return int(r.inserted_primary_key[0])

    def add_sample(self, run_id: int, *, kind: str, value: float, batch: int = 1,
                   tokens: int = 0, extra: dict[str, Any] | None = None) -> None:
        """One committed transaction per sample, on a connection kept open for the run."""
        if self._conn is None:
            self._conn = self.engine.connect()
            self._insert = self.samples.insert()
        with self._conn.begin():
            self._conn.execute(self._insert, {"run_id": run_id, "kind": kind, "value": value,
                                              "batch": batch, "tokens": tokens,
                                              "extra": json.dumps(extra) if extra else "{}"})

    def finish_run(self, run_id: int, status: str) -> None:
        sa = _sa()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        with self.engine.begin() as c:
            c.execute(sa.update(self.runs).where(self.runs.c.id == run_id).values(status=status))

    def list_runs(self) -> list[dict[str, Any]]:
        sa = _sa()
        with self.engine.connect() as c:
            rows = c.execute(sa.select(self.runs).order_by(self.runs.c.id)).mappings().all()
            counts = dict(c.execute(sa.select(self.samples.c.run_id, sa.func.count()).group_by(
                self.samples.c.run_id)).all())
        out = []
        for r in rows:
            env = json.loads(r["environment"])
            out.append({**dict(r), "status": _status(r["status"], env.get("writer")),
                        "settings": json.loads(r["settings"]), "environment": env,
                        "samples": counts.get(r["id"], 0)})
        return out

    def get_samples(self, run_id: int) -> list[dict[str, Any]]:
        sa = _sa()
        with self.engine.connect() as c:
            rows = c.execute(sa.select(self.samples).where(self.samples.c.run_id == run_id)
                             .order_by(self.samples.c.id)).mappings().all()
        return [{**dict(r), "extra": json.loads(r["extra"] or "{}")} for r in rows]


def _status(stored: str, writer: dict[str, Any] | None) -> str:
    """A 'running' run whose writing process on this host is gone is 'stale' (it was killed
    before it could record how it ended). Runs written on another host keep their status."""
    if stored != "running" or not writer or writer.get("host") != socket.gethostname():
        return stored
    try:
        os.kill(int(writer["pid"]), 0)
    except ProcessLookupError:
        return "stale (its process is gone)"
    except (PermissionError, KeyError, ValueError, TypeError):
        return stored
    return stored


def _with_driver(url: str) -> str:
    """``postgresql://`` means psycopg2 to SQLAlchemy; use psycopg 3 when only it is present
    (``pip install 'airadar[postgres]'``)."""
    import importlib.util

    if url.startswith("postgresql://") and importlib.util.find_spec("psycopg2") is None:
        if importlib.util.find_spec("psycopg") is None:
            raise BackendError("a PostgreSQL store needs a driver: pip install 'airadar[postgres]'")
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def store_url(store: str | None, default_dir: Path) -> str:
    """A path becomes a SQLite URL; URLs pass through."""
    if store and "://" in store:
        return store
    path = Path(store) if store else default_dir / "results.sqlite"
    if path.is_dir():
        raise SpecError("--store", str(path), "a file path or a database URL")
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"
