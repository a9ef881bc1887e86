"""What a measurement ran on: recorded with every run."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def versions(*names: str) -> dict[str, str]:
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            continue
    return out


#: set by a fleet bench (``airadar bench --ray``) on the node that runs the job: JSON with
#: the hardware resource it was scheduled on and the Ray node id
FLEET_ENV = "AIRADAR_FLEET_NODE"


def fleet_node() -> dict[str, Any]:
    import json

    raw = os.environ.get(FLEET_ENV)
    if not raw:
        return {}
    try:
        got = json.loads(raw)
    except ValueError:
        return {}
    return got if isinstance(got, dict) else {}


def environment(threads: int | None = None, **settings: Any) -> dict[str, Any]:
    return {
        "host": platform.node(), **({"fleet": fleet_node()} if fleet_node() else {}),
        "cpu": cpu_model(), "cores": os.cpu_count(), "memory_bytes": memory_bytes(),
        "platform": platform.platform(), "python": platform.python_version(),
        "versions": versions("airadar", "numpy", "onnxruntime", "onnxruntime-gpu", "torch",
                             "llama_cpp_python", "gguf", "sqlalchemy"),
        "gpus": gpus(),
        "threads": threads, **settings,
    }



def gpus() -> list[dict[str, Any]]:
    """NVIDIA GPUs as NVML reports them (empty without a driver or nvidia-ml-py)."""
    try:
        import pynvml
        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - no package, no driver, no GPU
        return []
    out = []
    try:
        drv = pynvml.nvmlSystemGetDriverVersion()
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(h)
            mem = pynvml.nvmlDeviceGetMemoryInfo(h).total
            out.append({"index": i, "name": name if isinstance(name, str) else name.decode(),
                        "memory_bytes": int(mem), "driver": str(drv)})
    except pynvml.NVMLError:  # a device NVML cannot describe: report the ones it could
        pass
    return out
