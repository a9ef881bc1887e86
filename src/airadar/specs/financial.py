"""Financial assumptions of a plan or a cost query (every field overridable; defaults live
in ``catalog/data/prices.yaml`` with their sources)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from airadar.specs.base import Frozen

Term = Literal["on-demand", "monthly", "1y", "3y", "spot"]


class Financials(Frozen):
    amortization_years: float | None = Field(default=None, gt=0, le=15)
    discount_rate: float = Field(default=0.0, ge=0, le=1)
    residual_fraction: float = Field(default=0.0, ge=0, lt=1)
    #: fraction of the hours the deployment is busy (for $/token and average power)
    utilization: float = Field(default=0.6, gt=0, le=1)
    term: Term = "on-demand"
    #: tariff for owned sites that ship no sourced tariff (sourced site tariffs take precedence)
    electricity_usd_per_kwh: float | None = Field(default=None, ge=0)
    #: site id -> USD per kWh: a site's own contract tariff, before every other tariff
    electricity_overrides: dict[str, float] = Field(default_factory=dict)
    pue: float | None = Field(default=None, ge=1, le=3)
    purchase_usd_per_device: float | None = Field(default=None, ge=0)
    maintenance_fraction_per_year: float | None = Field(default=None, ge=0, le=1)
    network_share_fraction: float | None = Field(default=None, ge=0, le=1)
    installation_usd_per_device: float = Field(default=0.0, ge=0)
    software_usd_per_device_year: float = Field(default=0.0, ge=0)
    staff_usd_per_year: float = Field(default=0.0, ge=0)
    idle_fraction_of_tdp: float | None = Field(default=None, ge=0, le=1)
    server_overhead_w_per_device: float | None = Field(default=None, ge=0)
    embodied_kgco2e_per_device: float | None = Field(default=None, ge=0)
    egress_gb_per_request: float = Field(default=0.0, ge=0)
    #: "site/hardware" -> USD per device-hour, for sites whose price is not shipped
    price_overrides: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    #: USD per EUR; default: the ECB reference rate in catalog/data/prices.yaml
    eur_usd: float | None = Field(default=None, gt=0)
    #: prices older than this are flagged (default in prices.yaml)
    max_price_age_days: float | None = Field(default=None, gt=0)
    #: the date prices are aged against and announced prices take effect (default: today)
    price_date: date | None = None
    #: what-if factors (``airadar sweep`` varies them): every cloud price (sourced or
    #: overridden), every purchase price and every electricity tariff is multiplied by these
    cloud_price_multiplier: float = Field(default=1.0, gt=0, le=100)
    purchase_price_multiplier: float = Field(default=1.0, gt=0, le=100)
    electricity_price_multiplier: float = Field(default=1.0, gt=0, le=100)
