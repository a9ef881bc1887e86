"""The HTML report: self-contained, escaped, and (with Chromium) rendered without errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from airadar.plan.planner import plan
from airadar.report.html import render
from airadar.specs.scenario import Scenario
from tests.plan.test_planner import SMALL
from tests.report.browser import open_page

XSS = "<script>alert(1)</script>"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def report_html() -> str:
    data = yaml.safe_load(yaml.safe_dump(SMALL))
    data["name"] = XSS
    data["description"] = f"desc {XSS} & more"
    return render(plan(Scenario.model_validate(data)))


def test_scenario_strings_are_escaped(report_html: str) -> None:
    """A scenario named <script>alert(1)</script> appears only as escaped text."""
    assert XSS not in report_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report_html


def test_report_is_self_contained(report_html: str) -> None:
    """No external script or stylesheet: plotly's library is embedded."""
    import re
    assert not re.search(r"<script[^>]+src=", report_html)
    assert not re.search(r"<link[^>]+href=\"?https?:", report_html)
    assert "plotly" in report_html.lower()
    for section in ("Decision", "Shortlist", "Pareto front", "Cost breakdown", "Energy and carbon",
                    "Roofline", "Data-sovereignty verdicts", "Assumptions and sources"):
        assert section in report_html


def test_report_opens_with_the_decision(report_html: str) -> None:
    """The first section is the decision (recommended deployment, why, the other kinds); the
    heterogeneous plans are tables and sentences, not raw JSON."""
    assert report_html.index("<h2>Decision</h2>") < report_html.index("<h2>Shortlist</h2>") \
        < report_html.index("<h2>Pareto front</h2>")
    assert "Recommended:" in report_html and "cheapest of each other kind" in report_html
    het = report_html[report_html.index("<h2>Heterogeneous plans</h2>"):]
    assert "<pre>" not in het and "the ranked #1" in het


def test_one_colour_scale_on_the_pareto_chart(report_html: str) -> None:
    """Both traces of the Pareto chart share cmin/cmax, so a colour means one energy."""
    import re
    fig = report_html[report_html.index('id="fig-pareto"'):report_html.index('id="fig-breakdown"')]
    cmins = set(re.findall(r'"cmin":([0-9.e+-]+)', fig))
    assert len(cmins) == 1, cmins


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_report_renders_in_headless_chromium(report_html: str, tmp_path: Path) -> None:
    """Chromium loads the report offline, finds the plots and tables, logs no console errors
    and no alert fires; a screenshot is kept in test-artifacts/."""
    playwright = pytest.importorskip("playwright.sync_api")
    page_file = tmp_path / "index.html"
    page_file.write_text(report_html, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    with open_page(playwright, page_file, wait_for="#plot-pareto .main-svg") as o:
        page = o.page
        assert page.locator(".js-plotly-plot").count() >= 4
        assert page.locator("table.ranked tbody tr").count() >= 1
        assert page.locator("table.policy tbody tr").count() >= 1
        assert XSS in page.locator("h1").inner_text()
        page.screenshot(path=str(ARTIFACTS / "plan-report.png"), full_page=False)
    assert not o.errors, o.errors
    assert not o.dialogs


def test_report_flags_old_prices_and_names_their_date() -> None:
    """With a 30-day limit on 2026-12-02, RunPod's prices of 2026-11-09 are current and the
    rest (2026-09-26 and older) are old: each ranked row says which, beside the date."""
    data = yaml.safe_load(yaml.safe_dump(SMALL))
    data["financial"] = {"max_price_age_days": 30, "price_date": "2026-12-02"}
    res = plan(Scenario.model_validate(data), detail=False)
    from airadar.plan.shortlist import shortlist

    ranked = render(res).split("<h2>Shortlist</h2>")[1].split("<h2>")[0]
    rows = ranked.split("<tr>")[2:]
    shown = [r.candidate for r in shortlist(res, top=25)]
    assert len(rows) == len(shown)
    for c, row in zip(shown, rows, strict=True):
        assert c.price_age is not None and c.price_age.oldest in row
        assert ("OLD</span>" in row) == c.price_age.old == (c.price_age.age_days is None
                                                            or c.price_age.age_days > 30)
    assert {c.price_age.old for c in res.ranked if c.price_age} == {True, False}
