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


def environment(threads: int | None = None, **settings: Any) -> dict[str, Any]:
    return {
        "cpu": cpu_model(), "cores": os.cpu_count(), "memory_bytes": memory_bytes(),
        "platform": platform.platform(), "python": platform.python_version(),
        "versions": versions("airadar", "numpy", "onnxruntime", "torch", "sqlalchemy"),
        "threads": threads, **settings,
    }

