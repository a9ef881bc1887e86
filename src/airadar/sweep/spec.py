"""What a sweep varies: grids over scenario fields and Monte Carlo distributions over
uncertain inputs, read from a scenario's ``sweep:`` section or from flags. Every field path
and every distribution is checked when the sweep is built, so a bad one is one line naming it.

    sweep:
      futures: 2000
      seed: 7
      grid:                                   # every combination; futures cycle through them
        workload.slo.tpot_p99_ms: [60, 80]
        candidates.sites: [[onprem-fi, nebius-fi], all]
      vary:                                   # drawn independently in every future
        workload.peak_rps: lognormal:25:0.3   # median 25 req/s, sigma 0.3 in log space
        financial.electricity_price_multiplier: {dist: uniform, low: 0.9, high: 1.4}
      prediction_interval: true               # each candidate's own 80% interval, log-normal
      simulate_top: 0                         # simulate the top K candidates of every future
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from airadar.errors import SpecError
from airadar.specs.financial import Financials
from airadar.specs.scenario import Scenario

#: z of the 10th/90th percentiles of a standard normal (80% two-sided interval)
Z80 = 1.2815515655446004
#: fields whose draws change no performance prediction: Monte Carlo may vary them per
#: future without re-running perf (grids may name any field)
MC_FIELDS = ("workload.peak_rps", "workload.average_rps")
MC_PREFIXES = ("financial.",)


@dataclass(frozen=True, kw_only=True)
class Distribution:
    """One stated distribution: uniform(low, high), normal(mean, sd), lognormal(median, sigma)
    (or given by its p10 and p90), triangular(low, mode, high)."""

    kind: str
    params: tuple[float, ...]

    def sample(self, rng: np.random.Generator) -> float:
        p = self.params
        if self.kind == "uniform":
            return float(rng.uniform(p[0], p[1]))
        if self.kind == "normal":
            return float(rng.normal(p[0], p[1]))
        if self.kind == "lognormal":
            return float(p[0] * math.exp(p[1] * rng.standard_normal()))
        return float(rng.triangular(p[0], p[1], p[2]))

    @property
    def label(self) -> str:
        return f"{self.kind}({', '.join(f'{x:g}' for x in self.params)})"


def parse_distribution(where: str, raw: Any) -> Distribution:
    """``uniform:LO:HI``, ``normal:MEAN:SD``, ``lognormal:MEDIAN:SIGMA``,
    ``triangular:LO:MODE:HI`` or the same as a mapping (``{dist: lognormal, p10: .., p90: ..}``
    is also accepted); parameters are checked here."""
    allowed = ("uniform:LO:HI, normal:MEAN:SD, lognormal:MEDIAN:SIGMA, triangular:LO:MODE:HI "
               "or a mapping {dist: ..., ...}")
    if isinstance(raw, str):
        kind, *args = raw.strip().split(":")
        try:
            vals = tuple(float(a) for a in args)
        except ValueError:
            raise SpecError(where, raw, allowed) from None
    elif isinstance(raw, dict):
        d = dict(raw)
        kind = str(d.pop("dist", ""))
        names = {"uniform": ("low", "high"), "normal": ("mean", "sd"),
                 "lognormal": ("median", "sigma"), "triangular": ("low", "mode", "high")}
        if kind == "lognormal" and set(d) == {"p10", "p90"}:
            lo, hi = _num(where, d, "p10"), _num(where, d, "p90")
            if not 0 < lo < hi:
                raise SpecError(where, raw, "lognormal with 0 < p10 < p90")
            d = {"median": math.sqrt(lo * hi), "sigma": math.log(hi / lo) / (2 * Z80)}
        if kind not in names:
            raise SpecError(where, raw, allowed)
        extra = set(d) - set(names[kind])
        if extra:
            raise SpecError(f"{where}.{sorted(extra)[0]}", d[sorted(extra)[0]],
                            f"{kind} takes {', '.join(names[kind])}")
        vals = tuple(_num(where, d, n) for n in names[kind])
    else:
        raise SpecError(where, raw, allowed)
    n_args = {"uniform": 2, "normal": 2, "lognormal": 2, "triangular": 3}
    if kind not in n_args or len(vals) != n_args[kind]:
        raise SpecError(where, raw, allowed)
    if not all(math.isfinite(v) for v in vals):
        raise SpecError(where, raw, "finite parameters")
    bad = {"uniform": lambda v: not v[0] < v[1],
           "normal": lambda v: not v[1] > 0,
           "lognormal": lambda v: not (v[0] > 0 and v[1] > 0),
           "triangular": lambda v: not (v[0] <= v[1] <= v[2] and v[0] < v[2])}[kind]
    if bad(vals):
        rule = {"uniform": "low < high", "normal": "sd > 0", "lognormal": "median > 0 and sigma > 0",
                "triangular": "low <= mode <= high and low < high"}[kind]
        raise SpecError(where, raw, f"{kind} with {rule}")
    return Distribution(kind=kind, params=vals)


def _num(where: str, d: dict[str, Any], name: str) -> float:
    if name not in d:
        raise SpecError(f"{where}.{name}", None, "a number (missing)")
    try:
        return float(d[name])
    except (TypeError, ValueError):
        raise SpecError(f"{where}.{name}", d[name], "a number") from None


def check_path(where: str, path: str) -> None:
    """A dotted path must name a scenario field (or a key under a mapping field such as
    ``financial.price_overrides.SITE/HW``)."""
    model: type[BaseModel] | None = Scenario
    parts = path.split(".")
    for n, part in enumerate(parts):
        if model is None:
            raise SpecError(where, path, "a scenario field (see airadar schema)")
        fields = model.model_fields
        if part not in fields:
            near = ", ".join(sorted(fields)[:12])
            raise SpecError(where, path, f"a scenario field; {'.'.join(parts[:n]) or 'the top'} "
                            f"has {near}")
        ann = fields[part].annotation
        if part == "price_overrides":
            if len(parts) != n + 2:
                raise SpecError(where, path, "financial.price_overrides.SITE/HARDWARE")
            return
        model = _submodel(ann)
    if model is not None and path not in ("workload.input_tokens", "workload.output_tokens"):
        raise SpecError(where, path, "a leaf field, not a whole section")


def _submodel(ann: Any) -> type[BaseModel] | None:
    args = getattr(ann, "__args__", None) or (ann,)
    for a in args:
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
    return None


def set_path(d: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    if parts[:2] == ["financial", "price_overrides"]:
        d.setdefault("financial", {}).setdefault("price_overrides", {})[".".join(parts[2:])] = value
        return
    cur = d
    for p in parts[:-1]:
        nxt = cur.get(p)
        if not isinstance(nxt, dict):
            nxt = {} if nxt is None or not isinstance(nxt, dict) else nxt
            cur[p] = nxt
        cur = nxt
    cur[parts[-1]] = value


def get_path(d: dict[str, Any], path: str) -> Any:
    cur: Any = d
    for p in path.split("."):
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def with_values(base: dict[str, Any], values: dict[str, Any], where: str) -> Scenario:
    """The scenario ``base`` (a JSON dump) with ``values`` set and validated. Traffic scales
    as a whole: setting ``workload.peak_rps`` alone scales ``average_rps`` with it."""
    d = copy.deepcopy(base)
    for path, v in values.items():
        set_path(d, path, v)
    wl = d["workload"]
    if ("workload.peak_rps" in values and "workload.average_rps" not in values
            and base["workload"].get("average_rps")):
        wl["average_rps"] = base["workload"]["average_rps"] * wl["peak_rps"] / \
            base["workload"]["peak_rps"]
    try:
        return Scenario.model_validate(d)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err.get("loc", ()))
        shown = next((f"{p}={v!r}" for p, v in values.items() if loc.startswith(p) or
                      p.startswith(loc)), loc)
        raise SpecError(where, shown, err.get("msg", "invalid").removeprefix("Value error, ")
                        ) from None


@dataclass(frozen=True, kw_only=True)
class SweepSpec:
    futures: int = 1000
    seed: int = 0
    grid: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    vary: dict[str, Distribution] = field(default_factory=dict)
    prediction_interval: bool = True
    simulate_top: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"futures": self.futures, "seed": self.seed,
                "grid": {k: list(v) for k, v in self.grid.items()},
                "vary": {k: {"dist": d.kind, "params": list(d.params)} for k, d in self.vary.items()},
                "prediction_interval": self.prediction_interval, "simulate_top": self.simulate_top}

    @property
    def grid_points(self) -> list[dict[str, Any]]:
        """Every combination of the grid values, in a fixed order (sorted field names)."""
        keys = sorted(self.grid)
        points: list[dict[str, Any]] = [{}]
        for k in keys:
            points = [{**p, k: v} for p in points for v in self.grid[k]]
        return points


_KEYS = {"futures", "seed", "grid", "vary", "prediction_interval", "simulate_top"}


def build_spec(section: dict[str, Any] | None, *, futures: int | None = None,
               seed: int | None = None, grid: dict[str, list[Any]] | None = None,
               vary: dict[str, Any] | None = None, prediction_interval: bool | None = None,
               simulate_top: int | None = None, scenario: Scenario) -> SweepSpec:
    """Merge the file's ``sweep:`` section with flags (flags win) and check everything."""
    sec = dict(section or {})
    unknown = set(sec) - _KEYS
    if unknown:
        k = sorted(unknown)[0]
        raise SpecError(f"sweep.{k}", sec[k], f"one of {', '.join(sorted(_KEYS))} (unknown field)")
    n = futures if futures is not None else sec.get("futures", 1000)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise SpecError("sweep.futures", n, "an integer >= 1")
    s = seed if seed is not None else sec.get("seed", 0)
    if not isinstance(s, int) or isinstance(s, bool) or s < 0:
        raise SpecError("sweep.seed", s, "an integer >= 0")
    top = simulate_top if simulate_top is not None else sec.get("simulate_top", 0)
    if not isinstance(top, int) or isinstance(top, bool) or top < 0:
        raise SpecError("sweep.simulate_top", top, "an integer >= 0")
    pi = prediction_interval if prediction_interval is not None else \
        sec.get("prediction_interval", True)
    if not isinstance(pi, bool):
        raise SpecError("sweep.prediction_interval", pi, "true or false")
    raw_grid = {**(sec.get("grid") or {}), **(grid or {})}
    raw_vary = {**(sec.get("vary") or {}), **(vary or {})}
    if not isinstance(raw_grid, dict) or not isinstance(raw_vary, dict):
        raise SpecError("sweep.grid", raw_grid, "a mapping of field -> values")
    g: dict[str, tuple[Any, ...]] = {}
    base = scenario.model_dump(mode="json")
    for path, values in raw_grid.items():
        where = f"sweep.grid.{path}"
        check_path(where, path)
        if not isinstance(values, list) or not values:
            raise SpecError(where, values, "a non-empty list of values")
        for i, v in enumerate(values):
            with_values(base, {path: v}, f"{where}[{i}]")
        g[path] = tuple(values)
    v_out: dict[str, Distribution] = {}
    for path, raw in raw_vary.items():
        where = f"sweep.vary.{path}"
        check_path(where, path)
        if path not in MC_FIELDS and not path.startswith(MC_PREFIXES):
            raise SpecError(where, raw, "Monte Carlo over workload.peak_rps, "
                            "workload.average_rps or financial.* (these change no performance "
                            "prediction); put other fields in sweep.grid")
        if path.startswith("financial.") and not path.startswith("financial.price_overrides."):
            name = path.split(".", 1)[1]
            ann = Financials.model_fields[name].annotation
            if "float" not in str(ann):
                raise SpecError(where, raw, "a numeric financial field")
        if path in g:
            raise SpecError(where, raw, "a field in either sweep.grid or sweep.vary, not both")
        v_out[path] = parse_distribution(where, raw)
    spec = SweepSpec(futures=n, seed=s, grid=g, vary=dict(sorted(v_out.items())),
                     prediction_interval=pi, simulate_top=top)
    if len(spec.grid_points) > n:
        raise SpecError("sweep.futures", n, f"at least the {len(spec.grid_points)} grid points")
    return spec


def parse_flag_grid(items: list[str]) -> dict[str, list[Any]]:
    """``--grid workload.peak_rps=20,25,40`` (values are YAML scalars)."""
    import yaml

    out: dict[str, list[Any]] = {}
    for it in items:
        if "=" not in it:
            raise SpecError("--grid", it, "FIELD=V1,V2,...")
        k, v = it.split("=", 1)
        out[k.strip()] = [yaml.safe_load(x) for x in v.split(",") if x.strip()]
    return out


def parse_flag_vary(items: list[str]) -> dict[str, str]:
    """``--vary financial.electricity_price_multiplier=uniform:0.9:1.4``."""
    out: dict[str, str] = {}
    for it in items:
        if "=" not in it:
            raise SpecError("--vary", it, "FIELD=DIST:PARAMS (e.g. lognormal:25:0.3)")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def read_section(path: Any) -> dict[str, Any] | None:
    """The ``sweep:`` section of a scenario file (the file itself is validated by
    ``load_scenario`` first)."""
    from pathlib import Path

    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    sec = data.get("sweep") if isinstance(data, dict) else None
    if sec is not None and not isinstance(sec, dict):
        raise SpecError("sweep", sec, "a mapping (futures, seed, grid, vary, ...)")
    return sec
