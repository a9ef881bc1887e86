"""Sites as data: where inference can run (cloud region, on-premise, colocation, edge,
the user's device), who operates it under which jurisdiction, and what it costs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from airadar.specs.base import Frozen

SiteKind = Literal["cloud", "onprem", "colo", "edge", "device"]
Connectivity = Literal["internet", "private", "air-gapped"]

#: EU member states plus the EEA EFTA states (Iceland, Liechtenstein, Norway)
EEA = frozenset({"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU",
                 "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES",
                 "SE", "IS", "LI", "NO", "EU"})


class SourcedValue(Frozen):
    value: float
    source: str
    as_of: str
    estimate: bool = False
    currency: str = "USD"


class Offer(Frozen):
    hardware: str
    instance: str = ""
    devices_per_instance: int = Field(default=1, ge=1)
    on_demand_usd_per_hour: float | None = Field(default=None, ge=0)
    reserved_1y_usd_per_hour: float | None = Field(default=None, ge=0)
    reserved_3y_usd_per_hour: float | None = Field(default=None, ge=0)
    spot_usd_per_hour: float | None = Field(default=None, ge=0)
    source: str
    as_of: str

    def price(self, term: str) -> float | None:
        return {"on-demand": self.on_demand_usd_per_hour, "1y": self.reserved_1y_usd_per_hour,
                "3y": self.reserved_3y_usd_per_hour, "spot": self.spot_usd_per_hour}.get(term)


class Site(Frozen):
    id: str
    name: str
    kind: SiteKind
    operator: str
    operator_country: str
    parent_country: str
    country: str
    region: str = ""
    certifications: tuple[str, ...] = ()
    connectivity: Connectivity = "internet"
    customer_managed_keys: bool = False
    sovereign_offering: bool = False
    eu_only_staff: bool = False
    eu_data_boundary: bool = False
    egress_usd_per_gb: float = Field(default=0.0, ge=0)
    electricity_usd_per_kwh: SourcedValue | None = None
    pue: SourcedValue
    grid_gco2_per_kwh: SourcedValue
    colo_usd_per_kw_month: SourcedValue | None = None
    compliance_source: str = ""
    note: str = ""
    #: None for owned-hardware sites (any catalog hardware can be bought)
    offers: tuple[Offer, ...] | None = None

    @property
    def owned(self) -> bool:
        return self.offers is None

    @property
    def in_eea(self) -> bool:
        return self.country in EEA

    def offer_for(self, hardware_id: str) -> Offer | None:
        if self.offers is None:
            return None
        return next((o for o in self.offers if o.hardware == hardware_id), None)
