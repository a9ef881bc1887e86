"""Load the site and price catalogs."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from airadar.catalog.loader import DATA, load_with_user_rows, read_yaml
from airadar.catalog.resolve import normalise
from airadar.errors import AiradarError, CatalogError, UnknownNameError
from airadar.specs.base import build
from airadar.specs.site import Site


def site_from_row(raw: dict[str, Any], file: str = "sites.yaml") -> Site:
    row = str(raw.get("id", "?"))
    data = dict(raw)
    if data.get("offers") == "owned":
        data["offers"] = None
    elif "offers" in data:
        data["offers"] = tuple(data["offers"] or ())
    for k in ("certifications",):
        if k in data:
            data[k] = tuple(data[k] or ())
    try:
        return build(Site, data, where=f"site {row}")
    except AiradarError as exc:
        raise CatalogError(str(exc), file=file, row=row) from None


@lru_cache(maxsize=1)
def load_sites() -> tuple[Site, ...]:
    rows = load_with_user_rows("sites", site_from_row)
    ids = [s.id for s in rows]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise CatalogError(f"duplicate site ids: {', '.join(sorted(dup))}", file="sites.yaml")
    return tuple(rows)


def site(name: str) -> Site:
    """Resolve a site id or name."""
    key = normalise(name)
    for s in load_sites():
        if key in (normalise(s.id), normalise(s.name)):
            return s
    raise UnknownNameError("site", name, [s.id for s in load_sites()])


@lru_cache(maxsize=1)
def load_prices() -> dict[str, Any]:
    data = read_yaml(DATA / "prices.yaml", "prices.yaml") or {}
    for srv in data.get("servers", []):
        if not srv.get("source") or not srv.get("as_of"):
            raise CatalogError("server price needs source and as_of", file="prices.yaml",
                               row=str(srv.get("hardware")))
    return data


def eur_usd() -> float:
    return float(load_prices()["exchange"]["eur_usd"]["value"])


def server_price(hardware_id: str) -> dict[str, Any] | None:
    """The sourced (non-estimate first) purchase price of a server of this hardware."""
    rows = [s for s in load_prices().get("servers", []) if s["hardware"] == hardware_id]
    rows.sort(key=lambda s: s.get("kind") == "estimate")
    return rows[0] if rows else None


def device_price(hardware_id: str) -> dict[str, Any] | None:
    """The sourced price of one complete device (edge board, workstation card)."""
    return next((d for d in load_prices().get("devices", []) if d["hardware"] == hardware_id),
                None)


def default(name: str) -> dict[str, Any]:
    """A cost-model default with its source (``prices.yaml`` -> defaults)."""
    return dict(load_prices()["defaults"][name])
