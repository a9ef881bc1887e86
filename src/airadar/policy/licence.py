"""Hardware licence rules: where the licence of a device's driver software lets it be
deployed, independent of the data (``policy.sovereignty`` judges the data). The one shipped
rule is NVIDIA's GeForce driver licence, section 2.1.3, which excludes data-centre
deployment: GeForce cards are refused at cloud and colocation sites, and at on-premise sites
unless the scenario says the on-premise site is a lab or a desk
(``candidates.onprem_setting: lab``). Rows live in ``catalog/data/licences.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from airadar.errors import CatalogError
from airadar.specs.hardware import HardwareSpec
from airadar.specs.site import Site

FILE = "licences.yaml"


@dataclass(frozen=True, kw_only=True)
class LicenceRule:
    id: str
    vendor: str
    form_factor_contains: str
    excludes_site_kinds: tuple[str, ...]
    quote: str
    source: str
    as_of: str

    def applies_to(self, hw: HardwareSpec) -> bool:
        return hw.vendor.lower() == self.vendor.lower() and \
            self.form_factor_contains in hw.form_factor.lower()


@cache
def load_licence_rules() -> tuple[LicenceRule, ...]:
    text = resources.files("airadar.catalog.data").joinpath(FILE).read_text(encoding="utf-8")
    out = []
    for raw in yaml.safe_load(text) or []:
        rid = str(raw.get("id", "?"))
        for k in ("id", "vendor", "form_factor_contains", "excludes_site_kinds", "quote",
                  "source", "as_of"):
            if not raw.get(k):
                raise CatalogError(f"licence rule needs {k!r}", file=FILE, row=rid, column=k)
        out.append(LicenceRule(id=rid, vendor=raw["vendor"],
                               form_factor_contains=raw["form_factor_contains"].lower(),
                               excludes_site_kinds=tuple(raw["excludes_site_kinds"]),
                               quote=raw["quote"], source=raw["source"],
                               as_of=str(raw["as_of"])))
    return tuple(out)


def excluded(hw: HardwareSpec, site: Site, *, onprem_setting: str = "datacenter") -> str | None:
    """Why ``hw``'s licence excludes ``site``, or None when it may run there."""
    for r in load_licence_rules():
        if not r.applies_to(hw) or site.kind not in r.excludes_site_kinds:
            continue
        if site.kind == "onprem" and onprem_setting != "datacenter":
            continue
        where = {"cloud": "a cloud data centre", "colo": "a colocation data centre",
                 "onprem": "an on-premise server room (a data centre unless the scenario sets "
                           "candidates.onprem_setting: lab)"}.get(site.kind, site.kind)
        return (f"{r.id}: {hw.id} is a GeForce card and {site.id} is {where}; the GeForce "
                f"driver licence says: \"{r.quote}\" ({r.source})")
    return None
