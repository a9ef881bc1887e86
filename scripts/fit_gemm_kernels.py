"""Measure, per GPU, how much of its datasheet peak each GEMM format reaches relative to FP8,
from the kernel timings NVIDIA's aiconfigurator ships; writes catalog/data/gemm_kernels.yaml.

    pip install -e '.[peers]'                      # aiconfigurator==0.12.0 from PyPI
    python scripts/fit_gemm_kernels.py

Source: aiconfigurator 0.12.0 (PyPI ``aiconfigurator-core`` 0.12.0 wheel, licence Apache-2.0:
``License-Expression`` in the wheel metadata). The wheel ships, per GPU and TensorRT-LLM
version, ``systems/data/<gpu>/gemm/trtllm/<version>/gemm_perf.parquet``: the measured latency
(ms) of one GEMM over a grid of M (tokens) x N x K (weight dimensions) in each mode
(``bfloat16``, ``fp8`` per-tensor, ``nvfp4``). airadar reads the tables only here, never at run
time, and ships the derived factors with their source.

For every grid point with M >= 256 and 2,048 <= N, K <= 16,384 (the per-device shapes of
transformer linear layers, as many rows per step as an engine batches) the achieved fraction of
the format's datasheet peak (airadar's catalog) is divided by FP8's at the same (M, N, K); the
factor is the median of that ratio. Datasheet peaks double from BF16 to FP8 to FP4, kernels do
not: on H100/H200 FP8 GEMMs reach 0.65x the fraction BF16 ones do (1.3x their throughput, not
2x), on B200 FP4 0.74x FP8's (1.5x, not 2x). ``perf.roofline`` scales the linear layers' peak
by the factor of the format they run in; the fitted profiles (mostly FP8 rows) carry the rest.
A GPU without a table of its own uses the table of the GPU it shares its chip with
(``same_kernels_as``), else no factor (the datasheet ratio, an assumption).

The same tables give how a GEMM of few rows (a decode step) reads its weights: through the
GEMMs of at most 16 rows with 1,024 <= N, K <= 32,768 (median over M per (N, K)) the line
``time = floor + weight bytes / bandwidth`` is fitted per format. ``floor_us`` is the fixed time
of one kernel (11-15 us for FP8 and FP4 on H100 to GB300, 3-5 us for BF16) and
``read_fraction`` the bandwidth over the datasheet's (B200: FP8 0.76, NVFP4 0.50). The step
model reads weights at ``read_fraction`` relative to FP8's and adds the floor of four GEMM
kernels per layer; a negative intercept (small matrices served from L40S's large L2) is
taken as no floor.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import yaml

from airadar.catalog.resolve import hardware
from airadar.units import stored_bytes_per_element

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "airadar" / "catalog" / "data" / "gemm_kernels.yaml"
PEER_VERSION = "0.12.0"
#: aiconfigurator system directory -> airadar hardware id
SYSTEMS = {"h100_sxm": "h100-sxm", "h200_sxm": "h200-sxm", "b200_sxm": "b200", "gb200": "gb200",
           "b300_sxm": "b300", "gb300": "gb300", "l40s": "l40s",
           "rtx_pro_6000_server": "rtx-pro-6000"}
#: accelerators on the same chip as a tabled GPU (same SMs and tensor cores, same kernels)
SAME_KERNELS = {"h100-pcie": "h100-sxm", "h100-nvl": "h100-sxm", "h800-sxm": "h100-sxm",
                "h20": "h100-sxm", "gh200-96gb": "h100-sxm", "gh200-144gb": "h200-sxm",
                "h200-nvl": "h200-sxm", "rtx-pro-6000-ws": "rtx-pro-6000",
                "rtx-pro-6000-maxq": "rtx-pro-6000", "l4": "l40s"}
#: aiconfigurator GEMM mode -> airadar format
MODES = {"bfloat16": "bf16", "fp8": "fp8", "nvfp4": "fp4"}
M_MIN, NK_MIN, NK_MAX = 256, 2048, 16384
#: the weight-read regime: a handful of rows (decode steps of few sequences) against per-device
#: weight matrices of transformer size
SMALL_M_MAX, READ_NK_MIN, READ_NK_MAX = 16, 1024, 32768


def weight_reads(d, hid: str) -> dict[str, dict[str, float | int]]:
    """Per mode, the least-squares line ``time = floor + weight bytes / bandwidth`` through the
    GEMMs of at most SMALL_M_MAX rows (median over M per (N, K)): ``floor_us`` is the fixed
    time of one GEMM kernel, ``read_fraction`` the bandwidth over the datasheet's."""
    import numpy as np

    bw = hardware(hid).fast_memory.bandwidth_bytes_per_s
    out: dict[str, dict[str, float | int]] = {}
    for mode, fmt in MODES.items():
        x = d[(d.gemm_dtype == mode) & (d.m <= SMALL_M_MAX) & (d.n >= READ_NK_MIN)
              & (d.k >= READ_NK_MIN) & (d.n <= READ_NK_MAX) & (d.k <= READ_NK_MAX)]
        if len(x) < 20:
            continue
        x = x.groupby(["n", "k"]).latency.median().reset_index()
        # bytes per weight element, block scales included (NVFP4: 4 bits + an FP8 scale per 16)
        nbytes = (x.n * x.k * stored_bytes_per_element(fmt)).to_numpy(dtype=float)
        a = np.vstack([np.ones(len(x)), nbytes]).T
        t = x.latency.to_numpy() * 1e-3
        (floor_s, s_per_byte), *_ = np.linalg.lstsq(a, t, rcond=None)
        if floor_s < 0:  # small matrices served from a large L2 (L40S): no floor, line through 0
            floor_s, s_per_byte = 0.0, float(nbytes @ t / (nbytes @ nbytes))
        out[fmt] = {"floor_us": round(float(floor_s) * 1e6, 2),
                    "read_fraction": round(float(1.0 / s_per_byte / bw), 3),
                    "read_shapes": int(len(x))}
    return out


def factors(path: Path, hid: str) -> dict[str, dict[str, float | int]]:
    import pandas as pd

    hw = hardware(hid)
    raw = pd.read_parquet(path)
    d = raw[(raw.m >= M_MIN) & (raw.n >= NK_MIN) & (raw.k >= NK_MIN) & (raw.n <= NK_MAX)
            & (raw.k <= NK_MAX)]
    eff = {}
    for mode, fmt in MODES.items():
        peak = hw.peak_flops(fmt)
        x = d[d.gemm_dtype == mode]
        if peak and len(x):
            e = 2.0 * x.m * x.n * x.k / (x.latency * 1e-3) / peak
            eff[fmt] = pd.Series(e.to_numpy(), index=pd.MultiIndex.from_frame(x[["m", "n", "k"]]))
    if "fp8" not in eff:
        return {}
    reads = weight_reads(raw, hid)
    out: dict[str, dict[str, float | int]] = {}
    for fmt, e in eff.items():
        if fmt == "fp8":
            if fmt in reads:
                out[fmt] = dict(reads[fmt])
            continue
        j = pd.concat([e, eff["fp8"]], axis=1, join="inner").dropna()
        ratio = (j.iloc[:, 0] / j.iloc[:, 1]).to_numpy()
        out[fmt] = {"factor": round(float(statistics.median(ratio)), 3), "shapes": int(len(ratio)),
                    "fraction_of_peak": round(float(statistics.median(j.iloc[:, 0])), 3),
                    "fp8_fraction_of_peak": round(float(statistics.median(j.iloc[:, 1])), 3),
                    **reads.get(fmt, {})}
    return out


def peer_data() -> Path | None:
    """aiconfigurator's per-GPU table directory (``systems/data``), or None (with a message)
    when ``airadar[peers]`` is not installed."""
    try:
        import aiconfigurator_core
    except ImportError:
        print("aiconfigurator-core is not installed: pip install -e '.[peers]'", file=sys.stderr)
        return None
    return Path(aiconfigurator_core.__file__).parent / "systems" / "data"


def main() -> int:
    data = peer_data()
    if data is None:
        return 2
    table: dict[str, dict] = {}
    for sysname, hid in SYSTEMS.items():
        paths = sorted((data / sysname / "gemm" / "trtllm").glob("*/gemm_perf.parquet"))
        if not paths:
            continue
        path = paths[-1]
        f = factors(path, hid)
        if not f:
            continue
        rel = path.relative_to(data.parent.parent)
        table[hid] = {"source": f"aiconfigurator {PEER_VERSION} (Apache-2.0) {rel}", **f}
        print(f"{hid:14s} " + "  ".join(f"{k} {v.get('factor', 1.0):.3f} read {v.get('read_fraction')}"
                                        f" floor {v.get('floor_us')} us"
                                        for k, v in f.items()))
    header = ("# GEMM efficiency of each format relative to FP8 on the same GPU and shapes, measured\n"
              "# from aiconfigurator's kernel tables by scripts/fit_gemm_kernels.py (see its docstring).\n"
              "# perf.roofline multiplies the linear layers' datasheet peak by `factor`, reads their\n"
              "# weights at `read_fraction` relative to FP8's and adds `floor_us` per GEMM kernel.\n")
    OUT.write_text(header + yaml.safe_dump(
        {"as_of": "2026-12", "shapes": {"m_min": M_MIN, "nk_min": NK_MIN, "nk_max": NK_MAX,
                                        "read_m_max": SMALL_M_MAX, "read_nk_min": READ_NK_MIN,
                                        "read_nk_max": READ_NK_MAX},
         "same_kernels_as": SAME_KERNELS, "hardware": table}, sort_keys=False))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
