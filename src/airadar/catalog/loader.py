"""Load the catalogs shipped in ``catalog/data`` (and the user's additions), converting
datasheet units to SI in one place. Rows are validated at load; a bad row raises
:class:`~airadar.errors.CatalogError` naming the file, the row and the column."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml

from airadar.errors import AiradarError, CatalogError
from airadar.specs.base import build
from airadar.specs.hardware import HardwareSpec
from airadar.specs.model import ModelSpec, spec_from_hf_config
from airadar.units import gb_to_bytes, gbps_to_bytes_per_s, tflops_to_flops

T = TypeVar("T")

DATA = resources.files("airadar.catalog") / "data"
#: libyaml's C loader when PyYAML was built with it (10x faster start-up), else pure Python
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def user_dir() -> Path:
    """Where user additions (models, profiles, results) live: $AIRADAR_HOME or
    ~/.local/share/airadar."""
    home = os.environ.get("AIRADAR_HOME")
    if home:
        return Path(home)
    xdg = os.environ.get("XDG_DATA_HOME")
    return Path(xdg) / "airadar" if xdg else Path.home() / ".local" / "share" / "airadar"


def read_yaml(path: Path | Any, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError("file not found", file=str(path)) from None
    try:
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        raise CatalogError(f"malformed YAML{line}: {getattr(exc, 'problem', exc)}",
                           file=str(path)) from None


def _src(group: dict[str, Any], file: str, row: str, name: str) -> dict[str, str]:
    if not isinstance(group, dict) or not group.get("source") or not group.get("as_of"):
        raise CatalogError(f"figure group {name!r} needs 'source' and 'as_of'", file=file,
                           row=row, column=f"{name}.source")
    return {"source": str(group["source"]), "as_of": str(group["as_of"]),
            "note": str(group.get("note", ""))}


def hardware_from_row(raw: dict[str, Any], file: str = "hardware.yaml") -> HardwareSpec:
    row = str(raw.get("id", "?"))
    try:
        compute, memory = raw["compute"], raw["memory"]
        power = raw.get("power") or {}
        inter = raw.get("interconnect") or {}
        sources = {"compute": _src(compute, file, row, "compute"),
                   "memory": _src(memory, file, row, "memory"),
                   "power": _src(power, file, row, "power")}
        if inter:
            sources["interconnect"] = _src(inter, file, row, "interconnect")
        data = {
            "id": raw["id"], "name": raw["name"], "vendor": raw["vendor"],
            "hw_class": raw["class"], "form_factor": raw.get("form_factor", ""),
            "aliases": tuple(raw.get("aliases", [])),
            "peak_flops_dense": {k: tflops_to_flops(v) for k, v in
                                 compute.get("tflops_dense", {}).items()},
            "peak_flops_sparse": {k: tflops_to_flops(v) for k, v in
                                  compute.get("tflops_sparse", {}).items()},
            "memory_tiers": tuple(
                {"name": t["name"], "capacity_bytes": gb_to_bytes(t["capacity_gb"]),
                 "bandwidth_bytes_per_s": gbps_to_bytes_per_s(t["bandwidth_gb_s"]),
                 "on_chip": bool(t.get("on_chip", False))} for t in memory.get("tiers", [])),
            "scale_up_bandwidth_bytes_per_s": gbps_to_bytes_per_s(inter.get("scale_up_gb_s", 0)),
            "scale_up_max_devices": int(inter.get("scale_up_max_devices", 1)),
            "scale_out_bandwidth_bytes_per_s": gbps_to_bytes_per_s(inter.get("scale_out_gb_s", 0)),
            "tdp_w": power.get("tdp_w"), "idle_w": power.get("idle_w"),
            "devices_per_server": int(raw.get("devices_per_server", 1)),
            "cores": raw.get("cores"),
            "embodied_kgco2e": raw.get("embodied_kgco2e"),
            "sources": sources, "derived": raw.get("derived", {}) or {},
        }
    except KeyError as exc:
        raise CatalogError("missing required column", file=file, row=row,
                           column=str(exc.args[0])) from None
    except (TypeError, AttributeError) as exc:
        raise CatalogError(f"wrong type: {exc}", file=file, row=row) from None
    try:
        return build(HardwareSpec, data, where=f"hardware {row}")
    except AiradarError as exc:
        raise CatalogError(str(exc), file=file, row=row) from None


def model_from_row(raw: dict[str, Any], file: str = "models.yaml") -> ModelSpec:
    row = str(raw.get("id", "?"))
    if not raw.get("source") or not raw.get("as_of"):
        raise CatalogError("every model row needs 'source' and 'as_of'", file=file, row=row,
                           column="source")
    try:
        extra: dict[str, Any] = {"aliases": tuple(raw.get("aliases", [])),
                                 "stated_params": float(raw.get("stated_params", 0) or 0)}
        if raw.get("seq_len"):
            extra["seq_len"] = int(raw["seq_len"])
        if "config" in raw:
            extra["kind"] = raw.get("kind", "llm")
            return spec_from_hf_config(raw["config"], model_id=raw["id"], name=raw["name"],
                                       source=str(raw["source"]), as_of=str(raw["as_of"]),
                                       extra=extra)
        data = {"id": raw["id"], "name": raw["name"], "kind": raw["kind"],
                "params_override": float(raw["params"]),
                "flops_per_sample_override": float(raw.get("flops_per_sample", 0) or 0),
                "source": {"source": str(raw["source"]), "as_of": str(raw["as_of"])}, **extra}
        return build(ModelSpec, data, where=f"model {row}")
    except KeyError as exc:
        raise CatalogError("missing required column", file=file, row=row,
                           column=str(exc.args[0])) from None
    except AiradarError as exc:
        if isinstance(exc, CatalogError):
            raise
        raise CatalogError(str(exc), file=file, row=row) from None


def _rows(path: Any, name: str) -> list[dict[str, Any]]:
    data = read_yaml(path, name)
    if data is None:
        return []
    if not isinstance(data, list):
        raise CatalogError("expected a list of rows", file=name)
    return data


def load_with_user_rows(name: str, parse: Callable[[dict[str, Any], str], T]) -> list[T]:
    """Rows of the shipped ``data/<name>.yaml`` then of ``$AIRADAR_HOME/<name>/*.yaml``."""
    rows = [parse(r, f"{name}.yaml") for r in _rows(DATA / f"{name}.yaml", f"{name}.yaml")]
    extra = user_dir() / name
    if extra.is_dir():
        for f in sorted(extra.glob("*.yaml")):
            rows += [parse(r, str(f)) for r in _rows(f, str(f))]
    return rows


@lru_cache(maxsize=1)
def load_hardware() -> tuple[HardwareSpec, ...]:
    return tuple(load_with_user_rows("hardware", hardware_from_row))


@lru_cache(maxsize=1)
def load_models() -> tuple[ModelSpec, ...]:
    return tuple(load_with_user_rows("models", model_from_row))


def clear_caches() -> None:
    load_hardware.cache_clear()
    load_models.cache_clear()
