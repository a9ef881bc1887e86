"""Sweeps and fleet benchmarks on a real two-node Ray cluster: a head and a second node
started with ``ray start`` on this machine, each advertising a different custom resource
(``host-a``, ``host-b``), one CPU each, torn down by killing their processes by PID."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.distributed.conftest import answer_of, write_small

#: minutes on 2 cores (real Ray cluster / real model runs / a calibration fit): `-m "not slow"` skips them
pytestmark = pytest.mark.slow

RAY = Path(sys.executable).parent / "ray"


@dataclass(frozen=True)
class Cluster:
    address: str
    env: dict[str, str]
    marks: tuple[str, ...]

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "airadar", *args], capture_output=True,
                              text=True, env=self.env, timeout=timeout)


def _procs() -> dict[int, tuple[int, str]]:
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{d}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        out[int(d)] = (ppid, cmd)
    return out


def _tree(marks: tuple[str, ...]) -> dict[int, str]:
    """Processes of this cluster (their command line names its temp dir or port) and their
    descendants (Ray's workers and agents)."""
    procs = _procs()
    mine = {p for p, (_, c) in procs.items() if any(m in c for m in marks)}
    grew = True
    while grew:
        grew = False
        for p, (pp, _) in procs.items():
            if pp in mine and p not in mine:
                mine.add(p)
                grew = True
    return {p: procs[p][1] for p in mine}


def _free_port_block() -> int:
    for _ in range(50):
        base = 20000 + secrets.randbelow(400) * 20
        ok = True
        for port in (base, base + 1, base + 2, base + 3):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
        if ok:
            return base
    raise RuntimeError("no free port block")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    pytest.importorskip("ray")
    if not RAY.exists():
        pytest.skip("the ray command is not installed (pip install 'airadar[ray]')")
    tmp = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: Ray's socket paths have a limit
    port = _free_port_block()
    # Ray >= 2.59 authenticates local clusters with a token: give every process the same one
    # the nodes' workers read catalogs and profiles from their own empty AIRADAR_HOME, like
    # the local runs they are compared with (never the user's)
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16),
           "RAY_USAGE_STATS_ENABLED": "0", "AIRADAR_HOME": str(Path(tmp) / "home")}
    env.pop("RAY_ADDRESS", None)
    marks = (tmp, f":{port} ", f":{port}\0", f"={port} ", f"127.0.0.1:{port}")
    common = ["--node-ip-address=127.0.0.1", "--num-cpus", "1", "--disable-usage-stats",
              "--object-store-memory", str(200 * 1024**2)]
    try:
        subprocess.run([str(RAY), "start", "--head", "--port", str(port), "--temp-dir", tmp,
                        "--include-dashboard", "false", "--resources", '{"host-a": 1}',
                        "--ray-client-server-port", str(port + 1),
                        "--dashboard-agent-listen-port", str(port + 2),
                        "--min-worker-port", str(port + 100), "--max-worker-port", str(port + 199),
                        *common], env=env, check=True, capture_output=True, timeout=120)
        subprocess.run([str(RAY), "start", "--address", f"127.0.0.1:{port}",
                        "--resources", '{"host-b": 1}', "--dashboard-agent-listen-port",
                        str(port + 3), "--min-worker-port", str(port + 200),
                        "--max-worker-port", str(port + 299), *common],
                       env=env, check=True, capture_output=True, timeout=120)
        yield Cluster(address=f"127.0.0.1:{port}", env=env, marks=marks)
    finally:
        for _ in range(3):  # workers may be spawned while the first kills land
            for pid in _tree(marks):
                with contextlib.suppress(OSError):  # already gone
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        shutil.rmtree(tmp, ignore_errors=True)


def _sweep(cluster: Cluster, scen: Path, store: str, *extra: str) -> dict[str, Any]:
    r = cluster.cli("sweep", str(scen), "--ray", cluster.address, "--store", store, "--json",
                    *extra)
    assert r.returncode == 0, r.stderr
    out: dict[str, Any] = json.loads(r.stdout)
    return out


def test_ray_gives_the_local_answer_and_writes_postgresql(
        cluster: Cluster, tmp_path: Path, reference: dict[str, Any], postgres_url: str,  # noqa: F811
) -> None:
    """Same seed: the Ray cluster's answer equals the local one's; both nodes' workers wrote
    their futures to one PostgreSQL store."""
    out = _sweep(cluster, write_small(tmp_path), postgres_url)
    ex = out["execution"]
    assert ex["executor"] == "ray" and ex["workers"] == 2 and ex["futures_computed"] == 120
    assert ex["store"].startswith("postgresql")
    assert answer_of(json.dumps(out)) == reference
    from airadar.distributed.store import SweepStore

    rows = SweepStore(postgres_url).rows(out["sweep_id"])
    assert [r["idx"] for r in rows] == list(range(120))
    assert len({r["host"] for r in rows}) >= 2  # more than one worker process wrote


def test_killing_a_ray_worker_loses_nothing(cluster: Cluster, tmp_path: Path) -> None:
    """SIGKILL of the worker process running a sweep task: Ray retries the task, every
    future is stored exactly once, and the answer equals an undisturbed local run's."""
    scen = write_small(tmp_path)
    db = tmp_path / "k.db"
    p = subprocess.Popen([sys.executable, "-m", "airadar", "sweep", str(scen), "--futures", "1500",
                          "--ray", cluster.address, "--store", str(db), "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster.env)
    killed = None
    deadline = time.monotonic() + 240
    while killed is None and p.poll() is None and time.monotonic() < deadline:
        for pid, cmd in _tree(cluster.marks).items():
            if cmd.startswith("ray::_run_chunk"):
                os.kill(pid, signal.SIGKILL)
                killed = pid
                break
        time.sleep(0.02)
    out, err = p.communicate(timeout=300)
    assert killed is not None, "no sweep task seen running"
    assert p.returncode == 0, err
    got = json.loads(out)
    import sqlite3

    with sqlite3.connect(db) as c:
        idx = [r[0] for r in c.execute("select idx from sweep_futures order by idx")]
    assert idx == list(range(1500))
    ref = subprocess.run([sys.executable, "-m", "airadar", "sweep", str(scen), "--futures", "1500",
                          "--workers", "2", "--store", str(tmp_path / "ref.db"), "--json"],
                         capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stderr
    assert answer_of(out) == answer_of(ref.stdout)
    assert got["futures_evaluated"] == 1500


def test_fleet_bench_runs_on_each_node_into_postgresql(
        cluster: Cluster, tmp_path: Path, postgres_url: str,  # noqa: F811
) -> None:
    """bench --ray --hardware host-a / host-b: each job runs on the node advertising that
    resource and writes to the one PostgreSQL store; results list shows both hosts."""
    from tests.perf.test_graph import _model

    tiny = _model(tmp_path / "tiny.onnx")
    nodes = {}
    for hw in ("host-a", "host-b"):
        r = cluster.cli("bench", "-b", "onnxruntime", "-m", str(tiny), "--min-count", "3",
                        "--min-duration", "0.05", "--ray", cluster.address, "--hardware", hw,
                        "--store", postgres_url, "--json")
        assert r.returncode == 0, r.stderr
        nodes[hw] = json.loads(r.stdout)["node"]["ray_node_id"]
    assert nodes["host-a"] != nodes["host-b"]
    runs = json.loads(cluster.cli("results", "list", "--store", postgres_url, "--json").stdout)
    assert sorted(r["environment"]["fleet"]["hardware"] for r in runs) == ["host-a", "host-b"]
    assert {r["environment"]["fleet"]["ray_node_id"] for r in runs} == set(nodes.values())
    assert all(r["samples"] >= 3 and r["status"] == "complete" for r in runs)
    table = cluster.cli("results", "list", "--store", postgres_url).stdout
    assert "host-a" in table and "host-b" in table
    bad = cluster.cli("bench", "-b", "onnxruntime", "-m", str(tiny), "--ray", cluster.address,
                      "--hardware", "host-zzz", "--store", postgres_url)
    assert bad.returncode == 2 and "host-a" in bad.stderr and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
