"""TCO arithmetic: worked public examples reproduced by hand, and invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airadar.cost import tco
from airadar.cost.energy import operational_kgco2e


def test_worked_example_energy_cost_of_one_h100_year() -> None:
    """althacker.news item 47709351 (2026): "500W for a year is about 4500kWh, which at
    $0.10/kWh is $450/year". By hand: 0.5 kW x 8760 h x $0.10 = $438 (within 5% of $450)."""
    per_hour = tco.energy_cost_usd_per_hour(it_power_w=500, pue=1.0, tariff_usd_per_kwh=0.10)
    assert per_hour * 8760 == pytest.approx(450, rel=0.05)


def test_worked_example_dgx_facility_power() -> None:
    """lynx-cortex 'Datacenter economics' (2026): 8 x 700 W GPUs + 500 W host + 100 W network
    = 6.2 kW IT; with PUE 1.2 about 7.4 kW at the facility. Energy cost at $1/kWh equals kW."""
    it_w = 8 * 700 + 500 + 100
    facility_kw = tco.energy_cost_usd_per_hour(it_power_w=it_w, pue=1.2, tariff_usd_per_kwh=1.0)
    assert facility_kw == pytest.approx(7.4, rel=0.05)


def test_worked_example_two_node_h100_cluster_capex() -> None:
    """Public 'H100 cluster cost' spreadsheet (Aug 2024), 2-node row: 2 x $310,000 nodes +
    $12,960 cables + $100,000 facility & ops = $732,960, i.e. $45,810 per H100 (16 GPUs).
    Straight-line over 1 year with no residual returns the same total."""
    purchase = 2 * 310_000 + 12_960
    bd = tco.owned_cost(purchase_usd=purchase, years=1, it_power_avg_w=0, it_power_provisioned_w=0,
                        pue=1.0, tariff_usd_per_kwh=0.0, installation_usd=100_000)
    total = bd.usd_per_hour * 8760
    assert total == pytest.approx(732_960, rel=0.05)
    assert total / 16 == pytest.approx(45_810, rel=0.05)


def test_colocation_matches_cbre_rate_arithmetic() -> None:
    """CBRE H2 2024: $184.06 per kW-month; 250 kW provisioned = $46,015/month."""
    bd = tco.owned_cost(purchase_usd=0, years=1, it_power_avg_w=0, it_power_provisioned_w=250_000,
                        pue=1.0, tariff_usd_per_kwh=0, colo_usd_per_kw_month=184.06)
    assert bd.usd_per_month == pytest.approx(250 * 184.06, rel=1e-9)


def test_capital_recovery_factor_textbook_value() -> None:
    """CRF(10%, 5 years) = 0.26380 (standard interest tables)."""
    assert tco.capital_recovery_factor(rate=0.10, years=5) == pytest.approx(0.263797, rel=1e-5)


money = st.floats(min_value=0, max_value=1e7, allow_nan=False)


@settings(max_examples=50, deadline=None)
@given(p=money, w=st.floats(min_value=0, max_value=1e5), t=st.floats(min_value=0, max_value=1),
       colo=st.floats(min_value=0, max_value=500), m=st.floats(min_value=0, max_value=0.5))
def test_cost_is_the_sum_of_its_components(p, w, t, colo, m) -> None:  # type: ignore[no-untyped-def]
    """Total = sum of components, each computed alone."""
    kw = {"years": 4.0, "it_power_provisioned_w": w, "pue": 1.3}
    full = tco.owned_cost(purchase_usd=p, it_power_avg_w=w, tariff_usd_per_kwh=t,
                          colo_usd_per_kw_month=colo, maintenance_fraction_per_year=m, **kw)
    hw = tco.owned_cost(purchase_usd=p, it_power_avg_w=0, tariff_usd_per_kwh=0,
                        maintenance_fraction_per_year=m, **kw)
    en = tco.owned_cost(purchase_usd=0, it_power_avg_w=w, tariff_usd_per_kwh=t, **kw)
    co = tco.owned_cost(purchase_usd=0, it_power_avg_w=0, tariff_usd_per_kwh=0,
                        colo_usd_per_kw_month=colo, **kw)
    assert full.usd_per_hour == pytest.approx(hw.usd_per_hour + en.usd_per_hour + co.usd_per_hour,
                                              rel=1e-9, abs=1e-9)


@settings(max_examples=50, deadline=None)
@given(price=st.floats(min_value=0.01, max_value=100), n=st.integers(1, 64),
       years=st.floats(min_value=0.5, max_value=10))
def test_cloud_cost_is_linear_in_hours(price, n, years) -> None:  # type: ignore[no-untyped-def]
    """N-year cost = hourly cost x hours; doubling the years doubles the cost."""
    bd = tco.cloud_cost(usd_per_device_hour=price, devices=n)
    assert bd.tco_usd(2 * years) == pytest.approx(2 * bd.tco_usd(years))


@settings(max_examples=50, deadline=None)
@given(cost_h=st.floats(min_value=0.01, max_value=1000), tps=st.floats(min_value=1, max_value=1e6),
       u1=st.floats(min_value=0.01, max_value=1), u2=st.floats(min_value=0.01, max_value=1))
def test_more_utilization_never_raises_cost_per_token(cost_h, tps, u1, u2) -> None:  # type: ignore[no-untyped-def]
    """$/token is non-increasing in utilization."""
    lo, hi = sorted((u1, u2))
    a = tco.usd_per_million_tokens(usd_per_hour=cost_h, tokens_per_s=tps, utilization=lo)
    b = tco.usd_per_million_tokens(usd_per_hour=cost_h, tokens_per_s=tps, utilization=hi)
    assert b <= a * (1 + 1e-12)


def test_break_even_utilization_formula() -> None:
    """Owned $10/h fixed + $2/busy-hour vs cloud $22/busy-hour: u* = 10 / 20 = 50%."""
    assert tco.break_even_utilization(owned_fixed_usd_per_hour=10, owned_variable_usd_per_busy_hour=2,
                                      cloud_usd_per_busy_hour=22) == pytest.approx(0.5)
    assert tco.break_even_utilization(owned_fixed_usd_per_hour=30, owned_variable_usd_per_busy_hour=2,
                                      cloud_usd_per_busy_hour=22) is None


def test_operational_carbon() -> None:
    """1,000 kWh on a 381 g/kWh grid (Germany 2023, Ember) is 381 kg CO2e."""
    assert operational_kgco2e(energy_kwh=1000, grid_gco2_per_kwh=381) == pytest.approx(381)


@pytest.mark.parametrize(("kw", "field"), [
    ({"utilization": 0}, "utilization"), ({"utilization": 1.5}, "utilization"),
])
def test_bad_utilization_is_refused(kw: dict, field: str) -> None:
    """Utilization outside (0, 1] names the field."""
    from airadar.errors import SpecError
    with pytest.raises(SpecError, match=field):
        tco.usd_per_million_tokens(usd_per_hour=1, tokens_per_s=1, **kw)
