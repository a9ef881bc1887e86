"""The price rows: every shared row used or excused, sources and dates, validation."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from airadar.catalog.loader import load_hardware
from airadar.catalog.prices import (
    PRICE_DIR,
    cloud_price_table,
    load_price_rows,
    parse_as_of,
)
from airadar.catalog.sites import load_sites
from airadar.errors import CatalogError
from tests.conftest import run_cli

TODAY = date(2026, 12, 2)
SHARED = Path(__file__).resolve().parents[3] / "shared" / "prices"


def test_every_shared_row_is_loaded() -> None:
    """66 cloud, 22 purchase and 35 colocation/power rows (prices README) all become rows."""
    rows = load_price_rows()
    shipped = [r for r in rows if r.key.startswith("prices/")]
    assert sum(r.kind == "cloud" for r in shipped) == 66
    assert sum(r.key.startswith("prices/purchase") for r in shipped) == 22
    assert sum(r.key.startswith("prices/colo_and_power") for r in shipped) == 35


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/prices not present")
def test_shipped_csvs_are_verbatim_copies_of_the_shared_rows() -> None:
    """The catalog's CSVs are byte-identical to ../shared/prices (no row edited)."""
    for name in ("cloud_gpu_prices.csv", "purchase_prices.csv", "colo_and_power.csv"):
        assert (PRICE_DIR / name).read_bytes() == (SHARED / name).read_bytes(), name


def test_every_row_is_used_or_says_why_not() -> None:
    """No shared row is left out without a stated reason."""
    table, why = cloud_price_table(TODAY)
    used = {r.key for rows in table.values() for r in rows}
    for r in load_price_rows():
        if r.kind == "cloud":
            assert r.key in used or why.get(r.key), r.key
        else:
            assert not r.unused or len(r.unused) > 10, r.key


def test_every_row_has_source_date_and_known_hardware_and_site() -> None:
    """source and as_of on every row; hardware and site ids resolve to catalog rows."""
    hw = {h.id for h in load_hardware()}
    sites = {s.id for s in load_sites()}
    for r in load_price_rows():
        assert r.source and r.as_of, r.key
        assert r.price > 0, r.key
        if r.hardware:
            assert r.hardware in hw, r.key
        if r.site:
            assert r.site in sites, r.key


def test_gpus_without_a_catalog_row_are_listed_with_the_reason() -> None:
    """GPUs without a hardware row (A100 PCIe, RTX 4000 SFF Ada; RTX PRO 6000 Max-Q until its
    row lands) are unused and say so."""
    reasons = {r.provider + " " + r.item: r.unused for r in load_price_rows()
               if r.kind == "cloud" and r.hardware is None}
    assert "Azure Standard_NC24ads_A100_v4" in reasons
    assert "Hetzner GEX44 (dedicated server)" in reasons
    assert all("no catalog row" in v for v in reasons.values())


def test_as_of_parsing() -> None:
    """Full dates, months, Eurostat semesters and years; unknown dates are None."""
    assert parse_as_of("2026-06-09") == date(2026, 6, 9)
    assert parse_as_of("2025-03") == date(2025, 3, 1)
    assert parse_as_of("2025-S2 (report generated 2026-09-29)") == date(2025, 7, 1)
    assert parse_as_of("2025-S2") == date(2025, 7, 1)
    assert parse_as_of("2024") == date(2024, 1, 1)
    assert parse_as_of("unknown (commit 22fd1fe)") is None
    assert parse_as_of("undated page (crawl copy)") is None


def test_announced_price_takes_effect_on_its_date() -> None:
    """Nebius H100: USD 3.85/GPU-h until 2026-09-30, USD 4.50 from 2026-10-01 (nebius.com/prices
    as transcribed 2026-09-26)."""
    before, _ = cloud_price_table(date(2026, 9, 30))
    after, why = cloud_price_table(date(2026, 10, 1))
    assert [r.price for r in before[("nebius-fi", "h100-sxm", "on-demand")]] == [3.85]
    assert [r.price for r in after[("nebius-fi", "h100-sxm", "on-demand")]] == [4.5]


def test_instance_sizes_at_the_same_price_per_gpu_collapse_to_the_smallest() -> None:
    """STACKIT L40S costs EUR 1.7429/GPU-h in the 1-, 2- and 4-GPU sizes (STACKIT price API,
    2026-06-09): only the 1-GPU n2.14d.g1 is kept; the metro A100 4-GPU SKU (1.5x per GPU)
    is never kept."""
    table, why = cloud_price_table(TODAY)
    assert [r.item for r in table[("stackit-de", "l40s", "on-demand")]] == ["n2.14d.g1"]
    assert [r.item for r in table[("stackit-de", "a100-sxm-80gb", "on-demand")]] == ["n1.14d.g1"]


def test_each_deployment_is_billed_with_its_cheapest_instance_size() -> None:
    """Scaleway H100 SXM: EUR 6.6198/h for 2 GPUs, 12.771 for 4, 25.3308 for 8 (scaleway.com
    GPU prices, transcribed 2026-09-26): 2 GPUs rent the 2-GPU size, 8 GPUs the 8-GPU size,
    3 GPUs one 4-GPU instance (EUR 12.771) rather than two 2-GPU ones (EUR 13.24)."""
    from airadar.catalog.sites import site
    from airadar.cost.pricing import cloud_quote
    from airadar.specs.financial import Financials

    fin = Financials(eur_usd=1.0)
    s = site("scaleway-par")
    per_hour = {}
    for n in (1, 2, 3, 8):
        q = cloud_quote(s, "h100-sxm", "on-demand", fin, TODAY, devices=n)
        assert q is not None
        per_hour[n] = (q.devices_per_instance, -(-n // q.devices_per_instance)
                       * q.devices_per_instance * q.usd)
    assert per_hour[1] == (2, pytest.approx(6.6198))
    assert per_hour[2] == (2, pytest.approx(6.6198))
    assert per_hour[3] == (4, pytest.approx(12.771))
    assert per_hour[8] == (8, pytest.approx(25.3308))


def _user_file(home: Path, row: dict[str, str]) -> None:
    d = home / "prices"
    d.mkdir(parents=True, exist_ok=True)
    cols = ["site", "hardware", "instance", "gpus_per_instance", "price", "currency", "unit",
            "term", "source", "as_of", "notes"]
    with (d / "quotes.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerow({c: row.get(c, "") for c in cols})


GOOD = {"site": "ionos-de", "hardware": "h100", "gpus_per_instance": "1", "price": "3.1",
        "currency": "EUR", "unit": "hour", "term": "on-demand", "source": "IONOS quote",
        "as_of": "2026-11-30"}


def test_user_price_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A valid user row prices its site, labelled 'user quote'."""
    home = tmp_path / "home"
    monkeypatch.setenv("AIRADAR_HOME", str(home))
    _user_file(home, GOOD)
    table, _ = cloud_price_table(TODAY)
    (row,) = table[("ionos-de", "h100-sxm", "on-demand")]
    assert row.price == 3.1 and "user quote" in row.labels


@pytest.mark.parametrize(("column", "value", "needle"), [
    ("price", "-2", "must be > 0"), ("price", "0", "must be > 0"), ("price", "abc", "not a number"),
    ("currency", "EURO", "currency"), ("hardware", "h999", "unknown hardware"),
    ("site", "mars-1", "unknown site"), ("site", "onprem-de", "cloud sites"),
    ("unit", "day", "hour or month"), ("term", "forever", "term"), ("as_of", "soon", "as_of"),
])
def test_bad_user_price_file_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                column: str, value: str, needle: str) -> None:
    """A bad row names the file, the row, the column and what is allowed."""
    home = tmp_path / "home"
    monkeypatch.setenv("AIRADAR_HOME", str(home))
    _user_file(home, {**GOOD, column: value})
    with pytest.raises(CatalogError, match=needle) as exc:
        load_price_rows()
    assert "quotes.csv" in str(exc.value) and "row 2" in str(exc.value)


@pytest.mark.parametrize(("args", "needle"), [
    (["--price", "-3"], "must be > 0"), (["--price", "0"], "must be > 0"),
    (["--currency", "XYZ"], "currency"), (["-H", "h999"], "unknown hardware"),
    (["-s", "mars-1"], "unknown site"), (["-s", "onprem-de"], "cloud sites"),
])
def test_add_price_rejects_bad_input_in_one_line(tmp_path: Path, args: list[str],
                                                 needle: str) -> None:
    """airadar catalog add-price: one 'error:' line, exit 2, nothing written."""
    base = {"-s": "ionos-de", "-H": "h100", "--price": "3.1", "--currency": "EUR",
            "--source": "quote"}
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    r = run_cli("catalog", "add-price", *[x for kv in base.items() for x in kv],
                home=tmp_path / "home")
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert lines[0].startswith("error:") and needle in lines[0]
    assert not (tmp_path / "home" / "prices" / "user.csv").exists()


def test_add_price_then_list_it(tmp_path: Path) -> None:
    """A quote added on the command line is listed by catalog prices with its age."""
    home = tmp_path / "home"
    r = run_cli("catalog", "add-price", "-s", "ionos-de", "-H", "h100", "--price", "3.1",
                "--currency", "EUR", "--source", "IONOS quote", "--as-of", "2026-11-30",
                home=home)
    assert r.returncode == 0, r.stderr
    r = run_cli("catalog", "prices", "--provider", "ionos", "--json", home=home)
    assert r.returncode == 0, r.stderr
    import json
    rows = json.loads(r.stdout)
    assert len(rows) == 1 and rows[0]["status"] == "used" and rows[0]["as_of"] == "2026-11-30"


def test_a_more_exact_hardware_row_is_used_once_it_exists(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """When the catalog gains rtx-pro-6000-maxq (being added on another branch), Hetzner's
    GEX131 price and the LDLC Max-Q street price map to it instead of being left out."""
    import yaml

    from airadar.catalog.loader import DATA

    home = tmp_path / "home"
    monkeypatch.setenv("AIRADAR_HOME", str(home))
    rows = yaml.safe_load((DATA / "hardware.yaml").read_text())
    row = next(r for r in rows if r["id"] == "rtx-pro-6000")
    row = {**row, "id": "rtx-pro-6000-maxq", "name": "test Max-Q row", "aliases": []}
    (home / "hardware").mkdir(parents=True)
    (home / "hardware" / "maxq.yaml").write_text(yaml.safe_dump([row]))
    mapped = {r.key: r for r in load_price_rows() if r.hardware == "rtx-pro-6000-maxq"}
    assert {r.kind for r in mapped.values()} == {"cloud", "purchase"}
    assert all(not r.unused for r in mapped.values())
