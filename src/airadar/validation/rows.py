"""Map measurement rows (the column format of ``calibration.csv``) to prediction queries.

Every row either becomes a :class:`Query` or is skipped with a reason a person can read.
Semantics follow the file's README: Offline = peak; Server = highest load within p99 SLOs;
companion latency rows are measured at the load named in ``notes``; system totals are
compared with system totals."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from airadar.catalog import resolve
from airadar.catalog.loader import DATA, read_yaml
from airadar.errors import AiradarError, SpecError
from airadar.perf.profiles import stack_family
from airadar.specs.hardware import HardwareSpec
from airadar.specs.model import ModelSpec
from airadar.specs.precision import Precision
from airadar.units import ms_to_s

REQUIRED = ("id", "source", "hardware", "device_count", "stack", "model", "precision",
            "scenario", "input_tokens", "output_tokens", "batch_or_concurrency", "metric",
            "value", "unit", "notes")


@dataclass(frozen=True, kw_only=True)
class Query:
    id: str
    source: str
    model: ModelSpec
    hw: HardwareSpec
    count: int
    precision: Precision
    stack: str
    target: str  # tok_s | samples_s | ttft_mean | ttft_p99 | tpot_mean | tpot_p99 | latency
    mode: str  # offline | server | rate | single-stream | multistream
    input_tokens: float
    output_tokens: float
    beams: int
    rate_rps: float | None
    ttft_slo_s: float | None
    tpot_slo_s: float | None
    latency_slo_s: float | None
    measured: float  # SI: tokens/s, samples/s or seconds
    assumptions: tuple[str, ...]
    scenario: str = ""
    tp: int | None = None
    #: MLPerf dataset key (mlperf_datasets.yaml) whose unknown mean input length this row uses
    dataset: str = ""
    input_assumed: bool = False
    #: most sequences the submission scheduled (None = the stack's documented default)
    batch_cap: int | None = None

    @property
    def group(self) -> str:
        return f"{self.hw.hw_class}/{stack_family(self.stack)}"

    @property
    def scenario_kind(self) -> str:
        if self.target in ("tok_s", "samples_s"):
            if self.mode == "server" and "interactive" in self.scenario.lower():
                return "Interactive"
            return {"offline": "Offline", "server": "Server", "rate": "Online"}.get(self.mode,
                                                                                   self.mode)
        return "latency"

    @property
    def subset(self) -> str:
        """The validation subset the issue tracker and README report separately: Offline,
        Server, Interactive (MLPerf throughput rows), latency (TTFT/TPOT/latency rows), vendor
        table (fixed-length offline tables), vendor online (fixed-length rate sweeps)."""
        if not self.source.startswith("github:mlcommons"):
            if self.target == "tok_s":
                return "vendor table" if self.mode == "offline" else "vendor online"
            return "latency"
        return self.scenario_kind

    @property
    def published(self) -> str:
        """The publication round, for forward-in-time validation: ``mlperf-v4.1``,
        ``mlperf-v5.1``, ``trtllm-docs``..."""
        m = re.search(r"inference_results_(v[\d.]+)", self.source)
        if m:
            return f"mlperf-{m.group(1)}"
        return "trtllm-docs" if "tensorrt" in self.source.lower() else "other"


@lru_cache(maxsize=1)
def datasets() -> dict[str, Any]:
    return read_yaml(DATA / "mlperf_datasets.yaml", "mlperf_datasets.yaml") or {}


def read_rows(path: str | Path) -> list[dict[str, str]]:
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise SpecError(f"{p}: column", missing[0],
                                "the columns of calibration.csv: " + ", ".join(REQUIRED))
            return list(reader)
    except FileNotFoundError:
        raise SpecError("FILE", str(p), "an existing CSV file") from None
    except UnicodeDecodeError:
        raise SpecError("FILE", str(p), "a UTF-8 CSV file") from None


def _num(text: str) -> float | None:
    m = re.search(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", text or "")
    return float(m.group(0)) if m else None


def _slo(notes: str, name: str) -> float | None:
    m = re.search(rf"p99 {name}<=\s*([\d.]+)\s*ms", notes)
    return ms_to_s(float(m.group(1))) if m else None


def _precision(row: dict[str, str], model: ModelSpec, hw: HardwareSpec, fam: str,
               assumptions: list[str]) -> Precision:
    text = row["precision"].strip().lower()
    if not text:
        raise SpecError("precision", "", "a declared precision")
    if "fp8" in text or "float8" in text:
        p = Precision.parse("fp8")
    elif "int4" in text:
        p = Precision.parse("int4")
    else:
        p = Precision.parse(text.split()[0])
    if model.is_llm and fam == "tensorrt" and p.weights in ("fp16", "bf16") and \
            hw.supports_native("fp8"):
        # NVIDIA's MLPerf LLM harness quantizes to FP8 (FP4 on Blackwell) while the
        # submission declares the checkpoint type; see docs/accuracy.md "Calibration assumptions".
        fmt = "fp4" if hw.supports_native("fp4") else "fp8"
        assumptions.append(f"declared {text} run as {fmt} by the TensorRT MLPerf harness")
        p = Precision.parse(fmt)
    return p


def _tp(metric: str, notes: str, count: int, model: ModelSpec) -> int | None:
    """Tensor-parallel degree where the source states it ("TP=4", "70B TP4")."""
    m = re.search(r"TP\s*=?\s*(\d+)", metric + " " + notes)
    if m:
        return int(m.group(1))
    return None


def to_query(row: dict[str, str]) -> Query:
    """Map one row, or raise :class:`AiradarError` whose message is the skip reason."""
    assumptions: list[str] = []
    hw = resolve.hardware(row["hardware"])
    model = resolve.model(row["model"])
    if model.kind == "diffusion":
        raise AiradarError("diffusion model (not modelled)")
    if not row["device_count"].strip():
        raise AiradarError("device count not disclosed")
    count = int(float(row["device_count"]))
    if hw.hw_class == "cpu":
        count = max(count, 1)
    fam = stack_family(row["stack"])
    precision = _precision(row, model, hw, fam, assumptions)
    metric, unit, scen, notes = row["metric"], row["unit"], row["scenario"], row["notes"]
    value = _num(row["value"])
    if value is None or value <= 0:
        raise AiradarError("value missing or not positive")
    key = next((k for k in sorted(datasets(), key=len, reverse=True) if k in scen.lower()), "")
    ds = datasets().get(key, {})
    beams = int(ds.get("beams", 1))
    inp = _num(row["input_tokens"])
    out = _num(row["output_tokens"])
    input_assumed = False
    if model.is_llm:
        if inp is None:
            inp = dataset_input_tokens(key)
            if inp is None:
                raise AiradarError("input length not given and dataset unknown")
            input_assumed = True
            assumptions.append(f"mean input {inp:.0f} tokens ({ds.get('dataset', key)}; "
                               f"{'fitted' if key in fitted_input_tokens() else 'prior'})")
        if out is None:
            if "output_tokens_mean" not in ds:
                raise AiradarError("output length not given and dataset unknown")
            out = float(ds["output_tokens_mean"])
            assumptions.append(f"mean output {out:.0f} tokens")
    else:
        inp, out = float(model.seq_len or 1), 0.0
    rate = None
    if "measured at" in notes:
        rate = _num(notes.split("measured at", 1)[1])
    qps = re.search(r"QPS=(\w+)", row["batch_or_concurrency"] + " " + scen)
    lat_ms = _num(notes.split("p99 latency<=", 1)[1]) if "p99 latency<=" in notes else None
    lat_slo = ms_to_s(lat_ms) if lat_ms is not None else None
    sl = scen.lower()
    if "offline" in sl:
        mode = "offline"
    elif "server" in sl or "interactive" in sl:
        mode = "server"
    elif "singlestream" in sl:
        mode = "single-stream"
    elif "multistream" in sl:
        mode = "multistream"
    elif qps:
        mode = "rate"
        rate = None if qps.group(1).upper() == "INF" else float(qps.group(1))
    else:
        raise AiradarError(f"scenario not understood: {scen[:40]}")
    m = metric.lower()
    if unit == "ms":
        measured = ms_to_s(value)
        if "ttft" in m:
            target = "ttft_p99" if "p99" in m else "ttft_mean"
        elif "tpot" in m or "itl" in m or "inter-token" in m:
            target = "tpot_p99" if "p99" in m else "tpot_mean"
        elif "latency" in m:
            target = "latency"
        else:
            raise AiradarError(f"latency metric not understood: {metric[:40]}")
        if mode == "server" and target != "latency":
            mode = "rate"
            if rate is None:
                raise AiradarError("companion latency row without its load")
            if model.is_llm:
                rate = rate  # completed samples/s = requests/s
    elif unit == "tokens/s":
        if "total token" in m:
            raise AiradarError("total (input+output) token rate: scored via its output-token twin")
        target, measured = "tok_s", value
    elif unit in ("samples/s", "queries/s"):
        if "completed samples" in m:
            raise AiradarError("completed samples/s duplicates the server throughput row")
        if model.is_llm:
            target, measured = "tok_s", value * out
            assumptions.append(f"samples/s x {out:.0f} output tokens")
        else:
            target, measured = "samples_s", value
    else:
        raise AiradarError(f"unit not understood: {unit}")
    if mode == "rate" and target == "tok_s" and rate is None:
        mode = "offline"  # QPS=INF: every request queued at once
    return Query(id=row["id"], source=row["source"], model=model, hw=hw, count=count,
                 precision=precision, stack=row["stack"], target=target, mode=mode,
                 input_tokens=inp, output_tokens=out, beams=beams, rate_rps=rate,
                 ttft_slo_s=_slo(notes, "TTFT"), tpot_slo_s=_slo(notes, "TPOT"),
                 latency_slo_s=lat_slo, measured=measured, assumptions=tuple(assumptions),
                 scenario=scen, tp=_tp(metric, row["notes"], count, model), dataset=key,
                 input_assumed=input_assumed, batch_cap=_batch_cap(row, fam, assumptions))


def _batch_cap(row: dict[str, str], fam: str, assumptions: list[str]) -> int | None:
    """MLPerf submitters size the engine's batch to the system (vLLM submissions raise
    max_num_seqs well above its default of 256, e.g. AMD's v5.1 llama2-70b run): the cap is
    then memory, not the default."""
    if row["source"].startswith("github:mlcommons") and fam == "vllm":
        assumptions.append("tuned submission: batch bounded by memory, not vLLM's default 256")
        return 2048
    return None


def fitted_input_tokens() -> dict[str, float]:
    """Mean input lengths fitted by ``airadar calibrate`` (shipped profiles' meta)."""
    from airadar.perf.profiles import profiles_meta
    return {str(k): float(v) for k, v in (profiles_meta().get("dataset_input_tokens") or {}).items()}


def dataset_input_tokens(key: str) -> float | None:
    """Mean input tokens of an MLPerf dataset: the value fitted with the shipped profiles,
    else the dataset's documented prior (the fitter sets its own on the queries)."""
    fitted = fitted_input_tokens()
    if key in fitted and not datasets().get(key, {}).get("input_tokens_published"):
        return fitted[key]
    return prior_input_tokens().get(key)


def prior_input_tokens() -> dict[str, float]:
    """Each MLPerf dataset's documented prior mean input length (mlperf_datasets.yaml), never
    the value fitted with the shipped profiles: what an evaluation that must not see the rows
    it scores (cross-validation, the forward-in-time test) starts from."""
    out = {}
    for key, ds in datasets().items():
        v = ds.get("input_tokens_prior", ds.get("input_tokens_mean"))
        if v is not None:
            out[str(key)] = float(v)
    return out


def map_rows(rows: list[dict[str, str]]) -> tuple[list[Query], dict[str, int], dict[str, str]]:
    """(queries, skip reason -> count, row id -> skip reason)."""
    out: list[Query] = []
    skipped: dict[str, int] = {}
    why: dict[str, str] = {}
    for r in rows:
        try:
            out.append(to_query(r))
        except AiradarError as exc:
            reason = str(exc)
            skipped[reason] = skipped.get(reason, 0) + 1
            why[r.get("id", "?")] = reason
        except (ValueError, KeyError) as exc:
            reason = f"row not understood ({type(exc).__name__})"
            skipped[reason] = skipped.get(reason, 0) + 1
            why[r.get("id", "?")] = reason
    return out, skipped, why
