"""Data-sovereignty rules: data (``catalog/data/rules.yaml`` plus user files) evaluated by the
small functions registered here. Each returns allow / conditions / deny with a reason a person
can read and the rule's basis to cite. A site's verdict is the worst of its rules'."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from airadar.catalog.loader import DATA, _rows, user_dir
from airadar.errors import CatalogError, SpecError
from airadar.registry import Registry
from airadar.specs.policy import DataPolicy
from airadar.specs.site import EEA, Site

Decision = Literal["allow", "conditions", "deny"]
_RANK = {"allow": 0, "conditions": 1, "deny": 2}

#: countries with an EU adequacy decision (GDPR Art. 45), European Commission list
#: "Adequacy decisions" (commission.europa.eu), as of 2024: US only for organisations
#: certified under the EU-US Data Privacy Framework (Decision of 2023-07-10).
ADEQUATE = frozenset({"AD", "AR", "CA", "FO", "GG", "IL", "IM", "JP", "JE", "NZ", "KR", "CH",
                      "GB", "UY"})


@dataclass(frozen=True, kw_only=True)
class Verdict:
    rule: str
    decision: Decision
    reason: str
    basis: str

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule, "decision": self.decision, "reason": self.reason,
                "basis": self.basis}


RuleFn = Callable[[Site, DataPolicy], tuple[Decision, str] | None]
RULE_FUNCTIONS: Registry[RuleFn] = Registry("rule function", "function")
rule = RULE_FUNCTIONS.register


def _operator(site: Site) -> str:
    return f"{site.operator} (parent in {site.parent_country})"


@rule("air_gap")
def _air_gap(site: Site, p: DataPolicy) -> tuple[Decision, str] | None:
    if not (p.require_air_gap or p.data_class == "classified"):
        return None
    if site.connectivity == "air-gapped":
        return "allow", f"{site.id} is air-gapped"
    return "deny", f"an air gap is required and {site.id} is {site.connectivity}-connected"


@rule("gdpr_transfer")
def _gdpr(site: Site, p: DataPolicy) -> tuple[Decision, str] | None:
    if p.users_in not in EEA:
        return None
    if site.kind == "device":
        return "allow", "processing stays on the data subject's own device (no transfer)"
    if site.in_eea:
        return "allow", f"{site.id} is in the EEA ({site.country}): no transfer under Chapter V"
    if site.country in ADEQUATE:
        return "allow", f"{site.country} has an EU adequacy decision (Art. 45)"
    if site.country == "US":
        return "conditions", ("transfer to the US: lawful if the operator is certified under the "
                              "EU-US Data Privacy Framework (adequacy decision of 2023-07-10), "
                              "otherwise SCCs (Art. 46) plus a transfer impact assessment")
    return "conditions", f"transfer to {site.country}: SCCs (Art. 46) and a transfer impact assessment"


@rule("cloud_act")
def _cloud_act(site: Site, p: DataPolicy) -> tuple[Decision, str] | None:
    if site.kind in ("onprem", "colo", "edge", "device") or site.parent_country != "US":
        return None
    if p.users_in == "US" and p.data_class != "classified":
        return None
    if p.sovereignty == "eu-owned" or p.data_class == "classified":
        return "deny", (f"{_operator(site)} is under US jurisdiction: the CLOUD Act can compel "
                        "disclosure, which the workload's sovereignty level excludes")
    if site.customer_managed_keys:
        return "conditions", (f"{_operator(site)} is exposed to the US CLOUD Act; mitigate by "
                              "encrypting with customer-managed keys held outside the provider")
    return "conditions", (f"{_operator(site)} is exposed to the US CLOUD Act and offers no "
                          "customer-managed keys: document the risk in the transfer assessment")


@rule("sovereign_cloud")
def _sovereign(site: Site, p: DataPolicy) -> tuple[Decision, str] | None:
    if p.sovereignty == "none":
        return None
    owned = site.kind in ("onprem", "edge", "device", "colo")
    eu_parent = site.parent_country in EEA
    if p.sovereignty == "eu-owned":
        if eu_parent and (site.in_eea or site.kind == "device"):
            return "allow", f"{_operator(site)} is EU-owned and operates in the EEA"
        return "deny", f"{_operator(site)} is not EU-owned or not in the EEA"
    if (eu_parent or site.sovereign_offering or owned) and (site.in_eea or site.kind == "device"):
        why = "a sovereign offering with EU-resident staff" if site.sovereign_offering else \
            "EU-parented" if eu_parent else "operated by the customer"
        return "allow", f"{site.id} is {why} in the EEA"
    return "deny", f"{site.id} is neither EU-operated nor a sovereign offering in the EEA"


@rule("hipaa_baa")
def _hipaa(site: Site, p: DataPolicy) -> tuple[Decision, str] | None:
    if p.users_in != "US":
        return None
    if site.kind in ("onprem", "colo", "edge", "device"):
        return "allow", ("PHI stays on hardware the covered entity owns (Security Rule "
                         "safeguards apply; a colocation provider without access is a conduit)")
    if "HIPAA-BAA" in site.certifications:
        return "conditions", f"{site.operator} signs a BAA: sign it before any PHI is processed"
    return "deny", f"{site.operator} offers no Business Associate Agreement"


@rule("hds_france")
def _hds(site: Site, p: DataPolicy) -> tuple[Decision, str] | None:
    if p.users_in != "FR":
        return None
    if site.kind in ("onprem", "device") and site.country == "FR":
        return "allow", "hosted by the health provider itself in France"
    if "HDS" in site.certifications:
        return "allow", f"{site.operator} is HDS-certified"
    return "deny", f"{site.id} is not an HDS-certified host"


@rule("dora")
def _dora(site: Site, p: DataPolicy) -> tuple[Decision, str] | None:
    if not (p.financial_entity or p.data_class == "financial"):
        return None
    if site.kind in ("onprem", "edge", "device"):
        return "allow", "in-house ICT: no third-party provider arrangement"
    return "conditions", (f"{site.operator} is an ICT third-party provider: DORA Art. 30 contract "
                          "terms, exit strategy and register of information are required")


@rule("itar")
def _itar(site: Site, p: DataPolicy) -> tuple[Decision, str] | None:
    if p.export_control == "none":
        return None
    if site.country == "US" and site.kind in ("onprem", "colo", "edge"):
        return "allow", "stored in the US on systems the US-person workforce controls"
    if site.country == "US" and "FedRAMP-High" in site.certifications:
        return "conditions", ("US region with FedRAMP High: allowed only in an ITAR-scoped "
                              "environment with US-person support (verify the provider's offer)")
    return "deny", f"export-controlled data cannot be stored at {site.id} ({site.country})"


@rule("customer_keys")
def _cmk(site: Site, p: DataPolicy) -> tuple[Decision, str] | None:
    if not p.require_customer_managed_keys:
        return None
    if site.customer_managed_keys:
        return "allow", f"{site.id} supports customer-managed keys"
    return "deny", f"{site.id} does not offer customer-managed keys"


@rule("residency")
def _residency(site: Site, p: DataPolicy) -> tuple[Decision, str] | None:
    if not p.residency_country:
        return None
    if site.country == p.residency_country:
        return "allow", f"{site.id} is in {p.residency_country}"
    return "deny", f"data must stay in {p.residency_country}; {site.id} is in {site.country}"


@rule("certifications")
def _certs(site: Site, p: DataPolicy) -> tuple[Decision, str] | None:
    if not p.required_certifications:
        return None
    missing = [c for c in p.required_certifications if c not in site.certifications]
    if not missing:
        return "allow", f"{site.id} holds {', '.join(p.required_certifications)}"
    if site.kind in ("onprem", "edge", "device"):
        return "conditions", f"your own site must hold {', '.join(missing)}"
    return "deny", f"{site.id} lacks {', '.join(missing)}"


@rule("allowed_countries")
def _countries(site: Site, p: DataPolicy) -> tuple[Decision, str] | None:
    if not p.allowed_countries:
        return None
    allowed = set()
    for c in p.allowed_countries:
        allowed |= set(EEA) if c == "EEA" else {c}
    if site.country in allowed or (site.kind == "device"):
        return "allow", f"{site.country} is an allowed country"
    return "deny", f"{site.country} is not in the allowed countries ({', '.join(p.allowed_countries)})"


@rule("classified_owned")
def _classified(site: Site, p: DataPolicy) -> tuple[Decision, str] | None:
    if site.kind == "onprem":
        return "allow", "customer-controlled system (accreditation is the owner's)"
    return "deny", f"{site.id} is not an accredited system under the owner's control"


@rule("on_device")
def _device(site: Site, p: DataPolicy) -> tuple[Decision, str] | None:
    if site.kind != "device":
        return None
    return "allow", "data is processed on the user's device and never leaves it"


@dataclass(frozen=True, kw_only=True)
class Rule:
    id: str
    function: str
    applies_to: tuple[str, ...]
    basis: str


def _rule_from_row(raw: dict[str, Any], file: str) -> Rule:
    rid = str(raw.get("id", "?"))
    for k in ("id", "function", "basis"):
        if not raw.get(k):
            raise CatalogError(f"rule needs {k!r}", file=file, row=rid, column=k)
    if raw["function"] not in RULE_FUNCTIONS:
        raise CatalogError(f"unknown rule function {raw['function']!r}; known: "
                           f"{', '.join(RULE_FUNCTIONS.names())}", file=file, row=rid,
                           column="function")
    return Rule(id=rid, function=raw["function"], applies_to=tuple(raw.get("applies_to") or ()),
                basis=raw["basis"])


@lru_cache(maxsize=1)
def load_rules() -> tuple[Rule, ...]:
    rules = [_rule_from_row(r, "rules.yaml") for r in _rows(DATA / "rules.yaml", "rules.yaml")]
    d = user_dir() / "policy"
    if d.is_dir():
        for f in sorted(d.glob("*.yaml")):
            rules += [_rule_from_row(r, str(f)) for r in _rows(f, str(f))]
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise CatalogError("duplicate rule ids", file="rules.yaml")
    return tuple(rules)


@dataclass(frozen=True, kw_only=True)
class SiteVerdict:
    site: str
    decision: Decision
    verdicts: tuple[Verdict, ...]

    @property
    def reasons(self) -> list[str]:
        worst = [v for v in self.verdicts if v.decision == self.decision and v.decision != "allow"]
        return [f"{v.rule}: {v.reason}" for v in worst] or ["no rule restricts this site"]

    def to_json(self) -> dict[str, Any]:
        return {"site": self.site, "decision": self.decision,
                "verdicts": [v.to_json() for v in self.verdicts]}


def evaluate(site: Site, policy: DataPolicy) -> SiteVerdict:
    """Every applicable rule's verdict and the overall (worst) decision."""
    if policy.data_class not in ("public", "internal", "personal", "health", "financial",
                                 "classified"):
        raise SpecError("data_class", policy.data_class, "a known data class")
    out: list[Verdict] = []
    for r in load_rules():
        if policy.data_class not in r.applies_to:
            continue
        res = RULE_FUNCTIONS.get(r.function)(site, policy)
        if res is None:
            continue
        out.append(Verdict(rule=r.id, decision=res[0], reason=res[1], basis=r.basis))
    if not out:
        out.append(Verdict(rule="baseline", decision="allow",
                           reason=f"{policy.data_class} data with no restriction that applies here",
                           basis="no rule in the catalog restricts this combination"))
    worst = max((v.decision for v in out), key=lambda d: _RANK[d])
    return SiteVerdict(site=site.id, decision=worst, verdicts=tuple(out))
