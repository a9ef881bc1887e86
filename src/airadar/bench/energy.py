"""Energy of a measured run: NVML on NVIDIA GPUs, RAPL where its counters are readable, and
elsewhere an estimate from the power model, labelled as estimated.

Measured sources subtract an idle baseline: the meter samples the counter for
``idle_s`` seconds before the run (nothing running) and removes idle power x run time.
The estimate counts only the CPU time the process used, at a power per busy core taken
from the catalog (TDP / physical cores of the host CPU's row, or the median over the
catalog's server CPUs when the host is not in it), so it has no idle part to remove."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from airadar.units import mj_to_j

RAPL_ROOT = Path("/sys/class/powercap")


def rapl_domains(root: Path = RAPL_ROOT) -> list[Path]:
    """Top-level package domains (intel-rapl:N, also used by the amd driver)."""
    return sorted(p for p in root.glob("intel-rapl:*") if p.name.count(":") == 1
                  and (p / "energy_uj").is_file())


def read_rapl_uj(domains: list[Path]) -> tuple[int, ...] | None:
    try:
        return tuple(int((d / "energy_uj").read_text().strip()) for d in domains)
    except (OSError, ValueError):
        return None


def rapl_delta_j(d0: tuple[int, ...], d1: tuple[int, ...], domains: list[Path]) -> float:
    """Joules between two readings, handling one counter wrap per domain."""
    total = 0
    for a, b, dom in zip(d0, d1, domains, strict=True):
        diff = b - a
        if diff < 0:
            try:
                diff += int((dom / "max_energy_range_uj").read_text().strip())
            except (OSError, ValueError):
                diff = 0
        total += diff
    return total / 1e6


def _nvml() -> Any:
    try:
        import pynvml
        pynvml.nvmlInit()
        return pynvml
    except Exception:  # noqa: BLE001 - no driver / no package / no GPU
        return None


def per_core_watts(cpu: str) -> tuple[float, str] | None:
    """(watts per busy core, how it was derived) from the hardware catalog."""
    from airadar.catalog.loader import load_hardware
    from airadar.catalog.resolve import normalise

    try:
        rows = [h for h in load_hardware() if h.hw_class == "cpu" and h.tdp_w and h.cores]
    except Exception:  # noqa: BLE001 - a broken user catalog must not stop a measurement
        return None
    if not rows:
        return None
    norm = normalise(cpu)
    for h in rows:
        if any(normalise(a) == norm for a in (h.id, h.name, *h.aliases)):
            assert h.tdp_w and h.cores
            return h.tdp_w / h.cores, (f"catalog row {h.id}: TDP {h.tdp_w:g} W / {h.cores} cores "
                                       f"({h.sources['power'].source})")
    per = sorted(h.tdp_w / h.cores for h in rows if h.tdp_w and h.cores)
    med = statistics.median(per)
    return med, (f"median TDP per core of the catalog's {len(per)} CPUs "
                 f"({', '.join(h.id for h in rows)}): {med:.2f} W; the host CPU ({cpu}) is "
                 "not in the catalog")


class EnergyMeter:
    """``start()`` before the measured work, ``stop()`` after; ``stop`` returns a dict with
    ``joules``, ``measured`` (bool), ``source`` and, for measured sources, the baseline."""

    def __init__(self, *, gpu_index: int | None = None, idle_s: float = 1.0,
                 rapl_root: Path = RAPL_ROOT, cpu: str | None = None) -> None:
        self.idle_s = idle_s
        self.gpu_index = gpu_index
        self.nv = _nvml() if gpu_index is not None else None
        self.domains = rapl_domains(rapl_root)
        if self.domains and read_rapl_uj(self.domains) is None:
            self.domains = []
        from airadar.bench.environment import cpu_model
        self.cpu = cpu or cpu_model()
        self.idle_w = 0.0

    def source(self) -> str:
        if self.nv is not None:
            return f"NVML total energy counter, GPU {self.gpu_index}"
        if self.domains:
            return "RAPL " + ", ".join(d.name for d in self.domains)
        return "estimate"

    def _read(self) -> Any:
        """The raw counter: NVML joules, or one RAPL microjoule reading per domain."""
        if self.nv is not None:
            h = self.nv.nvmlDeviceGetHandleByIndex(self.gpu_index)
            return mj_to_j(float(self.nv.nvmlDeviceGetTotalEnergyConsumption(h)))
        if self.domains:
            return read_rapl_uj(self.domains)
        return None

    def _delta(self, a: Any, b: Any) -> float:
        if self.nv is not None:
            return float(b - a)
        return rapl_delta_j(a, b, self.domains)

    def start(self) -> None:
        if self.source() != "estimate" and self.idle_s > 0:
            a, t = self._read(), time.perf_counter()
            time.sleep(self.idle_s)
            b, t1 = self._read(), time.perf_counter()
            self.idle_w = self._delta(a, b) / (t1 - t) if a is not None and b is not None else 0.0
        self.r0 = self._read()
        self.t0 = time.perf_counter()
        self.cpu0 = time.process_time()

    def stop(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.t0
        cpu_s = time.process_time() - self.cpu0
        r1 = self._read()
        if self.r0 is not None and r1 is not None:
            total = self._delta(self.r0, r1)
            return {"measured": True, "source": self.source(), "joules_total": total,
                    "idle_w": self.idle_w, "wall_s": wall,
                    "joules": max(total - self.idle_w * wall, 0.0),
                    "note": f"measured ({self.source()}), idle baseline {self.idle_w:.1f} W "
                            f"over {self.idle_s:g} s subtracted"}
        pc = per_core_watts(self.cpu)
        if pc is None:
            return {"measured": False, "joules": None,
                    "note": "not measured: no energy counter readable and no catalog CPU with "
                            "TDP and core count to estimate from"}
        w, how = pc
        return {"measured": False, "estimated": True, "source": "estimate", "joules": w * cpu_s,
                "cpu_seconds": cpu_s, "wall_s": wall, "watts_per_core": w,
                "note": f"estimated (no readable energy counter): {cpu_s:.2f} CPU-s x "
                        f"{w:.2f} W per busy core; {how}"}
