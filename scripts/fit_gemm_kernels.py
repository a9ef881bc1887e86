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
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import yaml

from airadar.catalog.resolve import hardware

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


def factors(path: Path, hid: str) -> dict[str, dict[str, float | int]]:
    import pandas as pd

    hw = hardware(hid)
    d = pd.read_parquet(path)
    d = d[(d.m >= M_MIN) & (d.n >= NK_MIN) & (d.k >= NK_MIN) & (d.n <= NK_MAX) & (d.k <= NK_MAX)]
    eff = {}
    for mode, fmt in MODES.items():
        peak = hw.peak_flops(fmt)
        x = d[d.gemm_dtype == mode]
        if peak and len(x):
            e = 2.0 * x.m * x.n * x.k / (x.latency * 1e-3) / peak
            eff[fmt] = pd.Series(e.to_numpy(), index=pd.MultiIndex.from_frame(x[["m", "n", "k"]]))
    if "fp8" not in eff:
        return {}
    out: dict[str, dict[str, float | int]] = {}
    for fmt, e in eff.items():
        if fmt == "fp8":
            continue
        j = pd.concat([e, eff["fp8"]], axis=1, join="inner").dropna()
        ratio = (j.iloc[:, 0] / j.iloc[:, 1]).to_numpy()
        out[fmt] = {"factor": round(float(statistics.median(ratio)), 3), "shapes": int(len(ratio)),
                    "fraction_of_peak": round(float(statistics.median(j.iloc[:, 0])), 3),
                    "fp8_fraction_of_peak": round(float(statistics.median(j.iloc[:, 1])), 3)}
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
        print(f"{hid:14s} " + "  ".join(f"{k} {v['factor']:.3f} ({v['shapes']} shapes)"
                                        for k, v in f.items()))
    header = ("# GEMM efficiency of each format relative to FP8 on the same GPU and shapes, measured\n"
              "# from aiconfigurator's kernel tables by scripts/fit_gemm_kernels.py (see its docstring).\n"
              "# perf.roofline multiplies the linear layers' datasheet peak by `factor`.\n")
    OUT.write_text(header + yaml.safe_dump(
        {"as_of": "2026-12", "shapes": {"m_min": M_MIN, "nk_min": NK_MIN, "nk_max": NK_MAX},
         "same_kernels_as": SAME_KERNELS, "hardware": table}, sort_keys=False))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
