"""The hourly cost and power of a fleet at a site: one formula for every site kind, written
with numpy operations so that ``plan.scoring`` applies it to arrays of candidates at once and
``cost.deployment`` to one candidate. The ranking and the detailed breakdown therefore agree
by construction (tested over every example).

Site kinds:

* cloud: rental = billed devices (whole instances) x price per device-hour;
* owned (on-premise, colocation, edge): devices x the fixed $/device-hour of
  ``cost.tco.owned_cost`` (capital, network share, installation, maintenance, software,
  colocation on provisioned power) + facility energy (IT power x PUE x tariff);
* the users' own devices: the operator buys no hardware and pays no electricity (the
  devices are the users'); only the extra power of serving above idle is counted as energy;
* every site: staff ($/year, owned sites) and egress (GB leaving the site x the site's
  $/GB; zero where the site publishes no egress price).

Every function takes floats or numpy arrays that broadcast together."""

from __future__ import annotations

from typing import Any

import numpy as np

from airadar.cost import tco
from airadar.cost.energy import ACTIVITY
from airadar.specs.financial import Financials
from airadar.specs.site import Site
from airadar.units import HOURS_PER_YEAR, SECONDS_PER_HOUR

Num = Any  # float or np.ndarray (broadcasting)


def owned_fixed_per_device(*, purchase_usd: float, site: Site, fin: Financials,
                           provisioned_w: float, years: float,
                           maintenance_fraction_per_year: float, network_share_fraction: float,
                           colo_usd_per_kw_month: float) -> tco.CostBreakdown:
    """The fixed $/h of one owned device, by component (no energy, no staff: those are per
    fleet). Users' own devices cost the operator nothing."""
    if site.kind == "device":
        return tco.CostBreakdown(components={})
    return tco.owned_cost(purchase_usd=purchase_usd, years=years, it_power_avg_w=0.0,
                          it_power_provisioned_w=provisioned_w, pue=1.0,
                          tariff_usd_per_kwh=0.0, discount_rate=fin.discount_rate,
                          residual_fraction=fin.residual_fraction,
                          network_share_fraction=network_share_fraction,
                          installation_usd=fin.installation_usd_per_device,
                          maintenance_fraction_per_year=maintenance_fraction_per_year,
                          software_usd_per_year=fin.software_usd_per_device_year,
                          colo_usd_per_kw_month=colo_usd_per_kw_month)


def it_power_w(*, devices: Num, tdp_w: Num, idle_w: Num, load: Num, bottleneck_activity: Num,
               host_w: Num, users_device: Num) -> Num:
    """Average IT power of ``devices``: idle + (TDP - idle) x load x activity + host overhead
    per device (``cost.energy``); on the users' own devices only the extra power of serving,
    (TDP - idle) x load x activity, since they are on anyway."""
    dyn = (tdp_w - idle_w) * load * bottleneck_activity
    return devices * np.where(users_device, dyn, idle_w + dyn + host_w)


def activity(bottleneck: str) -> float:
    """The share of TDP headroom a busy device draws (``cost.energy.ACTIVITY``)."""
    return ACTIVITY.get(bottleneck, 1.0)


def egress_gb_per_hour(*, requests_per_s: float, fin: Financials) -> float:
    """GB leaving the site per hour at the average request rate."""
    return requests_per_s * SECONDS_PER_HOUR * fin.egress_gb_per_request


def components(*, owned: Num, users_device: Num, devices: Num, billed_devices: Num,
               fixed_usd_per_device_hour: Num, price_usd_per_device_hour: Num,
               facility_kw: Num, tariff_usd_per_kwh: Num, staff_usd_per_year: float,
               egress_usd_per_gb: Num, egress_gb_per_hour: float) -> dict[str, Num]:
    """The hourly cost of a fleet by part: ``owned_fixed``, ``energy``, ``staff``, ``rental``,
    ``egress`` (see the module docstring). NaN price or tariff stays NaN where it is used."""
    zero = np.zeros_like(np.asarray(devices, dtype=float))
    pays_energy = owned & ~np.asarray(users_device, dtype=bool)
    return {
        "owned_fixed": np.where(owned, devices * np.nan_to_num(fixed_usd_per_device_hour), zero),
        "energy": np.where(pays_energy, facility_kw * np.nan_to_num(tariff_usd_per_kwh), zero),
        "staff": np.where(owned, staff_usd_per_year / HOURS_PER_YEAR, zero),
        "rental": np.where(owned, zero, billed_devices * price_usd_per_device_hour),
        "egress": egress_usd_per_gb * egress_gb_per_hour + zero,
    }


def usd_per_hour(**kw: Any) -> Num:
    """The total of :func:`components` (same arguments)."""
    c = components(**kw)
    return c["owned_fixed"] + c["energy"] + c["staff"] + c["rental"] + c["egress"]
