"""The scenario file: one validated pydantic model, exported as JSON Schema
(``airadar schema``). Loading names the file, the line and the field of the first problem."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from airadar.errors import ScenarioError
from airadar.specs.base import Frozen
from airadar.specs.financial import Financials
from airadar.specs.policy import DataPolicy

#: the largest peak rate a scenario may ask for (requests/s)
MAX_PEAK_RPS = 1_000_000.0
#: the longest request lengths a scenario may give (tokens), before the model's own context
MAX_TOKENS = 10_000_000.0

Objective = Literal["min_tco", "min_cost_per_token", "min_energy", "min_latency"]


class Lengths(Frozen):
    """Token lengths: a mean and optional quantiles (used to split traffic into classes)."""

    mean: float = Field(gt=0, le=MAX_TOKENS)
    p50: float | None = Field(default=None, gt=0, le=MAX_TOKENS)
    p90: float | None = Field(default=None, gt=0, le=MAX_TOKENS)
    max: float | None = Field(default=None, gt=0, le=MAX_TOKENS)


class RequestClass(Frozen):
    """A share of the traffic with its own lengths (for the mixed-fleet plan)."""

    name: str
    input_tokens: float = Field(gt=0)
    #: default: the workload's mean output length
    output_tokens: float | None = Field(default=None, gt=0)
    share: float = Field(gt=0, le=1)


class SLO(Frozen):
    ttft_p50_ms: float | None = Field(default=None, gt=0)
    ttft_p99_ms: float | None = Field(default=None, gt=0)
    tpot_p50_ms: float | None = Field(default=None, gt=0)
    tpot_p99_ms: float | None = Field(default=None, gt=0)
    e2e_p99_ms: float | None = Field(default=None, gt=0)


class Workload(Frozen):
    #: bounded so that sizing, the mix and the simulation fit in memory (a documented limit)
    peak_rps: float = Field(gt=0, le=MAX_PEAK_RPS, description="peak request rate, requests/s "
                            f"(at most {MAX_PEAK_RPS:,.0f})")
    average_rps: float | None = Field(default=None, gt=0)
    #: 24 hourly values, fraction of peak (1.0 = peak)
    daily_curve: tuple[float, ...] | None = None
    input_tokens: Lengths | Annotated[float, Field(gt=0, le=MAX_TOKENS)]
    output_tokens: Lengths | Annotated[float, Field(gt=0, le=MAX_TOKENS)] = 1.0
    slo: SLO = SLO()
    #: minimum fraction of full-precision quality a variant must keep (e.g. 0.98)
    quality_floor: float = Field(default=0.0, ge=0, le=1)
    data: DataPolicy = DataPolicy()
    #: for edge / on-device plans: how many users (devices) the service has
    users: int | None = Field(default=None, ge=1, le=10_000_000_000)
    headroom: float = Field(default=0.2, ge=0, le=5)
    #: traffic classes for the mixed-fleet plan; their shares sum to 1 and their mean input
    #: (and output) length is the workload's (default: derived from the length quantiles)
    request_classes: tuple[RequestClass, ...] | None = Field(default=None, min_length=1)

    @field_validator("daily_curve")
    @classmethod
    def _curve(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is None:
            return v
        if len(v) != 24:
            raise ValueError(f"daily_curve needs 24 hourly values, got {len(v)}")
        if any(x < 0 or x > 1 for x in v):
            raise ValueError("daily_curve values are fractions of peak in [0, 1]")
        return v

    @model_validator(mode="after")
    def _avg(self) -> Workload:
        if self.average_rps is not None and self.average_rps > self.peak_rps:
            raise ValueError(f"average_rps ({self.average_rps}) cannot exceed peak_rps "
                             f"({self.peak_rps})")
        return self

    @model_validator(mode="after")
    def _classes(self) -> Workload:
        cls = self.request_classes
        if not cls:
            return self
        total = sum(c.share for c in cls)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"request_classes: shares sum to {total:g}, not 1")
        for what, mean, vals in (
                ("input", self.input_mean, [c.input_tokens for c in cls]),
                ("output", self.output_mean, [c.output_tokens or self.output_mean for c in cls])):
            got = sum(c.share * v for c, v in zip(cls, vals, strict=True))
            if abs(got - mean) > 0.02 * mean:
                raise ValueError(f"request_classes: their mean {what} length {got:,.0f} tokens "
                                 f"differs from the workload's {mean:,.0f} by more than 2%")
        return self

    @property
    def input_mean(self) -> float:
        return self.input_tokens if isinstance(self.input_tokens, float | int) else \
            self.input_tokens.mean

    @property
    def output_mean(self) -> float:
        return self.output_tokens if isinstance(self.output_tokens, float | int) else \
            self.output_tokens.mean

    @property
    def curve(self) -> tuple[float, ...]:
        if self.daily_curve:
            return self.daily_curve
        if self.average_rps:
            return (self.average_rps / self.peak_rps,) * 24
        return (1.0,) * 24


class Candidates(Frozen):
    hardware: Literal["all"] | tuple[str, ...] = "all"
    sites: Literal["all"] | tuple[str, ...] = "all"
    #: which kinds of site to consider (cloud, onprem, colo, edge, device)
    site_kinds: tuple[Literal["cloud", "onprem", "colo", "edge", "device"], ...] = (
        "cloud", "onprem", "colo", "edge", "device")
    precisions: tuple[str, ...] = ("bf16", "fp8", "int4")
    sparsity: tuple[str, ...] = ("none",)
    modes: tuple[Literal["server", "offline", "single-stream"], ...] = ("server",)
    terms: tuple[Literal["on-demand", "monthly", "1y", "3y", "spot"], ...] = ("on-demand",)
    max_devices_per_replica: int = Field(default=8, ge=1, le=1024)
    stack: str | None = None
    #: what the on-premise sites are: a "datacenter" (server room; the default) or a "lab"
    #: (a lab or a desk), where hardware whose licence excludes data centres may run
    onprem_setting: Literal["datacenter", "lab"] = "datacenter"


class Constraints(Frozen):
    budget_usd_per_month: float | None = Field(default=None, gt=0)
    power_cap_kw: float | None = Field(default=None, gt=0)
    max_devices: int | None = Field(default=None, ge=1)
    rack_units: int | None = Field(default=None, ge=1)


class Scenario(Frozen):
    name: str
    description: str = ""
    model: str = Field(description="catalog id/alias or a path to a config.json")
    workload: Workload
    candidates: Candidates = Candidates()
    financial: Financials = Financials()
    objective: Objective = "min_tco"
    constraints: Constraints = Constraints()


def _line_of(node: yaml.Node | None, path: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the YAML node at ``path`` in a composed document."""
    cur = node
    line = cur.start_mark.line + 1 if cur is not None else None
    for key in path:
        if isinstance(cur, yaml.MappingNode):
            nxt = next((v for k, v in cur.value if getattr(k, "value", None) == str(key)), None)
            if nxt is None:
                nxt_key = next((k for k, _ in cur.value if getattr(k, "value", None) == str(key)),
                               None)
                return nxt_key.start_mark.line + 1 if nxt_key is not None else line
            cur = nxt
        elif isinstance(cur, yaml.SequenceNode) and isinstance(key, int) and key < len(cur.value):
            cur = cur.value[key]
        else:
            break
        line = cur.start_mark.line + 1
    return line


def _duplicate_key(node: yaml.Node | None, path: str = "") -> tuple[str, int] | None:
    """The dotted path and line of the first key repeated in a mapping (YAML keeps the last
    silently)."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            key = str(getattr(k, "value", k))
            where = f"{path}.{key}" if path else key
            if key in seen:
                return where, k.start_mark.line + 1
            seen.add(key)
            found = _duplicate_key(v, where)
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            found = _duplicate_key(v, f"{path}[{i}]")
            if found:
                return found
    return None


def load_scenario(path: str | Path) -> Scenario:
    """Parse and validate a scenario file; raise ScenarioError naming file, line and field."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{p}: file not found") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{p}: not a readable YAML file ({type(exc).__name__})") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{p}:{mark.line + 1}" if mark else str(p)
        raise ScenarioError(f"{where}: malformed YAML: {getattr(exc, 'problem', None) or exc}"
                            ) from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{p}: a scenario is a YAML mapping with name, model and workload")
    dup = _duplicate_key(node)
    if dup is not None:
        raise ScenarioError(f"{p}:{dup[1]}: {dup[0]}: duplicate key (each key once)")
    # the ``sweep:`` section is read by ``airadar sweep`` (sweep/spec.py); a plan ignores it
    data.pop("sweep", None)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errs = exc.errors()
        # of a union's branches, report the number's complaint rather than "not a mapping"
        err = next((x for x in errs if x.get("type") not in ("model_type", "dict_type")),
                   errs[0])
        loc = tuple(x for x in err.get("loc", ()) if not (isinstance(x, str) and (x in (
            "float", "Lengths", "literal['all']", "tuple[str, ...]")
            or x.startswith("constrained-"))))
        field = ".".join(str(x) for x in loc) or "(top level)"
        line = _line_of(node, loc)
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        got = err.get("input")
        shown = "" if err.get("type") in ("missing",) or isinstance(got, dict) else f" (got {got!r})"
        raise ScenarioError(f"{p}:{line}: {field}: {msg}{shown}") from None


def json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "airadar scenario"
    return schema
