"""airadar beside NVIDIA's aiconfigurator on the TensorRT-LLM perf-overview offline table.

    pip install -e '.[peers]'                      # aiconfigurator==0.12.0 from PyPI
    python benchmarks/peer_aiconfigurator.py [--limit N] [--out rows.json]
    python benchmarks/peer_aiconfigurator.py --deepseek   # MLPerf v5.1 DeepSeek-R1 Offline rows

Peer: aiconfigurator 0.12.0 (ai-dynamo/aiconfigurator on GitHub, with its aiconfigurator-core
0.12.0 wheel), licence Apache-2.0 (``License-Expression: Apache-2.0`` in both wheels' metadata;
the Apache License 2.0 text is its ``LICENSE`` file). It is imported only here, never by
``airadar``. It predicts from per-GPU kernel timing tables that ship in its wheel and runs
offline; it only goes to the Hugging Face hub for a model config it does not ship.

Rows: every row of ``data/calibration.csv`` whose source is NVIDIA's TensorRT-LLM
perf-overview throughput table ("generated using version 0.17") and whose scenario is
"offline max-throughput ... synthetic fixed-length prompts": output tokens/s of the whole TP
group, fixed input/output lengths, requests issued at infinite rate.

aiconfigurator is asked through its Python API ``aiconfigurator.cli.api.cli_exp(config=...)``
(the programmatic form of ``aiconfigurator cli exp``), one aggregated (in-flight batching)
experiment per row, with ``top_n=1``:

* ``serving_mode="agg"``, ``backend_name="trtllm"``, ``backend_version`` = the version
  aiconfigurator itself resolves as newest for the system (``get_latest_database_version``;
  its tables have no TensorRT-LLM 0.17, so this is 1.3.0rc20 on H100/H200/L40S and 1.0.0 on
  A100 in 0.12.0; the output says which);
* ``total_gpus`` and the only parallel candidate = the row's TP (``agg_tp_candidates=[TP]``,
  PP 1, attention DP 1; MoE models ``agg_moe_tp_candidates=[TP]``, EP 1, as TensorRT-LLM 0.17
  ran Mixtral with tensor-parallel experts), ``isl``/``osl`` = the row's lengths,
  ``free_gpu_memory_fraction=0.95`` (the table's ``kv_cache_free_gpu_mem_fraction``);
* offline max throughput: ``ttft=tpot=1e9`` ms, i.e. no latency limit, and
  ``pareto_sweep=False`` (its default sweeps TPOT targets of 1-295 ms, which would drop
  batches slower than 295 ms per token). aiconfigurator then sweeps batch size (its schedule
  1 ... 512, the largest it searches) x context tokens per step for that layout and
  ``cli_exp`` returns the configuration of highest tokens/s/GPU (``best_configs``, rank 1);
  its ``tokens/s`` (output tokens/s of the TP group) is the prediction;
* precision: FP8 rows use the quantisation modes aiconfigurator infers for NVIDIA's FP8
  Llama-3.1 checkpoint, the only FP8 Llama-3.1 config it ships (``Task`` built for
  ``nvidia/Llama-3.1-70B-Instruct-FP8``; fp8_static GEMM, FP8 KV cache, FP8 FMHA, FP8 MoE in
  0.12.0), set on the BF16 model configs it ships for every model; A100 FP16 rows use its
  default 16-bit modes (bfloat16: it has no float16 GEMM mode, same tensor-core rate);
* models: Llama-3.1 8B/70B/405B from its bundled configs; Mixtral 8x7B/8x22B configs ship in
  the wheel's ``model_configs`` but are not on its offline list, so they are handed over as a
  local directory holding that same file (noted per row as ``model_config``).

Rows it cannot express are counted with the reason: GH200 (no such system in 0.12.0; GB200
is Grace-Blackwell) and Mistral-7B (no config in the wheel; fetching one needs the hub), plus
any row whose call raises (reason = aiconfigurator's own error).

airadar: ``map_rows`` then ``score`` with the shipped profiles, one row at a time. Both tools
are timed per prediction with ``time.perf_counter`` around the call that turns the row into
a prediction (airadar: ``map_rows([row])`` + ``score``; aiconfigurator: ``cli_exp``), after
imports; first calls include each tool's lazy loading (aiconfigurator's per-system tables).
APE = |predicted - measured| / measured.

``--deepseek`` asks both tools instead for the MLPerf v5.1 DeepSeek-R1 Offline rows of
``data/calibration.csv`` on B200, GB200 and GB300 (NVFP4, TensorRT): the model that airadar
over-predicts most. aiconfigurator is given the DeepSeek-V3 config it bundles (R1 has the same
architecture, ``catalog/data/models.yaml``), NVFP4 GEMMs and experts, an FP8 KV cache and
BF16 context attention (its B200 tables have no FP8 context MLA), one 8-GPU instance with
experts over all 8 (EP8) and its own choice of attention tensor x data parallelism (TP x DP =
8), the dataset's mean lengths (800 in, the row's mean output out, as airadar uses them),
no latency limit; its tokens/s per GPU x the row's GPU count is the prediction.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "data" / "calibration.csv"
PEER = "aiconfigurator"
PEER_VERSION = "0.12.0"

#: airadar hardware id -> aiconfigurator system name (the ones it ships tables for)
SYSTEMS = {"h100-sxm": "h100_sxm", "h200-sxm": "h200_sxm", "a100-sxm-80gb": "a100_sxm",
           "l40s": "l40s"}
#: airadar model id -> (Hugging Face id aiconfigurator knows, how its config is handed over)
MODELS = {"llama-3.1-8b": ("meta-llama/Meta-Llama-3.1-8B", "bundled"),
          "llama-3.1-70b": ("meta-llama/Meta-Llama-3.1-70B", "bundled"),
          "llama-3.1-405b": ("meta-llama/Meta-Llama-3.1-405B", "bundled"),
          "mixtral-8x7b": ("mistralai/Mixtral-8x7B-v0.1", "wheel file as local dir"),
          "mixtral-8x22b": ("mistralai/Mixtral-8x22B-v0.1", "wheel file as local dir")}
#: the FP8 checkpoint whose inferred quantisation modes the FP8 rows use
FP8_REFERENCE = "nvidia/Llama-3.1-70B-Instruct-FP8"
NO_LIMIT_MS = 1e9
KV_FRACTION = 0.95


def table_rows(path: Path) -> list[dict[str, str]]:
    from airadar.validation.rows import read_rows

    return [r for r in read_rows(path)
            if "TensorRT-LLM" in r["source"] and "perf-overview" in r["source"]
            and "throughput table" in r["source"]
            and r["scenario"].startswith("offline max-throughput")
            and "synthetic fixed-length prompts" in r["scenario"]]


def spread(rows: list[Any], limit: int | None) -> list[Any]:
    """At most ``limit`` rows spread evenly over the table (deterministic)."""
    if not limit or limit >= len(rows):
        return rows
    return [rows[i * len(rows) // limit] for i in range(limit)]


def import_peer() -> Any:
    """aiconfigurator's API module, or one clear line and exit 2 when it is not installed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from aiconfigurator.cli import api
    except ImportError as exc:
        print(f"error: {PEER} is not installed ({exc}); install it with "
              f"pip install '{PEER}=={PEER_VERSION}' (or pip install -e '.[peers]')", file=sys.stderr)
        raise SystemExit(2) from None
    return api


class _Quiet(logging.Handler):
    """Keeps aiconfigurator's log off the terminal; remembers its last error for the reason."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last: str = ""

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None and exc.__cause__ is not None:
            exc = exc.__cause__
        self.last = f"{type(exc).__name__}: {exc}" if exc else record.getMessage()


class Peer:
    """aiconfigurator, one ``cli_exp`` call per row."""

    def __init__(self, workdir: Path) -> None:
        self.api = import_peer()
        import importlib.metadata as md

        from aiconfigurator.sdk.perf_database import get_latest_database_version
        from aiconfigurator.sdk.task_v2 import Task
        from aiconfigurator_core.sdk import utils as core_utils

        self.version = md.version(PEER)
        self.quiet = _Quiet()
        for name in ("aiconfigurator", "aiconfigurator_core"):
            lg = logging.getLogger(name)
            lg.handlers = [self.quiet]
            lg.propagate = False
            lg.setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", module=r"aiconfigurator.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        self._latest = get_latest_database_version
        self._task = Task
        self._configs = Path(core_utils._get_model_config_path())
        self.workdir = workdir
        self.versions: dict[str, str] = {}
        self.setup_s = 0.0
        self._fp8: dict[str, dict[str, str]] = {}
        self._local: dict[str, str] = {}

    def backend_version(self, system: str) -> str:
        if system not in self.versions:
            t0 = time.perf_counter()
            self.versions[system] = str(self._latest(system, "trtllm"))
            self.setup_s += time.perf_counter() - t0
        return self.versions[system]

    def fp8_modes(self, system: str) -> dict[str, str]:
        """Quantisation modes aiconfigurator infers for NVIDIA's FP8 Llama-3.1 checkpoint."""
        if system not in self._fp8:
            t0 = time.perf_counter()
            task = self._task.from_yaml({"serving_mode": "agg", "model_path": FP8_REFERENCE,
                                         "system_name": system, "backend_name": "trtllm",
                                         "backend_version": self.backend_version(system),
                                         "total_gpus": 8})
            self._fp8[system] = {f"{k}_quant_mode": getattr(task, f"{k}_quant_mode").name
                         for k in ("gemm", "kvcache", "fmha", "moe")}
            self.setup_s += time.perf_counter() - t0
        return self._fp8[system]

    def model_path(self, hf_id: str, how: str) -> str:
        if how == "bundled":
            return hf_id
        if hf_id not in self._local:
            d = self.workdir / hf_id.replace("/", "--")
            d.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self._configs / f"{hf_id.replace('/', '--')}_config.json",
                            d / "config.json")
            self._local[hf_id] = str(d)
        return self._local[hf_id]

    def target(self, q: Any) -> tuple[dict[str, Any] | None, str]:
        """(what to ask, "") or (None, why this row cannot be expressed)."""
        system = SYSTEMS.get(q.hw.id)
        if system is None:
            return None, f"no {q.hw.id} system in {PEER} {self.version}"
        if q.model.id not in MODELS:
            return None, (f"{q.model.id}: no model config in {PEER} {self.version} "
                          "(others come from the Hugging Face hub)")
        if q.precision.weights not in ("fp8", "fp16", "bf16") or q.precision.kv_cache != \
                q.precision.weights:
            return None, f"precision {q.precision} not mapped"
        hf_id, how = MODELS[q.model.id]
        return {"system": system, "hf_id": hf_id, "model_config": how,
                "moe": q.model.num_experts > 0, "tp": q.tp or q.count}, ""

    def experiment(self, t: dict[str, Any], q: Any) -> dict[str, Any]:
        tp = t["tp"]
        exp: dict[str, Any] = {
            "serving_mode": "agg", "model_path": self.model_path(t["hf_id"], t["model_config"]),
            "system_name": t["system"], "backend_name": "trtllm",
            "backend_version": self.backend_version(t["system"]),
            "total_gpus": tp, "isl": int(q.input_tokens), "osl": int(q.output_tokens),
            "ttft": NO_LIMIT_MS, "tpot": NO_LIMIT_MS, "pareto_sweep": False,
            "free_gpu_memory_fraction": KV_FRACTION,
            "agg_num_gpu_candidates": [tp], "agg_tp_candidates": [tp], "agg_pp_candidates": [1],
            "agg_dp_candidates": [1]}
        if t["moe"]:
            exp |= {"agg_moe_tp_candidates": [tp], "agg_moe_ep_candidates": [1]}
        if q.precision.weights == "fp8":
            modes = self.fp8_modes(t["system"])
            exp |= modes if t["moe"] else {k: v for k, v in modes.items() if k != "moe_quant_mode"}
        return exp

    def best(self, exp: dict[str, Any]) -> tuple[Any, float, str]:
        """(rank-1 configuration or None, seconds of the call, the peer's error or "")."""
        self.quiet.last = ""
        t0 = time.perf_counter()
        try:
            res = self.api.cli_exp(config={"row": exp}, top_n=1)
            return res.best_configs["row"].iloc[0], time.perf_counter() - t0, ""
        except Exception as exc:  # the peer's own errors become the row's reason
            why = self.quiet.last or f"{type(exc).__name__}: {exc}"
            return None, time.perf_counter() - t0, why.splitlines()[0][:200]

    def predict(self, t: dict[str, Any], q: Any) -> dict[str, Any]:
        best, dt, error = self.best(self.experiment(t, q))
        if best is None:
            return {"error": error, "seconds": dt}
        return {"predicted": float(best["tokens/s"]), "seconds": dt,
                "batch": int(best["bs"]), "ttft_ms": float(best["ttft"]),
                "tpot_ms": float(best["tpot"]), "parallel": str(best["parallel"]),
                "quant": {k: str(best[k]) for k in ("gemm", "kvcache", "fmha", "moe")},
                "system": t["system"], "backend_version": str(best["version"]),
                "model": t["hf_id"], "model_config": t["model_config"]}


def airadar_predict(row: dict[str, str]) -> dict[str, Any]:
    from airadar.validation.rows import map_rows
    from airadar.validation.score import score

    t0 = time.perf_counter()
    queries, skipped, _ = map_rows([row])
    scored, skipped2 = score(queries) if queries else ([], {})
    dt = time.perf_counter() - t0
    if not scored:
        return {"error": next(iter({**skipped, **skipped2}), "not scored"), "seconds": dt}
    return {"predicted": scored[0].predicted, "seconds": dt, "profile": scored[0].profile}


def median_pct(values: list[float]) -> str:
    return f"{statistics.median(values):6.1%}" if values else "     -"


def report(results: list[dict[str, Any]], peer: Peer, wall_s: float, n_table: int) -> None:
    both = [r for r in results if "ape" in r["airadar"] and "ape" in r[PEER]]
    cannot: dict[str, int] = defaultdict(int)
    for r in results:
        if "ape" not in r[PEER]:
            cannot[r[PEER].get("error", "?")] += 1
    print(f"TensorRT-LLM perf-overview v0.17 offline rows: {n_table} in the table, "
          f"{len(results)} run; {PEER} {peer.version} "
          f"(trtllm tables: {', '.join(f'{k} {v}' for k, v in sorted(peer.versions.items()))})")
    print(f"expressed by both: {len(both)}; {PEER} could not express {sum(cannot.values())}:")
    for why, n in sorted(cannot.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {n:4d}  {why}")
    air_only = [r for r in results if "ape" in r["airadar"]]
    print(f"airadar alone scored {len(air_only)} of {len(results)}: median APE "
          f"{median_pct([r['airadar']['ape'] for r in air_only]).strip()}")

    def line(label: str, rows: list[dict[str, Any]]) -> None:
        print(f"{label:<22} {len(rows):5d}  {median_pct([r['airadar']['ape'] for r in rows])}"
              f"  {median_pct([r[PEER]['ape'] for r in rows])}")

    print(f"\nmedian APE on rows both express   rows  airadar  {PEER}")
    line("all", both)
    line("dense", [r for r in both if not r["moe"]])
    line("MoE", [r for r in both if r["moe"]])
    for gpu in sorted({r["hardware"] for r in both}):
        line(gpu, [r for r in both if r["hardware"] == gpu])
    for model in sorted({r["model"] for r in both}):
        line(model, [r for r in both if r["model"] == model])

    for tool in ("airadar", PEER):
        by_model: dict[str, list[float]] = defaultdict(list)
        for r in both:
            by_model[r["model"]].append(r[tool]["ape"])
        if by_model:
            worst = max(sorted(by_model), key=lambda m: statistics.median(by_model[m]))
            print(f"worst model for {tool}: {worst} (median APE "
                  f"{statistics.median(by_model[worst]):.1%} over {len(by_model[worst])} rows)")

    t_air = [r["airadar"]["seconds"] for r in results]
    t_peer = [r[PEER]["seconds"] for r in results if "seconds" in r[PEER]]
    if t_air and t_peer:
        ma, mp = statistics.mean(t_air), statistics.mean(t_peer)
        print(f"\nwall time per prediction (mean; median): airadar {ma * 1e3:.2f} ms "
              f"({statistics.median(t_air) * 1e3:.2f} ms) over {len(t_air)}, {PEER} "
              f"{mp * 1e3:.0f} ms ({statistics.median(t_peer) * 1e3:.0f} ms) over {len(t_peer)}; "
              f"ratio {PEER}/airadar {mp / ma:,.0f}x")
    print(f"{PEER} set-up outside the timed calls (version look-up, FP8 modes): "
          f"{peer.setup_s:.1f} s; whole run {wall_s:.0f} s")


def run(rows: list[dict[str, str]], peer: Peer, progress: Callable[[int, int], None]) -> list[dict]:
    from airadar.validation.rows import map_rows

    results: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        queries, skipped, _ = map_rows([row])
        rec: dict[str, Any] = {"id": row["id"], "hardware": row["hardware"], "model": row["model"],
                               "precision": row["precision"], "measured_tok_s": float(row["value"]),
                               "isl": int(row["input_tokens"]), "osl": int(row["output_tokens"])}
        air = airadar_predict(row)
        if queries:
            q = queries[0]
            rec |= {"hardware": q.hw.id, "model": q.model.id, "tp": q.tp or q.count,
                    "moe": q.model.num_experts > 0}
            t, why = peer.target(q)
            aic = peer.predict(t, q) if t is not None else {"error": why}
        else:
            rec |= {"tp": int(row["device_count"]), "moe": "mixtral" in row["model"].lower()}
            aic = {"error": "airadar could not map the row: " + next(iter(skipped), "?")}
        for res in (air, aic):
            if "predicted" in res and 0 < float(res["predicted"]) < math.inf:
                res["ape"] = abs(res["predicted"] - rec["measured_tok_s"]) / rec["measured_tok_s"]
        rec |= {"airadar": air, PEER: aic}
        results.append(rec)
        progress(i + 1, len(rows))
    return results


#: airadar hardware id -> aiconfigurator system, for the DeepSeek-R1 rows (``--deepseek``)
DEEPSEEK_SYSTEMS = {"b200": "b200_sxm", "gb200": "gb200", "gb300": "gb300"}
DEEPSEEK_CONFIG = "deepseek-ai/DeepSeek-V3"


def deepseek_rows(path: Path) -> list[dict[str, str]]:
    from airadar.validation.rows import read_rows

    return [r for r in read_rows(path)
            if r["scenario"].startswith("MLPerf Offline (deepseek-r1")
            and "inference_results_v5.1" in r["source"]]


def deepseek_peer(peer: Peer, q: Any) -> dict[str, Any]:
    """aiconfigurator's tokens/s for one DeepSeek-R1 Offline row (see the module docstring)."""
    system = DEEPSEEK_SYSTEMS.get(q.hw.id)
    if system is None:
        return {"error": f"no {q.hw.id} system in {PEER} {peer.version}"}
    exp = {"serving_mode": "agg", "model_path": DEEPSEEK_CONFIG, "system_name": system,
           "backend_name": "trtllm", "backend_version": peer.backend_version(system),
           "total_gpus": 8, "isl": int(q.input_tokens), "osl": int(q.output_tokens),
           "ttft": NO_LIMIT_MS, "tpot": NO_LIMIT_MS, "pareto_sweep": False,
           "free_gpu_memory_fraction": KV_FRACTION, "agg_num_gpu_candidates": [8],
           "agg_tp_candidates": [1, 2, 4, 8], "agg_pp_candidates": [1],
           "agg_dp_candidates": [1, 2, 4, 8], "agg_moe_tp_candidates": [1],
           "agg_moe_ep_candidates": [8], "gemm_quant_mode": "nvfp4", "moe_quant_mode": "nvfp4",
           "kvcache_quant_mode": "fp8", "fmha_quant_mode": "bfloat16"}
    best, dt, error = peer.best(exp)
    if best is None:
        return {"error": error, "seconds": dt}
    per_gpu = float(best["tokens/s"]) / 8
    return {"predicted": per_gpu * q.count, "seconds": dt,
            "per_gpu": per_gpu, "batch": int(best["bs"]), "tpot_ms": float(best["tpot"]),
            "parallel": str(best["parallel"]), "backend_version": str(best["version"])}


def run_deepseek(rows: list[dict[str, str]], peer: Peer, out: Path | None) -> int:
    """Both tools on the DeepSeek-R1 rows; 1 when the peer predicted none of them."""
    from airadar.validation.rows import map_rows

    print(f"MLPerf v5.1 DeepSeek-R1 Offline rows: {len(rows)}; {PEER} {peer.version}")
    print(f"{'row':7} {'hardware':8} {'GPUs':>4} {'measured':>10} {'airadar':>10} {'ratio':>6} "
          f"{PEER + ' (layout, batch/GPU)':>34} {'ratio':>6}")
    ratios: dict[str, list[float]] = defaultdict(list)
    results: list[dict[str, Any]] = []
    for row in rows:
        queries, skipped, _ = map_rows([row])
        if not queries:
            print(f"{row['id']:7} airadar could not map the row: {next(iter(skipped), '?')}")
            continue
        q, meas = queries[0], float(row["value"])
        air, aic = airadar_predict(row), deepseek_peer(peer, q)
        cells = []
        for tool, res in (("airadar", air), (PEER, aic)):
            if "predicted" in res and 0 < float(res["predicted"]) < math.inf:
                ratios[tool].append(res["predicted"] / meas)
                cells.append((f"{res['predicted']:,.0f}", f"{res['predicted'] / meas:.2f}"))
            else:
                cells.append((res.get("error", "not a positive finite prediction")[:60], ""))
        results.append({"id": row["id"], "hardware": q.hw.id, "gpus": q.count,
                        "measured_tok_s": meas, "airadar": air, PEER: aic})
        how = f"({aic['parallel']}, {aic['batch']})" if "parallel" in aic else ""
        print(f"{row['id']:7} {q.hw.id:8} {q.count:4d} {meas:10,.0f} {cells[0][0]:>10} "
              f"{cells[0][1]:>6} {cells[1][0] + ' ' + how:>34} {cells[1][1]:>6}")
    for tool, rs in ratios.items():
        print(f"{tool}: median predicted/measured {statistics.median(rs):.2f} over {len(rs)} rows")
    if out:
        out.write_text(json.dumps({"peer": PEER, "peer_version": peer.version,
                                   "trtllm_versions": peer.versions, "rows": results},
                                  indent=1) + "\n")
        print(f"per-row results: {out}")
    if not ratios[PEER]:
        print(f"error: {PEER} predicted none of the {len(rows)} rows", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=CSV, help="calibration CSV (default: %(default)s)")
    ap.add_argument("--limit", type=int, default=None,
                    help="run at most N table rows, spread evenly over the table "
                         "(not with --deepseek, which always runs its 8 rows)")
    ap.add_argument("--out", type=Path, default=None, help="write per-row results as JSON here")
    ap.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    ap.add_argument("--deepseek", action="store_true",
                    help="the MLPerf v5.1 DeepSeek-R1 Offline rows instead (see the docstring)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="peer-aic-") as tmp:
        peer = Peer(Path(tmp))  # exits 2 with one line when aiconfigurator is absent
        if peer.version != PEER_VERSION:
            print(f"note: written for {PEER} {PEER_VERSION}, running {peer.version}", file=sys.stderr)
        if args.deepseek:
            rows = deepseek_rows(args.csv)
            if not rows:
                print(f"error: no MLPerf v5.1 DeepSeek-R1 Offline rows in {args.csv}",
                      file=sys.stderr)
                return 2
            return run_deepseek(rows, peer, args.out)
        table = table_rows(args.csv)
        if not table:
            print(f"error: no TensorRT-LLM perf-overview offline rows in {args.csv}", file=sys.stderr)
            return 2
        rows = spread(table, args.limit)

        def progress(i: int, n: int) -> None:
            if not args.quiet and sys.stderr.isatty():
                print(f"\r{i}/{n}", end="" if i < n else "\n", file=sys.stderr, flush=True)

        t0 = time.perf_counter()
        results = run(rows, peer, progress)
        wall = time.perf_counter() - t0
    report(results, peer, wall, len(table))
    if args.out:
        args.out.write_text(json.dumps({"peer": PEER, "peer_version": peer.version,
                                        "trtllm_versions": peer.versions, "rows": results},
                                       indent=1) + "\n")
        print(f"per-row results: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
