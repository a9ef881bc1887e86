"""The sweep's robustness page: escaped, self-contained, the tornado chart renders."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from airadar.report.sweep_html import render_sweep
from airadar.sweep.robust import aggregate
from tests.report.browser import open_page

XSS = "<script>alert(1)</script>"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def answer() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    futures = []
    for i in range(200):
        x, y = float(rng.uniform(0.8, 1.6)), float(rng.lognormal(np.log(25), 0.3))
        futures.append({"i": i, "grid": 0, "inputs": {"financial.electricity_price_multiplier": x,
                                                     "workload.peak_rps": y},
                        "c": {f"{XSS} owned": [300 * x + 20 * y, 0.1, 300 * x + 20 * y, int(y > 30),
                                               2, 1.0],
                              "cloud": [900.0 + 10 * y, 0.3, 900.0 + 10 * y, 0, 1, 1.0]}})
    a = aggregate(futures, objective="min_tco", grid_points=[{}],
                  inputs=["financial.electricity_price_multiplier", "workload.peak_rps"])
    return {"scenario": XSS, "sweep_id": "x", "sweep": {"seed": 1, "futures": 200}, **a,
            "execution": {"executor": "local", "workers": 2}}


def test_sweep_page_escapes_and_has_its_sections(answer: dict[str, Any]) -> None:
    """Scenario and candidate names are escaped; robustness, tornado and cost sections exist."""
    page = render_sweep(answer)
    assert XSS not in page and "&lt;script&gt;" in page
    for s in ("Robust choice:", 'id="fig-tornado"', 'id="fig-cost"', "most sensitive to"):
        assert s in page


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_sweep_page_renders_in_headless_chromium(answer: dict[str, Any], tmp_path: Path) -> None:
    """Chromium draws the tornado offline with no console error and no alert; a screenshot is
    kept in test-artifacts/."""
    playwright = pytest.importorskip("playwright.sync_api")
    f = tmp_path / "index.html"
    f.write_text(render_sweep(answer), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    with open_page(playwright, f, wait_for="#plot-tornado .main-svg") as o:
        page = o.page
        assert page.locator("#plot-tornado .bars path").count() >= 2
        assert page.locator("table.candidates tbody tr").count() == 2
        page.screenshot(path=str(ARTIFACTS / "sweep-report.png"), full_page=True)
    assert not o.errors, o.errors
    assert not o.dialogs
