"""Fleet benchmarks: a bench job runs on the Ray node that holds the requested hardware.

Each node of a lab advertises what it has as Ray custom resources when it joins the cluster,
e.g. the host id ``airadar bench-host`` measures, or a catalog id:

    ray start --head --resources '{"host-amd-epyc-9654": 1}'
    ray start --address HEAD:6379 --resources '{"h100-sxm": 1}'

``airadar bench --ray HEAD:6379 --hardware h100-sxm --store postgresql://...`` then schedules
the job as a task needing one unit of that resource (so two jobs never share a machine's
hardware), which runs the ordinary ``airadar bench`` command on that node with the same
arguments; the node writes its samples straight to the store URL, and its run records the
hardware id, the Ray node id and the host name."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from airadar.distributed.ray_exec import connect
from airadar.errors import BackendError, SpecError


def _bench_on_node(argv: list[str], hardware: str) -> dict[str, Any]:
    import os
    import platform

    import ray

    from airadar.bench.environment import FLEET_ENV

    node = {"hardware": hardware, "ray_node_id": ray.get_runtime_context().get_node_id(),
            "hostname": platform.node()}
    env = {**os.environ, FLEET_ENV: json.dumps(node)}
    r = subprocess.run([sys.executable, "-m", "airadar", "bench", *argv, "--json"],
                       capture_output=True, text=True, env=env)
    return {"rc": r.returncode, "stdout": r.stdout, "stderr": r.stderr[-2000:], "node": node}


def hardware_nodes(ray: Any, hardware: str) -> int:
    return sum(1 for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get(hardware))


def bench_on(address: str, hardware: str, argv: list[str]) -> dict[str, Any]:
    """Run ``airadar bench ARGV`` on a node advertising ``hardware``; its JSON output."""
    ray = connect(address)
    if not hardware_nodes(ray, hardware):
        known = sorted({k for n in ray.nodes() if n.get("Alive") for k in n.get("Resources", {})
                        if k not in ("CPU", "GPU", "memory", "object_store_memory")
                        and not k.startswith(("node:", "accelerator_type:"))})
        raise SpecError("--hardware", hardware, "a resource a node of the cluster advertises ("
                        + (", ".join(known) or "none advertised: ray start --resources "
                           "'{\"ID\": 1}'") + ")")
    task = ray.remote(num_cpus=0, resources={hardware: 1}, max_retries=0)(_bench_on_node)
    got = ray.get(task.remote(argv, hardware))
    if got["rc"] != 0:
        line = (got["stderr"].strip().splitlines() or ["no output"])[-1]
        raise BackendError(f"bench on {hardware} ({got['node']['hostname']}) failed: "
                           f"{line.removeprefix('error: ')}")
    try:
        out: dict[str, Any] = json.loads(got["stdout"])
    except ValueError:
        raise BackendError(f"bench on {hardware}: unreadable output") from None
    out["node"] = got["node"]
    return out
