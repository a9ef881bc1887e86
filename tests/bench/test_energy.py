"""Energy: RAPL counters (a fake powercap tree), wrap-around, the idle baseline, and the
labelled estimate when no counter is readable."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from airadar.bench import energy


def _rapl(root: Path, uj: int, max_uj: int = 10**12) -> Path:
    d = root / "intel-rapl:0"
    d.mkdir(parents=True, exist_ok=True)
    (d / "energy_uj").write_text(str(uj))
    (d / "max_energy_range_uj").write_text(str(max_uj))
    (root / "intel-rapl:0:0").mkdir(exist_ok=True)  # a sub-domain (core): not double counted
    ((root / "intel-rapl:0:0") / "energy_uj").write_text("5")
    return d


def test_rapl_delta_handles_a_counter_wrap(tmp_path: Path) -> None:
    d = _rapl(tmp_path, 0, max_uj=1_000_000)
    assert energy.rapl_domains(tmp_path) == [d]
    assert energy.rapl_delta_j((900_000,), (100_000,), [d]) == pytest.approx(0.2)


def test_measured_energy_subtracts_the_idle_baseline(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    d = _rapl(tmp_path, 1_000_000)
    real_sleep = time.sleep

    def idle(s: float) -> None:  # 1 J over the 0.2 s idle window: 5 W idle
        real_sleep(0.2)
        (d / "energy_uj").write_text("2000000")

    m = energy.EnergyMeter(rapl_root=tmp_path, idle_s=0.2)
    monkeypatch.setattr(energy.time, "sleep", idle)
    m.start()
    assert m.idle_w == pytest.approx(5.0, rel=0.2)
    real_sleep(0.2)
    (d / "energy_uj").write_text("4000000")  # 2 J during a ~0.2 s run
    out = m.stop()
    assert out["measured"] and out["joules_total"] == pytest.approx(2.0)
    assert out["joules"] == pytest.approx(2.0 - m.idle_w * out["wall_s"], rel=1e-9)
    assert 0.5 < out["joules"] < 1.5 and "idle baseline" in out["note"]


def test_estimate_is_labelled_and_uses_the_catalog_cpu(tmp_path: Path) -> None:
    """No counter: CPU-seconds x TDP/cores of the matched catalog row (EPYC 9654: 360 W, 96
    cores, AMD product page), labelled estimated."""
    m = energy.EnergyMeter(rapl_root=tmp_path, cpu="AMD EPYC 9654 96-Core Processor")
    m.start()
    t = time.process_time()
    while time.process_time() - t < 0.2:
        pass
    out = m.stop()
    assert out["measured"] is False and out["estimated"] is True
    assert out["watts_per_core"] == pytest.approx(360 / 96)
    assert out["joules"] == pytest.approx(out["cpu_seconds"] * 360 / 96)
    assert "estimated" in out["note"] and "epyc-9654" in out["note"]


def test_unknown_cpu_falls_back_to_the_catalog_median_and_says_so(tmp_path: Path) -> None:
    from airadar.catalog.loader import load_hardware

    w, how = energy.per_core_watts("Some Future CPU")  # type: ignore[misc]
    per = [h.tdp_w / h.cores for h in load_hardware()
           if h.hw_class == "cpu" and h.tdp_w and h.cores]
    assert len(per) >= 4
    assert w == pytest.approx(statistics.median(per))
    assert "median" in how and "not in the catalog" in how
