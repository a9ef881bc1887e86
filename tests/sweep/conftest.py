"""A small scenario for sweep tests: two hardware types, one precision (a perf table in about
a second)."""

from __future__ import annotations

from pathlib import Path

import pytest

SMALL = """\
name: small EU chat
model: llama-3.1-8b
workload:
  peak_rps: 25
  average_rps: 8
  input_tokens: {mean: 900}
  output_tokens: {mean: 250}
  slo: {ttft_p99_ms: 2000, tpot_p99_ms: 80}
  data: {data_class: personal, users_in: EU, allowed_countries: [EEA]}
candidates:
  hardware: [rtx-4090, l40s, h100-sxm]
  precisions: [fp8]
  site_kinds: [cloud, onprem, colo]
  max_devices_per_replica: 2
financial: {utilization: 0.5, electricity_usd_per_kwh: 0.2}
sweep:
  futures: 120
  seed: 3
  vary:
    workload.peak_rps: lognormal:25:0.3
    financial.electricity_price_multiplier: {dist: uniform, low: 0.9, high: 1.6}
    financial.cloud_price_multiplier: triangular:0.8:1.0:1.3
"""


def write_small(dir_: Path, extra: str = "") -> Path:
    p = dir_ / "small.yaml"
    p.write_text(SMALL + extra)
    return p


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    return write_small(tmp_path)
