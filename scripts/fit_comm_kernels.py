"""Measured all-reduce times per GPU and group size, from the collective timings NVIDIA's
aiconfigurator ships; writes catalog/data/comm_kernels.yaml.

    pip install -e '.[peers]'                      # aiconfigurator==0.12.0 from PyPI
    python scripts/fit_comm_kernels.py

Source: aiconfigurator 0.12.0 (PyPI ``aiconfigurator-core`` 0.12.0 wheel, licence Apache-2.0:
``License-Expression`` in the wheel metadata). The wheel ships, per GPU and TensorRT-LLM
version, ``systems/data/<gpu>/comm/trtllm/<version>/custom_allreduce_perf.parquet``: the
measured latency (ms) of one BF16 all-reduce of ``message_size`` elements across 2, 4 or 8
GPUs of one NVLink domain, with TensorRT-LLM's own all-reduce kernels (the ones its engines
call between the attention and MLP blocks). airadar reads the tables only here, never at run
time, and ships, per GPU and group size, the message bytes (2 per element) and the fastest
measured time at each size (an engine picks its fastest strategy).

What the tables show: a small all-reduce costs 3-5 us; messages of 0.1-10 MB (tens to
thousands of tokens of a 4k-16k hidden state) run 2-4x slower than a ring at the NVLink
datasheet rate; only messages of 100 MB and more approach half the datasheet's (bidirectional)
NVLink figure. Only the NVLink systems are taken: the PCIe cards' tables (L40S, RTX PRO 6000)
show 1-17 GB/s for 4-8 GPUs at 1 GB, far below their PCIe links, which describes the host
topology of the machine they were collected on more than the card. ``perf.parallelism``
interpolates these curves; a device without a table uses the reference GPU's curve rescaled
to its own catalog link bandwidth.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "airadar" / "catalog" / "data" / "comm_kernels.yaml"
PEER_VERSION = "0.12.0"
VERSION = "1.3.0rc20"
#: aiconfigurator system directory -> airadar hardware id
SYSTEMS = {"h100_sxm": "h100-sxm", "h200_sxm": "h200-sxm", "b200_sxm": "b200", "gb200": "gb200",
           "b300_sxm": "b300", "gb300": "gb300"}
#: the curve other devices are rescaled from (NVLink 4 with NVSwitch, 8 GPUs)
REFERENCE = "h200-sxm"
BYTES_PER_ELEMENT = 2  # the tables' all-reduces are BF16


def curves(path: Path) -> dict[int, list[list[float]]]:
    import pandas as pd

    d = pd.read_parquet(path)
    d = d[(d.op_name == "all_reduce") & (d.allreduce_dtype == "bfloat16")]
    out: dict[int, list[list[float]]] = {}
    for g, x in d.groupby("num_gpus"):
        best = x.groupby("message_size").latency.min().sort_index()
        out[int(g)] = [[int(s) * BYTES_PER_ELEMENT, float(f"{t * 1e-3:.4g}")]
                       for s, t in best.items()]
    return out


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fit_gemm_kernels import peer_data

    data = peer_data()
    if data is None:
        return 2
    table: dict[str, dict] = {}
    for sysname, hid in SYSTEMS.items():
        path = data / sysname / "comm" / "trtllm" / VERSION / "custom_allreduce_perf.parquet"
        if not path.exists():
            continue
        c = curves(path)
        rel = path.relative_to(data.parent.parent)
        table[hid] = {"source": f"aiconfigurator {PEER_VERSION} (Apache-2.0) {rel}",
                      "groups": {g: pts for g, pts in sorted(c.items())}}
        print(f"{hid:14s} " + "  ".join(
            f"{g} GPUs: {pts[0][1] * 1e6:.1f} us small, {pts[-1][0] / pts[-1][1] / 1e9:.0f} GB/s "
            f"at {pts[-1][0] / 1e6:.0f} MB" for g, pts in sorted(c.items())))
    header = ("# Measured all-reduce time (seconds) by message size (bytes), per GPU and group size,\n"
              "# from aiconfigurator's collective tables by scripts/fit_comm_kernels.py (see its\n"
              "# docstring). perf.parallelism interpolates them; other devices rescale `reference`.\n")
    OUT.write_text(header + yaml.safe_dump(
        {"as_of": "2026-12", "reference": REFERENCE, "hardware": table},
        sort_keys=False, default_flow_style=None, width=100))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
