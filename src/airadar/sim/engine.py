"""The serving engine: continuous batching with chunked prefill (Sarathi-Serve, Agrawal et al.
2024, arXiv:2403.02310: a token budget per step shared by prompts), a batch cap, and a
KV-cache capacity in tokens.

Event-compressed: the state changes only when a request arrives or finishes, so between two
events every step has the same batch and the same duration; the loop jumps over all of them at
once (``k`` steps) instead of simulating token by token. A request's KV reservation is its full
length (input + output), as a static-reservation engine would; requests longer than the whole
cache are dropped and reported. One heap per replica, ties broken by request index, no global
state: a seed gives byte-identical results."""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from airadar.errors import SpecError


def _smooth_max(a: float, b: float, p: float) -> float:
    if math.isinf(p) or a <= 0 or b <= 0:
        return max(a, b)
    hi = max(a, b)
    return float(hi * ((a / hi) ** p + (b / hi) ** p) ** (1.0 / p))


@dataclass(frozen=True, kw_only=True)
class ReplicaModel:
    """What one replica does per step with ``b`` sequences: the GEMMs' weight reads
    ``memory_s[b]`` and compute ``compute_s[b]``, the attention and communication that follow
    them ``serial_s[b]``, and a fixed ``overhead_s``. A step takes
    smooth_max(memory, compute) + serial + overhead (perf.roofline, operator by operator);
    admitting a prompt of ``i`` tokens adds ``prefill_s_per_token x i`` to that step's compute
    (chunked prefill rides on the decode step's weight reads)."""

    memory_s: np.ndarray
    compute_s: np.ndarray
    overhead_s: float
    prefill_s_per_token: float
    max_batch: int
    kv_capacity_tokens: int
    #: prompt tokens processed per step (airadar default 2048, configurable: --prefill-chunk)
    prefill_chunk_tokens: int = 2048
    #: time per step that runs after the GEMMs (attention, communication), per batch size;
    #: None = none
    serial_s: np.ndarray | None = None
    #: smooth-maximum exponent of GEMM compute and weight reads (perf.roofline.smooth_max)
    overlap_p: float = math.inf
    #: a served stack's front-end time per request, paid in the step that finishes its prompt
    #: (profile ``ovh_request_s``; 0 for an engine without an HTTP front end)
    request_overhead_s: float = 0.0

    def duration_s(self, b: int, prompt_tokens: float) -> float:
        """One step with ``b`` decode sequences and ``prompt_tokens`` prompt tokens."""
        bd = max(b, 1)
        comp = (float(self.compute_s[b]) if b else 0.0) + self.prefill_s_per_token * prompt_tokens
        mem = float(self.memory_s[bd])
        # attention over the KV cache and streaming are per decoding sequence: a step with
        # prompt work only has none (the prompt's own attention is in prefill_s_per_token)
        serial = float(self.serial_s[b]) if self.serial_s is not None and b else 0.0
        return _smooth_max(mem, comp, self.overlap_p) + serial + self.overhead_s

    @property
    def step_s(self) -> np.ndarray:
        p = self.overlap_p
        if math.isinf(p):
            core = np.maximum(self.memory_s, self.compute_s)
        else:
            hi = np.maximum(np.maximum(self.memory_s, self.compute_s), 1e-300)
            core = hi * ((self.memory_s / hi) ** p + (self.compute_s / hi) ** p) ** (1.0 / p)
        serial = self.serial_s if self.serial_s is not None else 0.0
        return core + serial + self.overhead_s

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.memory_s.size < self.max_batch + 1:
            raise SpecError("max_batch", self.max_batch, "a batch >= 1 with a step time per size")
        if self.prefill_chunk_tokens < 1:
            raise SpecError("prefill_chunk_tokens", self.prefill_chunk_tokens, "an integer >= 1")
        if self.kv_capacity_tokens < 1:
            raise SpecError("kv_capacity_tokens", self.kv_capacity_tokens, ">= 1 (the model does "
                            "not fit the replica)")


class Replica:
    """One replica's state; ``submit`` requests in time order, ``advance`` the clock.

    Admitted prompts are prefilled in chunks of at most ``prefill_chunk_tokens`` per step,
    first come first served (Sarathi-Serve); a request emits its first token at the end of the
    step that finishes its prompt, then one token per step. Steps without prefill work are
    jumped over in one go until the next arrival, completion or (with ``recompute``) the step
    at which the KV cache would overflow. KV policy: ``reserve`` books a request's full length
    at admission (no preemption); ``recompute`` books what it holds and, when the cache is
    full, preempts the most recently admitted sequence, which goes back to the head of the
    queue to recompute its prompt plus the tokens it had generated (vLLM's recompute
    policy)."""

    def __init__(self, model: ReplicaModel, ins: list[int], outs: list[int], kv_policy: str,
                 admit: list[float], first: list[float], finish: list[float]) -> None:
        if kv_policy not in ("reserve", "recompute"):
            raise SpecError("preemption", kv_policy, "reserve (none) or recompute")
        self.m = model
        self.step_s = model.step_s.tolist()
        self.ins, self.outs = ins, outs
        self.recompute = kv_policy == "recompute"
        self.admit, self.first, self.finish = admit, first, finish
        self.now = 0.0
        self.step = 0
        self.b = 0
        self.resident = 0
        self.heap: list[tuple[int, int, int]] = []  # (finish step, request, version)
        self.version: dict[int, int] = {}
        self.first_step: dict[int, int] = {}
        self.extra: dict[int, int] = {}  # tokens to recompute after a preemption
        self.left: dict[int, int] = {}  # output tokens still to produce after a preemption
        self.prefill: deque[list[int]] = deque()
        self.waiting: deque[int] = deque()
        self.dropped: list[int] = []
        self.preemptions = 0
        self.max_seen = 0
        self.area = 0.0
        self.busy = 0.0
        #: (time, batch, KV tokens held, queued) sampled every ``sample_every_s`` of sim time
        self.sample_every_s = 0.0
        self.timeline: list[tuple[float, int, int, int]] = []
        self._next_sample = 0.0

    @property
    def outstanding(self) -> int:
        return len(self.waiting) + self.b

    def _need(self, j: int) -> int:
        if self.recompute:
            return self.ins[j] + self.extra.get(j, 0) + 1
        return self.ins[j] + self.outs[j]

    def submit(self, j: int, t: float) -> None:
        if self.ins[j] + self.outs[j] > self.m.kv_capacity_tokens:
            self.dropped.append(j)
            return
        if self.b == 0 and not self.waiting and self.now < t:
            self.now = t
        self.waiting.append(j)

    def _admit(self) -> None:
        m = self.m
        while self.waiting and self.b < m.max_batch and \
                self.resident + self._need(self.waiting[0]) <= m.kv_capacity_tokens:
            j = self.waiting.popleft()
            self.resident += self._need(j)
            self.b += 1
            if math.isnan(self.admit[j]):
                self.admit[j] = self.now
            self.prefill.append([j, self.ins[j] + self.extra.get(j, 0)])

    def _preempt(self) -> bool:
        """Free the most recently admitted decoding sequence (recompute policy)."""
        live = [(self.admit[j], j) for _, j, v in self.heap if self.version.get(j, 0) == v]
        if not live:
            return False
        _, j = max(live)
        self.version[j] = self.version.get(j, 0) + 1
        gen = self.step - self.first_step[j] + 1
        self.resident -= self.ins[j] + self.extra.get(j, 0) + gen
        self.extra[j] = self.extra.get(j, 0) + gen
        self.left[j] = self.left.get(j, self.outs[j]) - gen
        self.b -= 1
        self.preemptions += 1
        self.waiting.appendleft(j)
        return True

    def advance(self, until: float) -> None:
        """Run steps until the clock reaches ``until`` (a step in progress then completes)."""
        m = self.m
        ins, outs = self.ins, self.outs
        while self.now < until and (self.waiting or self.b):
            self._admit()
            if self.b == 0:
                return
            self.max_seen = max(self.max_seen, self.b)
            b_dec = self.b - len(self.prefill)
            if self.prefill:
                budget = m.prefill_chunk_tokens
                done: list[int] = []
                for item in self.prefill:
                    if budget <= 0:
                        break
                    take = min(budget, item[1])
                    item[1] -= take
                    budget -= take
                    if item[1] == 0:
                        done.append(item[0])
                p = m.prefill_chunk_tokens - budget
                while self.prefill and self.prefill[0][1] == 0:
                    self.prefill.popleft()
                dur = m.duration_s(b_dec, p) + m.request_overhead_s * len(done)
                k = 1
            else:
                t_b = self.step_s[b_dec]
                live = self._next_finish()
                kc = live - self.step
                gap = until - self.now
                ka = max(1, math.ceil(gap / t_b)) if math.isfinite(until) else kc
                k = min(kc, ka)
                if self.recompute and b_dec:
                    room = (m.kv_capacity_tokens - self.resident) // b_dec
                    if room < 1 and self._preempt():
                        continue
                    k = min(k, max(room, 1))
                k = max(k, 1)
                dur = k * t_b
                done = []
            self.area += self.b * dur
            self.busy += dur
            self.now += dur
            if self.sample_every_s and self.now >= self._next_sample:
                self.timeline.append((self.now, self.b, self.resident, len(self.waiting)))
                self._next_sample = self.now + self.sample_every_s
            if self.recompute and not self.prefill and b_dec:
                self.resident += b_dec * k
            self.step += k
            for j in done:
                self.first[j] = self.now if math.isnan(self.first[j]) else self.first[j]
                self.first_step[j] = self.step
                rest = self.left.get(j, outs[j]) - 1
                if rest <= 0:
                    self.finish[j] = self.now
                    self.resident -= self._need(j)
                    self.b -= 1
                else:
                    v = self.version.get(j, 0)
                    heapq.heappush(self.heap, (self.step + rest, j, v))
            while self.heap and self.heap[0][0] <= self.step:
                fs, j, v = heapq.heappop(self.heap)
                if self.version.get(j, 0) != v:
                    continue
                self.finish[j] = self.now
                if self.recompute:
                    self.resident -= ins[j] + self.extra.get(j, 0) + (fs - self.first_step[j] + 1)
                else:
                    self.resident -= ins[j] + outs[j]
                self.b -= 1

    def _next_finish(self) -> int:
        while self.heap and self.version.get(self.heap[0][1], 0) != self.heap[0][2]:
            heapq.heappop(self.heap)
        return self.heap[0][0] if self.heap else self.step + 1
