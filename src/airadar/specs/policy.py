"""The workload side of data sovereignty: what data it is and what its owner requires."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from airadar.specs.base import Frozen

DataClass = Literal["public", "internal", "personal", "health", "financial", "classified"]
DATA_CLASSES = ("public", "internal", "personal", "health", "financial", "classified")
Sovereignty = Literal["none", "eu-operated", "eu-owned"]


class DataPolicy(Frozen):
    data_class: DataClass = "internal"
    #: where the data subjects / users are: an ISO country code, "EU" or "US"
    users_in: str = "EU"
    #: allowed site countries (ISO codes; "EEA" expands to the EEA); empty = no restriction
    allowed_countries: tuple[str, ...] = ()
    required_certifications: tuple[str, ...] = ()
    require_air_gap: bool = False
    sovereignty: Sovereignty = "none"
    require_customer_managed_keys: bool = False
    residency_country: str | None = None
    export_control: Literal["none", "itar", "ear"] = "none"
    #: the data owner is a financial entity under DORA
    financial_entity: bool = False
    extra: dict[str, str] = Field(default_factory=dict)
