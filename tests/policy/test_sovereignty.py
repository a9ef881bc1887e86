"""Every rule has an allow, a conditions (where it has one) and a deny case; every verdict
carries a reason and a basis; a user rule file is picked up."""

from __future__ import annotations

from pathlib import Path

import pytest

from airadar.catalog.sites import site
from airadar.errors import CatalogError
from airadar.policy.sovereignty import evaluate, load_rules
from airadar.specs.policy import DataPolicy


def _rule(site_id: str, rule: str, **kw: object) -> str:
    v = evaluate(site(site_id), DataPolicy(**kw))  # type: ignore[arg-type]
    found = [x for x in v.verdicts if x.rule == rule]
    assert found, (site_id, rule, v.verdicts)
    assert found[0].reason and found[0].basis
    return found[0].decision


CASES = [
    # rule, site, policy, expected
    ("air-gap", "airgap-de", {"require_air_gap": True}, "allow"),
    ("air-gap", "onprem-de", {"require_air_gap": True}, "deny"),
    ("gdpr-transfer", "ovhcloud-gra", {"data_class": "personal"}, "allow"),
    ("gdpr-transfer", "aws-us-east-1", {"data_class": "personal"}, "conditions"),
    ("cloud-act", "aws-eu-central-1", {"data_class": "personal"}, "conditions"),
    ("cloud-act", "aws-eu-central-1", {"data_class": "personal", "sovereignty": "eu-owned"}, "deny"),
    ("sovereign-cloud", "s3ns-fr", {"sovereignty": "eu-operated"}, "allow"),
    ("sovereign-cloud", "azure-westeurope", {"sovereignty": "eu-operated"}, "deny"),
    ("hipaa-baa", "onprem-us-va", {"data_class": "health", "users_in": "US"}, "allow"),
    ("hipaa-baa", "aws-us-east-1", {"data_class": "health", "users_in": "US"}, "conditions"),
    ("hipaa-baa", "lambda-us", {"data_class": "health", "users_in": "US"}, "deny"),
    ("hds-france", "ovhcloud-gra", {"data_class": "health", "users_in": "FR"}, "allow"),
    ("hds-france", "ionos-de", {"data_class": "health", "users_in": "FR"}, "deny"),
    ("dora", "onprem-fi", {"data_class": "financial"}, "allow"),
    ("dora", "nebius-fi", {"data_class": "financial"}, "conditions"),
    ("itar", "airgap-us", {"export_control": "itar"}, "allow"),
    ("itar", "aws-us-east-1", {"export_control": "itar"}, "conditions"),
    ("itar", "nebius-fi", {"export_control": "itar"}, "deny"),
    ("customer-managed-keys", "stackit-de", {"require_customer_managed_keys": True}, "allow"),
    ("customer-managed-keys", "hetzner-fsn", {"require_customer_managed_keys": True}, "deny"),
    ("residency", "ionos-de", {"residency_country": "DE"}, "allow"),
    ("residency", "ovhcloud-gra", {"residency_country": "DE"}, "deny"),
    ("certifications", "stackit-de", {"required_certifications": ("C5",)}, "allow"),
    ("certifications", "onprem-de", {"required_certifications": ("C5",)}, "conditions"),
    ("certifications", "hetzner-fsn", {"required_certifications": ("C5",)}, "deny"),
    ("allowed-countries", "nebius-fi", {"allowed_countries": ("EEA",)}, "allow"),
    ("allowed-countries", "lambda-us", {"allowed_countries": ("EEA",)}, "deny"),
    ("classified-owned", "airgap-de", {"data_class": "classified"}, "allow"),
    ("classified-owned", "s3ns-fr", {"data_class": "classified"}, "deny"),
    ("on-device", "on-device-eu", {"data_class": "personal"}, "allow"),
]


@pytest.mark.parametrize(("rule", "site_id", "kw", "expected"), CASES)
def test_rule_cases(rule: str, site_id: str, kw: dict, expected: str) -> None:
    """Each rule gives the expected decision, with a reason and a basis."""
    assert _rule(site_id, rule, **kw) == expected


def test_every_rule_is_covered_by_a_deny_or_conditions_case() -> None:
    """At least 12 rules, each with a restrictive case in the table above."""
    rules = {r.id for r in load_rules()}
    assert len(rules) >= 12
    restrictive = {c[0] for c in CASES if c[3] in ("deny", "conditions")}
    assert rules - {"on-device"} <= restrictive


def test_overall_verdict_is_the_worst() -> None:
    """A site denied by one rule is denied overall even if others allow."""
    v = evaluate(site("aws-eu-central-1"), DataPolicy(data_class="personal", sovereignty="eu-owned"))
    assert v.decision == "deny"
    assert any(x.decision == "allow" for x in v.verdicts)


def test_user_rule_file_is_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule in $AIRADAR_HOME/policy/*.yaml joins the shipped ones; a bad one is refused."""
    home = tmp_path / "h"
    (home / "policy").mkdir(parents=True)
    (home / "policy" / "mine.yaml").write_text(
        "- id: only-de\n  function: residency\n  applies_to: [internal]\n  basis: house rule\n")
    monkeypatch.setenv("AIRADAR_HOME", str(home))
    load_rules.cache_clear()
    assert "only-de" in {r.id for r in load_rules()}
    (home / "policy" / "bad.yaml").write_text(
        "- id: x\n  function: nope\n  basis: b\n")
    load_rules.cache_clear()
    with pytest.raises(CatalogError, match="unknown rule function"):
        load_rules()
    load_rules.cache_clear()


@pytest.mark.parametrize(("us_parent", "eu_parent"), [
    ("aws-eu-west-3", "scaleway-par"),  # both in Paris, both with a price row
    ("azure-germanywestcentral", "stackit-de"),  # both in Germany
    ("gcp-europe-west9", "ovhcloud-gra"),  # both in France
])
def test_us_parent_eu_region_and_eu_parent_region_differ_for_personal_data(
        us_parent: str, eu_parent: str) -> None:
    """Personal data of EU users under the shipped rules only: a US-parented operator's EU region
    is allowed with conditions (US CLOUD Act, 18 U.S.C. 2713, rules.yaml 'cloud-act'), an
    EU-parented operator's region in the same country is allowed outright."""
    pol = DataPolicy(data_class="personal", users_in="EU", allowed_countries=("EEA",))
    us, eu = evaluate(site(us_parent), pol), evaluate(site(eu_parent), pol)
    assert site(us_parent).country == site(eu_parent).country
    assert (us.decision, eu.decision) == ("conditions", "allow")
    assert any(v.rule == "cloud-act" and v.decision == "conditions" for v in us.verdicts)
