"""Load on a live OpenAI-compatible endpoint: open loop (requests sent at given arrival times,
whatever the server's state: Poisson, constant, gamma bursts, a replayed trace) or closed loop
(C clients, each sending its next request when the previous one ends).

Every run is bounded: a number of requests, a wall-clock limit on sending, a per-request
timeout, a cap on requests in flight. Warm-up requests go first, one at a time, and are
excluded. Each finished request is handed to ``on_record`` at once (the CLI stores it), and
appended to the caller's list, so Ctrl-C or a dying server loses nothing already measured.

The arrival times and lengths are made by the caller (``sim.workload``, the same generator the
simulator uses), so a prediction can replay exactly the same requests."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from airadar.bench.loadgen import summarise
from airadar.bench.openai_stream import (
    RequestRecord,
    open_session,
    payload,
    stream_request,
    synthetic_prompt,
)
from airadar.bench.token_count import TokenCounter
from airadar.errors import BackendError, SpecError

#: connections per HTTP session (requests in flight are spread over several sessions)
POOL_SIZE = 16


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where requests go and how they are shaped. ``headers`` may hold the API key: it is
    sent, never stored or printed (``describe`` leaves it out)."""

    url: str
    kind: str  # "completions" or "chat"
    model: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    ignore_eos: bool = True
    include_usage: bool = True
    timeout_s: float = 120.0
    connect_timeout_s: float = 5.0

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "endpoint": self.kind, "model": self.model,
                "ignore_eos_sent": self.ignore_eos, "usage_requested": self.include_usage,
                "timeout_s": self.timeout_s, "api_key": "set" if self.headers else "none"}


@dataclass(frozen=True, kw_only=True)
class Planned:
    """One request to send: its prompt (text, and its length in words) and max_tokens."""

    prompt: str
    prompt_words: int
    max_tokens: int
    arrival_s: float = 0.0  # open loop: seconds after the start
    prompt_tokens: int | None = None  # counted on the client (--tokenizer)


@dataclass(frozen=True, kw_only=True)
class Bounds:
    max_duration_s: float = 600.0
    max_inflight: int = 512
    warmup: int = 1

    def __post_init__(self) -> None:
        if not self.max_duration_s > 0:
            raise SpecError("--max-duration", self.max_duration_s, "seconds > 0")
        if self.max_inflight < 1:
            raise SpecError("--max-inflight", self.max_inflight, "an integer >= 1")
        if self.warmup < 0:
            raise SpecError("--warmup", self.warmup, "an integer >= 0")


def plan_requests(*, input_words: Sequence[int], output_tokens: Sequence[int],
                  arrivals_s: Sequence[float] | None = None, prompts: Sequence[str] | None = None,
                  seed: int = 0, count_tokens: TokenCounter | None = None) -> list[Planned]:
    """Requests from per-request lengths (and arrival times); ``prompts`` (a file's) are used
    in turn instead of synthetic ones; ``count_tokens`` counts each prompt's tokens."""
    out = []
    for i, (n_in, n_out) in enumerate(zip(input_words, output_tokens, strict=True)):
        if prompts:
            p = prompts[i % len(prompts)]
            words = len(p.split())
        else:
            p, words = synthetic_prompt(int(n_in), seed * 1_000_003 + i), int(n_in)
        out.append(Planned(prompt=p, prompt_words=words, max_tokens=int(n_out),
                           arrival_s=float(arrivals_s[i]) if arrivals_s is not None else 0.0,
                           prompt_tokens=count_tokens(p) if count_tokens else None))
    return out


class _LazyClients:
    """``clients[k]``: the k-th HTTP session, made on first use and closed with ``stack``."""

    def __init__(self, make: Callable[[], Any], stack: contextlib.AsyncExitStack, n: int) -> None:
        self._make, self._stack = make, stack
        self._made: list[Any] = [None] * n

    def __getitem__(self, k: int) -> Any:
        c = self._made[k]
        if c is None:
            c = self._made[k] = self._make()
            self._stack.push_async_callback(c.close)
        return c


def _client(target: Target, limit: int) -> Any:
    """An HTTP session of ``limit`` connections (made inside the running event loop)."""
    return open_session(limit=limit, timeout_s=target.timeout_s,
                        connect_timeout_s=target.connect_timeout_s)


async def _one(client: Any, target: Target, p: Planned, rec: RequestRecord, t0: float
               ) -> RequestRecord:
    body = payload(kind=target.kind, model=target.model, prompt=p.prompt, max_tokens=p.max_tokens,
                   ignore_eos=target.ignore_eos, include_usage=target.include_usage)
    return await stream_request(client, url=target.url, kind=target.kind, body=body,
                                headers=target.headers, rec=rec, t0=t0)


def probe(target: Target, *, prompt_words: int = 8, max_tokens: int = 4) -> dict[str, Any]:
    """One request that decides what the server accepts: ``ignore_eos`` and ``stream_options``
    are dropped, one at a time, if the server refuses them (HTTP 400/422). A refused connection
    or any other error status is a BackendError: nothing is worth measuring."""
    variants = [(target.ignore_eos, target.include_usage)]
    if target.ignore_eos:
        variants.append((False, target.include_usage))
    if target.include_usage:
        variants.append((False, False))

    async def go() -> list[RequestRecord]:
        out = []
        async with _client(target, 2) as client:
            for ie, iu in variants:
                t = dataclasses.replace(target, ignore_eos=ie, include_usage=iu)
                p = Planned(prompt=synthetic_prompt(prompt_words, 0), prompt_words=prompt_words,
                            max_tokens=max_tokens)
                rec = await _one(client, t, p, RequestRecord(index=-1, warmup=True),
                                 time.perf_counter())
                out.append(rec)
                if rec.ok or rec.status not in (400, 422):
                    break
        return out

    recs = asyncio.run(go())
    last = recs[-1]
    ie, iu = variants[len(recs) - 1]
    if not last.ok:
        raise BackendError(f"{target.url}: {last.error}")
    return {"ignore_eos": ie, "include_usage": iu, "usage_sent": last.tokens_source == "usage",
            "probe_ttft_s": last.ttft_s, "probe_output_tokens": last.output_tokens,
            "probe_max_tokens": max_tokens,
            "refused": [dict(zip(("ignore_eos", "include_usage"), v, strict=True))
                        for v, r in zip(variants, recs, strict=False) if not r.ok]}


@dataclass
class Run:
    """A run in progress or done: the records (kept by the caller across Ctrl-C)."""

    records: list[RequestRecord] = field(default_factory=list)
    stopped: str = "complete"  # complete | time-limit | interrupted
    started_at: float = 0.0  # time.time() of t0


def run(target: Target, planned: Sequence[Planned], *, concurrency: int | None, bounds: Bounds,
        out: Run, on_record: Callable[[RequestRecord], None] | None = None,
        progress: Callable[[int, int], None] | None = None,
        count_tokens: TokenCounter | None = None) -> Run:
    """Open loop when ``concurrency`` is None (each request sent at its ``arrival_s``), closed
    loop with ``concurrency`` clients otherwise. Appends every record to ``out.records``.
    Where the server sent no usage, ``count_tokens`` counts the answer's tokens (and the
    prompt's were counted when planned)."""
    if concurrency is not None and concurrency < 1:
        raise SpecError("--concurrency", concurrency, "an integer >= 1")
    if not planned:
        raise SpecError("--requests", 0, "at least one request")
    limit = min(bounds.max_inflight, concurrency or bounds.max_inflight)

    def keep(rec: RequestRecord) -> None:
        p = planned[rec.index]
        if rec.input_tokens is None and p.prompt_tokens is not None:
            rec.input_tokens = p.prompt_tokens
        if count_tokens is not None and rec.ok and rec.tokens_source == "chunks":
            rec.output_tokens = count_tokens("".join(rec.text))
            rec.tokens_source = "tokenizer"
        rec.text.clear()
        out.records.append(rec)
        if on_record:
            on_record(rec)
        if progress:
            progress(len(out.records), len(planned))

    async def main() -> None:
        async with contextlib.AsyncExitStack() as stack:
            # one session per POOL_SIZE slots, made when a slot of theirs is first used (LIFO
            # slots keep the low ones busy), so a run with few requests in flight neither opens
            # nor closes dozens of sessions
            clients = _LazyClients(lambda: _client(target, POOL_SIZE), stack,
                                   math.ceil(limit / POOL_SIZE))
            slots: asyncio.LifoQueue[int] = asyncio.LifoQueue()  # LIFO: warm connections first
            for k in reversed(range(limit)):
                slots.put_nowait(k)
            for k in range(bounds.warmup):  # warm-up: sequential, excluded
                w = planned[k % len(planned)]
                await _one(clients[0], target, w, RequestRecord(index=-1 - k, warmup=True),
                           time.perf_counter())
            t0 = time.perf_counter()
            out.started_at = time.time()
            deadline = t0 + bounds.max_duration_s
            if concurrency is None:
                await _open_loop(clients, slots, t0, deadline)
            else:
                await _closed_loop(clients, slots, t0, deadline, concurrency)

    async def send(clients: _LazyClients, slots: asyncio.LifoQueue[int], slot: int, i: int,
                   t0: float) -> None:
        p = planned[i]
        rec = RequestRecord(index=i, scheduled_at_s=p.arrival_s, prompt_words=p.prompt_words,
                            max_tokens=p.max_tokens)
        try:
            await _one(clients[slot // POOL_SIZE], target, p, rec, t0)
        except asyncio.CancelledError:
            rec.error = rec.error or "unfinished when the run stopped"
            keep(rec)
            raise
        finally:
            slots.put_nowait(slot)
        keep(rec)

    async def _open_loop(clients: _LazyClients, slots: asyncio.LifoQueue[int], t0: float,
                         deadline: float) -> None:
        tasks = []
        for i, p in enumerate(planned):
            due = t0 + p.arrival_s
            if due > deadline:
                out.stopped = "time-limit"
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            slot = await slots.get()  # over the in-flight cap: the send is late, and says so
            tasks.append(asyncio.create_task(send(clients, slots, slot, i, t0)))
        await _drain(tasks, target.timeout_s + 1.0)

    async def _closed_loop(clients: _LazyClients, slots: asyncio.LifoQueue[int], t0: float,
                           deadline: float, c: int) -> None:
        nxt = iter(range(len(planned)))

        async def worker() -> None:
            for i in nxt:
                if time.perf_counter() > deadline:
                    out.stopped = "time-limit"
                    return
                await send(clients, slots, await slots.get(), i, t0)

        workers = [asyncio.create_task(worker()) for _ in range(c)]
        await _drain(workers, bounds.max_duration_s + target.timeout_s + 1.0)

    async def _drain(tasks: list[asyncio.Task[None]], wait_s: float) -> None:
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=wait_s)
        for t in pending:
            t.cancel()
        if pending:
            out.stopped = "time-limit"
            await asyncio.wait(pending)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        out.stopped = "interrupted"
    return out


def summarise_run(records: Sequence[RequestRecord], *, ttft_slo_s: float | None = None,
                  tpot_slo_s: float | None = None, e2e_slo_s: float | None = None
                  ) -> dict[str, Any]:
    """The DESIGN.md loadtest contract: counts, TTFT/ITL/TPOT/E2E percentiles over completed
    requests, throughput over the measured window, goodput against the SLOs given."""
    meas = [r for r in records if not r.warmup]
    ok = [r for r in meas if r.ok]
    failed = [r for r in meas if not r.ok]
    starts = [r.sent_at_s for r in meas if r.sent_at_s]
    ends = [r.sent_at_s + (r.e2e_s or 0.0) for r in ok]
    window = (max(ends) - min(starts)) if ok and starts else 0.0
    ttft = [r.ttft_s for r in ok if r.ttft_s is not None]
    tpot = [t for r in ok if (t := r.tpot_s) is not None]
    itl = [x for r in ok for x in r.itl_s]
    e2e = [r.e2e_s for r in ok if r.e2e_s is not None]
    out_tok = sum(r.output_tokens for r in ok)
    in_tok = sum(r.input_tokens or 0 for r in ok)
    good = sum(1 for r in ok if _meets(r, ttft_slo_s, tpot_slo_s, e2e_slo_s))
    reached = [r for r in ok if r.output_tokens >= r.max_tokens]
    rate = (lambda x: x / window if window > 0 else None)  # noqa: E731
    late = [r.sent_at_s - r.scheduled_at_s for r in meas if r.scheduled_at_s]
    return {
        "requests": len(meas), "completed": len(ok), "failed": len(failed),
        "errors": dict(Counter(_kind(r.error) for r in failed if r.error).most_common()),
        "ttft_s": _pcts(ttft), "itl_s": _pcts(itl), "tpot_s": _pcts(tpot), "e2e_s": _pcts(e2e),
        "wall_s": window,
        "throughput_output_tokens_per_s": rate(out_tok),
        "throughput_total_tokens_per_s": rate(out_tok + in_tok) if in_tok else None,
        "throughput_requests_per_s": rate(len(ok)),
        "goodput_requests_per_s": rate(good),
        "slo": {"ttft_s": ttft_slo_s, "tpot_s": tpot_slo_s, "e2e_s": e2e_slo_s,
                "met": good, "share": good / len(ok) if ok else None},
        "input_tokens_mean": in_tok / len(ok) if ok and in_tok else None,
        "output_tokens_mean": out_tok / len(ok) if ok else None,
        "output_tokens_source": sorted({r.tokens_source for r in ok}),
        "output_length_reached_share": len(reached) / len(ok) if ok else None,
        "send_lateness_s": _pcts(late) if late else None,
    }


def _pcts(xs: list[float]) -> dict[str, Any]:
    s = summarise(xs)
    return {"p50": s.get("p50"), "p90": s.get("p90"), "p99": s.get("p99"), "mean": s.get("mean"),
            "count": s["count"]}


def _meets(r: RequestRecord, ttft: float | None, tpot: float | None, e2e: float | None) -> bool:
    if ttft is not None and (r.ttft_s is None or r.ttft_s > ttft):
        return False
    tp = r.tpot_s
    if tpot is not None and tp is not None and tp > tpot:
        return False
    return not (e2e is not None and (r.e2e_s is None or r.e2e_s > e2e))


def _kind(error: str) -> str:
    """Errors grouped by their kind (the text before the first colon or digit run)."""
    head = error.split(":")[0]
    return head if len(head) <= 60 else head[:60]


def load_label(load: dict[str, Any], *, rate_format: str = "g") -> str:
    """A load point as people read it: "concurrency 4", "trace replay", "poisson 2 req/s"."""
    if load["shape"] == "closed":
        return f"concurrency {load['concurrency']}"
    if load["shape"] == "trace":
        return "trace replay"
    return f"{load['shape']} {format(load['rate'], rate_format)} req/s"


def meets_p99(summary: dict[str, Any], *, ttft_slo_s: float | None, tpot_slo_s: float | None
              ) -> bool:
    """Whether a run's p99 TTFT and TPOT meet the limits (and nothing failed)."""
    if summary["completed"] == 0 or summary["failed"] > 0:
        return False
    for key, lim in (("ttft_s", ttft_slo_s), ("tpot_s", tpot_slo_s)):
        p99 = summary[key]["p99"]
        if lim is not None and (p99 is None or math.isnan(p99) or p99 > lim):
            return False
    return True


def sweep_rates(rates: Sequence[float], run_at: Callable[[float], dict[str, Any]], *,
                ttft_slo_s: float | None, tpot_slo_s: float | None, refine: int = 0
                ) -> dict[str, Any]:
    """Ascending rates until p99 TTFT or TPOT breaks a limit (the Server question: the highest
    rate that meets them); then ``refine`` bisection steps between the last rate that met them
    and the first that did not. ``run_at(rate)`` runs one load point and returns its summary."""
    points: list[dict[str, Any]] = []
    best: float | None = None
    broke: float | None = None
    limits = ttft_slo_s is not None or tpot_slo_s is not None
    for r in sorted(rates):
        s = run_at(r)
        ok = meets_p99(s, ttft_slo_s=ttft_slo_s, tpot_slo_s=tpot_slo_s)
        points.append({"rate": r, "meets_slo": ok if limits else None, "summary": s})
        if limits and not ok:
            broke = r
            break
        best = r
    lo = best
    for _ in range(refine if best is not None and broke is not None else 0):
        assert lo is not None and broke is not None
        mid = (lo + broke) / 2
        s = run_at(mid)
        ok = meets_p99(s, ttft_slo_s=ttft_slo_s, tpot_slo_s=tpot_slo_s)
        points.append({"rate": mid, "meets_slo": ok, "summary": s})
        if ok:
            lo = best = mid
        else:
            broke = mid
    return {"points": sorted(points, key=lambda p: p["rate"]), "max_rate_within_slo": best,
            "first_rate_breaking_slo": broke, "ttft_p99_limit_s": ttft_slo_s,
            "tpot_p99_limit_s": tpot_slo_s}
