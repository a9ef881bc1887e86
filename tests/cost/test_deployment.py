"""Deployment cost from the catalogs: sites, prices and their provenance."""

from __future__ import annotations

import pytest

from airadar.catalog import resolve
from airadar.catalog.sites import load_sites, site
from airadar.cost.deployment import CostUnavailable, deployment_cost
from airadar.specs.financial import Financials
from tests.conftest import run_cli


def test_site_catalog_coverage() -> None:
    """>= 30 sites; >= 7 cloud providers; EU sovereign offerings, EU-parented providers,
    an air-gapped site and edge sites are present."""
    sites = load_sites()
    assert len(sites) >= 30
    clouds = {s.operator for s in sites if s.kind == "cloud"}
    assert len(clouds) >= 7
    assert any(s.sovereign_offering for s in sites)
    assert {"OVH SAS", "Scaleway SAS", "IONOS SE", "Hetzner Online GmbH"} <= clouds
    assert any(s.connectivity == "air-gapped" for s in sites)
    assert {"edge", "device", "colo", "onprem"} <= {s.kind for s in sites}


def test_every_site_figure_has_a_source() -> None:
    """PUE, grid intensity, tariffs and offers all carry source and as_of."""
    for s in load_sites():
        for v in (s.pue, s.grid_gco2_per_kwh, s.electricity_usd_per_kwh, s.colo_usd_per_kw_month):
            if v is not None:
                assert v.source and v.as_of, s.id
        for o in s.offers or ():
            assert o.source and o.as_of, (s.id, o.hardware)


def test_cloud_cost_uses_the_sourced_price() -> None:
    """8x H100 at AWS us-east-1 on demand = 8 x $6.88 = $55.04/h (the p5.48xlarge price)."""
    c = deployment_cost(hw=resolve.hardware("h100"), devices=8, site=site("aws-us-east-1"),
                        fin=Financials(), throughput_tok_s=10_000, bottleneck="memory")
    assert c.usd_per_hour == pytest.approx(55.04)
    assert "datareceipts" in c.provenance["price"]


def test_partial_instances_are_billed_whole() -> None:
    """3 GPUs on an 8-GPU instance bill 8."""
    c = deployment_cost(hw=resolve.hardware("h100"), devices=3, site=site("aws-us-east-1"),
                        fin=Financials(), throughput_tok_s=None, bottleneck="memory")
    assert c.billed_devices == 8


def test_missing_tariff_is_a_named_user_parameter() -> None:
    """A site without a sourced tariff (devices spread over US states) asks for
    financial.electricity_usd_per_kwh; the scenario's value then fills it."""
    hw = resolve.hardware("jetson-orin-nano-8gb")
    with pytest.raises(CostUnavailable, match="electricity_usd_per_kwh"):
        deployment_cost(hw=hw, devices=1, site=site("edge-field-us"), fin=Financials(),
                        throughput_tok_s=None, bottleneck="memory")
    c = deployment_cost(hw=hw, devices=1, site=site("edge-field-us"),
                        fin=Financials(electricity_usd_per_kwh=0.2), throughput_tok_s=None,
                        bottleneck="memory")
    assert c.provenance["electricity"].startswith("scenario")


def test_owned_site_uses_its_countrys_eurostat_tariff() -> None:
    """onprem-de has no tariff of its own: Eurostat nrg_pc_205 band IC 2025-S2 for Germany,
    EUR 226.4/MWh excl. VAT (prices/colo_and_power.csv), beats the scenario's fallback."""
    c = deployment_cost(hw=resolve.hardware("h100"), devices=8, site=site("onprem-de"),
                        fin=Financials(electricity_usd_per_kwh=0.2, eur_usd=1.0),
                        throughput_tok_s=None, bottleneck="memory")
    assert "nrg_pc_205" in c.provenance["electricity"]
    assert c.breakdown.components["energy"] == pytest.approx(
        c.it_power_w / 1000 * 1.56 * 0.2264)


def test_eur_tariff_is_converted() -> None:
    """Finland's Eurostat band IC tariff, EUR 74.8/MWh (2025-S2), converts at the ECB 2024
    reference rate shipped in prices.yaml (1.0824 USD per EUR), or at the scenario's rate."""
    fin = Financials(utilization=1.0, amortization_years=4)
    a = deployment_cost(hw=resolve.hardware("h100"), devices=8, site=site("onprem-fi"), fin=fin,
                        throughput_tok_s=None, bottleneck="compute")
    by_hand = a.it_power_w / 1000 * 1.56 * 0.0748 * 1.0824
    assert a.breakdown.components["energy"] == pytest.approx(by_hand)
    assert "1.0824" in a.provenance["electricity"]
    b = deployment_cost(hw=resolve.hardware("h100"), devices=8, site=site("onprem-fi"),
                        fin=fin.model_copy(update={"eur_usd": 1.5}), throughput_tok_s=None,
                        bottleneck="compute")
    assert b.breakdown.components["energy"] == pytest.approx(by_hand / 1.0824 * 1.5)


def test_cost_cli_bad_input() -> None:
    """Unknown site, negative years, utilization > 1, hardware not offered: one line each."""
    for args, needle in ((["-H", "h100", "-s", "mars-1"], "unknown site"),
                         (["-H", "h100", "-s", "colo-us-va", "--years", "-1"], "--years"),
                         (["-H", "h100", "-s", "colo-us-va", "--utilization", "1.5"], "--utilization"),
                         (["-H", "l4", "-s", "aws-us-east-1"], "offers")):
        r = run_cli("cost", *args)
        assert r.returncode == 2, r.stderr
        assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_price_multipliers_scale_each_cost_input() -> None:
    """financial.*_price_multiplier scale cloud prices, purchase prices and tariffs, in the
    detailed cost and in the planner's vectorised scoring alike."""
    from airadar.cost.deployment import owned_terms, purchase_per_device

    hw = resolve.hardware("h100-sxm")
    base, more = Financials(), Financials(cloud_price_multiplier=1.5, purchase_price_multiplier=2.0,
                                          electricity_price_multiplier=3.0)
    cloud = site("aws-us-east-1")
    a, b = (deployment_cost(hw=hw, devices=8, site=cloud, fin=f, throughput_tok_s=None,
                            bottleneck="memory") for f in (base, more))
    assert b.usd_per_hour == pytest.approx(1.5 * a.usd_per_hour)
    assert purchase_per_device(hw, more)[0] == pytest.approx(2 * purchase_per_device(hw, base)[0])
    colo = site("colo-us-va")
    t0, t1 = owned_terms(colo, base).tariff_usd_per_kwh, owned_terms(colo, more).tariff_usd_per_kwh
    assert t0 and t1 == pytest.approx(3 * t0)
