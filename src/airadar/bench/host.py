"""Micro-benchmarks of this machine: achieved matrix-multiply FLOP/s and memory bandwidth,
measured with PyTorch. They make a hardware row for the host whose figures are measured,
not looked up (provenance ``measured``)."""

from __future__ import annotations

import time
from typing import Any

from airadar.bench.environment import cpu_model, memory_bytes
from airadar.errors import BackendError


def host_id(cpu: str) -> str:
    """The hardware id of a measured host (``host-`` and the CPU model as a slug): the name
    ``calibrate --host`` gives its row and a fleet node advertises as a Ray resource."""
    import re

    return "host-" + re.sub(r"[^a-z0-9]+", "-", cpu.lower()).strip("-")


def measure(threads: int | None = None, seconds: float = 1.0) -> dict[str, Any]:
    try:
        import torch
    except ImportError:
        raise BackendError("host micro-benchmarks need PyTorch: pip install torch==2.13.0") from None
    if threads:
        torch.set_num_threads(threads)
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        reps += 1
    flops = 2 * n**3 * reps / (time.perf_counter() - t0)
    x = torch.empty(64 * 1024 * 1024 // 4)  # 64 MiB, beyond the caches
    y = torch.empty_like(x)
    y.copy_(x)
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        y.copy_(x)
        reps += 1
    bw = 2 * x.numel() * 4 * reps / (time.perf_counter() - t0)  # read + write
    return {"cpu": cpu_model(), "threads": torch.get_num_threads(),
            "peak_flops_fp32": flops, "mem_bandwidth_bytes_per_s": bw,
            "memory_bytes": memory_bytes() or 8 * 1024**3, "measured_at": time.strftime("%Y-%m-%d")}


def host_row(m: dict[str, Any], host_id: str) -> dict[str, Any]:
    """A hardware catalog row (datasheet units) from the measurements."""
    src = (f"measured by airadar host micro-benchmark on {m['cpu']} ({m['threads']} threads): "
           "torch fp32 1024x1024 matmul and a 64 MiB copy")
    return {
        "id": host_id, "name": f"This machine ({m['cpu']}, {m['threads']} threads)",
        "vendor": "host", "class": "cpu", "form_factor": "host", "devices_per_server": 1,
        "aliases": [host_id],
        "compute": {"tflops_dense": {"fp32": m["peak_flops_fp32"] / 1e12,
                                     "bf16": m["peak_flops_fp32"] / 1e12},
                    "source": src, "as_of": m["measured_at"]},
        "memory": {"tiers": [{"name": "DRAM", "capacity_gb": m["memory_bytes"] / 1e9,
                              "bandwidth_gb_s": m["mem_bandwidth_bytes_per_s"] / 1e9}],
                   "source": src, "as_of": m["measured_at"]},
        "power": {"source": "not measured: RAPL unreadable here; TDP of the host unknown",
                  "as_of": m["measured_at"]},
        "derived": {"compute": "bf16 listed at the fp32 rate: the torch CPU path measured runs fp32"},
    }


def store_measurement(store: Any, m: dict[str, Any]) -> int:
    """Keep a host micro-benchmark in the result store, beside the runs it explains."""
    from airadar.bench.environment import environment

    rid = store.start_run(backend="host", model="micro-benchmark", scenario="host", settings=m,
                          environment=environment(m.get("threads")))
    store.finish_run(rid, "complete")
    return int(rid)


def stored_measurement(store: Any) -> dict[str, Any] | None:
    """The median of the host micro-benchmarks kept in a store (None when there are none):
    calibration then uses the machine's figures from the time of the campaign."""
    import statistics

    runs = [r["settings"] for r in store.list_runs()
            if r["backend"] == "host" and r["status"] == "complete"]
    if not runs:
        return None
    out = dict(runs[-1])
    for k in ("peak_flops_fp32", "mem_bandwidth_bytes_per_s"):
        out[k] = statistics.median(float(r[k]) for r in runs)
    out["stored_runs"] = len(runs)
    return out
