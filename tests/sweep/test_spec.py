"""The sweep definition: fields, distributions and counts are checked up front, and a bad one
is one line naming it (exit 2, no traceback)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from airadar.errors import SpecError
from airadar.specs.scenario import load_scenario
from airadar.sweep.spec import build_spec, parse_distribution
from tests.conftest import run_cli


@pytest.mark.parametrize(("args", "needle"), [
    (["--grid", "workload.colour=1,2"], "sweep.grid.workload.colour"),
    (["--futures", "-5"], "--futures"),
    (["--vary", "financial.electricity_price_multiplier=uniform:2:1"], "low < high"),
    (["--vary", "workload.peak_rps=lognormal:25:-1"], "sigma > 0"),
    (["--vary", "workload.peak_rps=normal:25"], "sweep.vary.workload.peak_rps"),
    (["--vary", "workload.slo.tpot_p99_ms=uniform:50:90"], "put other fields in sweep.grid"),
    (["--grid", "workload.peak_rps=10,-3"], "sweep.grid.workload.peak_rps[1]"),
    (["--workers", "0"], "--workers"),
    (["--workers", "2", "--ray", "auto"], "not both"),
])
def test_bad_sweep_input_is_one_line(small: Path, args: list[str], needle: str) -> None:
    """Unknown grid field, negative futures, bad distribution parameters: one line, exit 2."""
    r = run_cli("sweep", str(small), "--store", str(small.parent / "s.db"), *args)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_unknown_key_in_the_sweep_section(tmp_path: Path) -> None:
    """A misspelt key of the file's sweep: section is named with its path."""
    from tests.sweep.conftest import write_small

    p = write_small(tmp_path, "  futurs: 10\n")
    r = run_cli("sweep", str(p), "--store", str(tmp_path / "s.db"))
    assert r.returncode == 2 and "sweep.futurs" in r.stderr and "Traceback" not in r.stderr


def test_plan_ignores_the_sweep_section(small: Path) -> None:
    """A scenario with a sweep: section still loads for plan."""
    assert load_scenario(small).name == "small EU chat"


@pytest.mark.parametrize(("raw", "median"), [("lognormal:25:0.3", 25.0),
                                             ({"dist": "lognormal", "p10": 10, "p90": 40}, 20.0)])
def test_lognormal_median(raw: object, median: float) -> None:
    """lognormal:MEDIAN:SIGMA and {p10, p90} both give the stated median (and p10/p90)."""
    d = parse_distribution("x", raw)
    x = np.array([d.sample(np.random.default_rng(i)) for i in range(4000)])
    assert np.median(x) == pytest.approx(median, rel=0.05)
    if isinstance(raw, dict):
        assert np.percentile(x, 10) == pytest.approx(10, rel=0.08)
        assert np.percentile(x, 90) == pytest.approx(40, rel=0.08)


def test_more_grid_points_than_futures_is_an_error(small: Path) -> None:
    """Each grid point needs at least one future."""
    sc = load_scenario(small)
    with pytest.raises(SpecError, match="sweep.futures"):
        build_spec(None, futures=2, grid={"workload.peak_rps": [10, 20, 30]}, scenario=sc)
