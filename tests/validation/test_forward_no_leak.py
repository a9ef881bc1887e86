"""The forward-in-time test must not see the rows it predicts: a dataset's mean input length
fitted with the shipped profiles (on every row, the newest round included) must not reach
rows of a round held out. Rows: MLPerf Inference v4.1 Llama-2-70B Offline and v5.1
Llama-3.1-8B Offline results, as copied into data/calibration.csv with their sources."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from airadar.validation.rows import dataset_input_tokens, prior_input_tokens
from tests.conftest import ROOT, run_cli

#: minutes on 2 cores (real Ray cluster / real model runs / a calibration fit): `-m "not slow"` skips them
pytestmark = pytest.mark.slow


def test_forward_rows_use_the_prior_or_what_older_rows_fit(tmp_path: Path) -> None:
    rows = list(csv.DictReader((ROOT / "data/calibration.csv").open()))

    def pick(model: str, rnd: str, n: int) -> list[dict[str, str]]:
        return [r for r in rows if r["model"] == model and rnd in r["source"]
                and "Offline" in r["scenario"] and r["unit"] == "tokens/s"][:n]

    sel = pick("Llama-2-70B-Chat", "inference_results_v4.1", 14) + \
        pick("Llama-3.1-8B-Instruct", "inference_results_v5.1", 6)
    assert len(sel) == 20
    f = tmp_path / "small.csv"
    with f.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(sel)
    prior = prior_input_tokens()["llama3.1-8b"]
    r = run_cli("calibrate", "--from-csv", str(f), "--folds", "0", "--forward", "mlperf-v5.1",
                "--out", str(tmp_path / "p.yaml"), "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["forward_rows"] == {"train": 14, "test": 6}
    # no llama3.1-8b row is older than v5.1: the forward rows assume the documented prior
    assert res["dataset_input_tokens_forward_used"] == {"llama3.1-8b": prior}
    # MLCommons publishes the 8B set's mean input (778 tokens, mlperf_datasets.yaml): it is
    # used as is, never fitted, even on all rows; Llama-2-70B's OpenOrca mean is not
    # published, so it is fitted
    assert "llama3.1-8b" not in res["dataset_input_tokens"]
    assert "llama2-70b" in res["dataset_input_tokens"]
    assert dataset_input_tokens("llama3.1-405b") == 9400
