"""The one price resolver: currency, terms, purchase ranges, tariffs and the age of prices."""

from __future__ import annotations

from datetime import date

import pytest

from airadar.catalog import resolve
from airadar.catalog.sites import site
from airadar.cost.deployment import deployment_cost
from airadar.cost.pricing import cloud_quote, price_age, purchase_quote
from airadar.specs.financial import Financials

TODAY = date(2026, 12, 2)


def test_eur_price_converts_with_the_stated_rate() -> None:
    """STACKIT n1.14d.g1 (1x A100 80GB) is EUR 2.65808333333/h (STACKIT price API, 2026-06-09):
    x 1.0824 USD/EUR (ECB 2024 average, prices.yaml), or x the scenario's rate."""
    q = cloud_quote(site("stackit-de"), "a100-sxm-80gb", "on-demand", Financials(), TODAY)
    assert q is not None
    assert q.usd == pytest.approx(2.65808333333 * 1.0824)
    assert "1.0824" in q.source and "ECB" in q.source
    q2 = cloud_quote(site("stackit-de"), "a100-sxm-80gb", "on-demand",
                     Financials(eur_usd=1.16), TODAY)
    assert q2 is not None and q2.usd == pytest.approx(2.65808333333 * 1.16)


def test_monthly_term_is_the_monthly_price_over_730_hours() -> None:
    """OVHcloud a100-180: EUR 1,100/month billed monthly vs EUR 2.75/h (ovhcloud.com prices,
    as transcribed 2026-09-26): the monthly term is 1100/730 per hour, far below hourly."""
    fin = Financials(eur_usd=1.0)
    m = cloud_quote(site("ovhcloud-gra"), "a100-sxm-80gb", "monthly", fin, TODAY)
    h = cloud_quote(site("ovhcloud-gra"), "a100-sxm-80gb", "on-demand", fin, TODAY)
    assert m is not None and h is not None
    assert m.usd == pytest.approx(1100 / 730) and h.usd == pytest.approx(2.75)


def test_price_older_than_the_threshold_is_flagged() -> None:
    """STACKIT's price of 2026-06-09 is 176 days old on 2026-12-02: flagged at a 150-day limit,
    not at the default 180."""
    q = cloud_quote(site("stackit-de"), "l40s", "on-demand", Financials(), TODAY)
    assert q is not None
    ok = price_age([q], Financials(), TODAY)
    old = price_age([q], Financials(max_price_age_days=150), TODAY)
    assert ok.oldest == "2026-06-09" and ok.age_days == 176 and not ok.old
    assert old.old and "older than 150 days" in old.labels


def test_undated_and_assumed_currency_rows_carry_their_labels() -> None:
    """Nebius eu-west1 H200 (SkyPilot catalog, no date, 'USD (assumed)') is old and says so."""
    q = cloud_quote(site("nebius-par"), "h200-sxm", "on-demand", Financials(), TODAY)
    assert q is not None
    a = price_age([q], Financials(), TODAY)
    assert a.old and a.oldest == "undated"
    assert {"undated", "assumed currency"} <= set(a.labels)


def test_secondary_label_reaches_the_cost() -> None:
    """A Scaleway price (a secondary transcription) is labelled 'secondary' in the cost JSON."""
    c = deployment_cost(hw=resolve.hardware("l4"), devices=1, site=site("scaleway-par"),
                        fin=Financials(), throughput_tok_s=None, bottleneck="memory", today=TODAY)
    j = c.to_json()
    assert "secondary" in j["price_labels"] and j["price_as_of"] == "2026-09-26"


def test_purchase_range_flows_into_the_cost_interval() -> None:
    """L40S street EUR 7,873-9,084 excl. VAT (geizhals.de, 2026-09-26) plus the Thomas-Krenn
    8-GPU barebone EUR 10,699 / 8: the point is the midpoint, the interval the range."""
    fin = Financials(eur_usd=1.0)
    q = purchase_quote(resolve.hardware("l40s"), fin)
    share = 10699 / 8
    assert q.usd_low == pytest.approx(7873 + share)
    assert q.usd_high == pytest.approx(9084 + share)
    assert q.usd == pytest.approx((7873 + 9084) / 2 + share)
    c = deployment_cost(hw=resolve.hardware("l40s"), devices=2, site=site("onprem-de"), fin=fin,
                        throughput_tok_s=None, bottleneck="memory", today=TODAY)
    assert c.usd_per_hour_low is not None and c.usd_per_hour_high is not None
    assert c.usd_per_hour_low < c.usd_per_hour < c.usd_per_hour_high


def test_colocation_range_from_the_market_rows() -> None:
    """Frankfurt colocation EUR 130-180/kW-month (datacentres.com guide): the midpoint is
    charged and the interval spans the range; the undated guide makes the cost 'undated'."""
    fin = Financials(eur_usd=1.0)
    c = deployment_cost(hw=resolve.hardware("l40s"), devices=1, site=site("colo-de-fra"),
                        fin=fin, throughput_tok_s=None, bottleneck="memory", today=TODAY)
    kw = (350 + 150) / 1000  # L40S TDP 350 W + the 150 W host-overhead default, provisioned
    assert c.breakdown.components["colocation"] == pytest.approx(155 * kw / 730)
    assert c.price_age is not None and c.price_age.oldest == "undated"


def test_scoring_and_detail_price_eur_cloud_the_same() -> None:
    """One cost model: the ranking's $/h for STACKIT equals cost.deployment's."""
    from airadar.plan.planner import plan
    from airadar.specs.scenario import Scenario

    sc = Scenario.model_validate({
        "name": "t", "model": "llama-3.1-8b",
        "workload": {"peak_rps": 5, "input_tokens": 500, "output_tokens": 100,
                     "slo": {"ttft_p99_ms": 3000, "tpot_p99_ms": 100}},
        "candidates": {"hardware": ["l40s", "h100-sxm"], "sites": ["stackit-de", "ovhcloud-gra"],
                       "precisions": ["fp8"], "terms": ["on-demand", "monthly"]}})
    res = plan(sc)
    assert {c.term for c in res.ranked} == {"on-demand", "monthly"}
    for c in res.ranked[:6]:
        assert c.detail["usd_per_hour"] == pytest.approx(c.usd_per_hour)
        assert c.price_age is not None and c.detail["price_as_of"] == c.price_age.oldest


def test_tariff_order() -> None:
    """A site's contract tariff (scenario) beats the Eurostat country row, which beats the
    scenario's fallback; edge sites take no country row (band IC is a data-centre band)."""
    from airadar.cost.pricing import tariff_quote

    fin = Financials(electricity_usd_per_kwh=0.3, electricity_overrides={"onprem-de": 0.18},
                     eur_usd=1.0)
    own = tariff_quote(site("onprem-de"), fin)
    country = tariff_quote(site("onprem-fr"), fin)
    edge = tariff_quote(site("edge-factory-de"), fin)
    assert own is not None and own.usd == 0.18
    assert country is not None and country.usd == pytest.approx(0.1534)  # Eurostat FR band IC
    assert edge is not None and edge.usd == 0.3 and edge.source.startswith("scenario")
