"""The serving engine: continuous batching with prefill folded into the step that admits a
request (chunked prefill, Sarathi-Serve style), a batch cap, and a KV-cache capacity in tokens.

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


@dataclass(frozen=True, kw_only=True)
class ReplicaModel:
    """What one replica does per step with ``b`` sequences: ``memory_s[b]`` (weights and KV
    reads plus communication) and ``compute_s[b]``, plus a fixed ``overhead_s``. A step takes
    max(memory, compute) + overhead (roofline); admitting a prompt of ``i`` tokens adds
    ``prefill_s_per_token x i`` to that step's compute (chunked prefill rides on the decode
    step's weight reads)."""

    memory_s: np.ndarray
    compute_s: np.ndarray
    overhead_s: float
    prefill_s_per_token: float
    max_batch: int
    kv_capacity_tokens: int

    @property
    def step_s(self) -> np.ndarray:
        return np.maximum(self.memory_s, self.compute_s) + self.overhead_s

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.memory_s.size < self.max_batch + 1:
            raise SpecError("max_batch", self.max_batch, "a batch >= 1 with a step time per size")
        if self.kv_capacity_tokens < 1:
            raise SpecError("kv_capacity_tokens", self.kv_capacity_tokens, ">= 1 (the model does "
                            "not fit the replica)")


@dataclass(frozen=True, kw_only=True)
class ReplicaResult:
    index: np.ndarray  # request indices served by this replica
    admit_s: np.ndarray
    first_token_s: np.ndarray
    finish_s: np.ndarray
    dropped: np.ndarray  # request indices dropped
    max_batch_seen: int
    batch_time_weighted: float
    busy_s: float


def run_replica(model: ReplicaModel, idx: np.ndarray, arrival: np.ndarray, inp: np.ndarray,
                out: np.ndarray) -> ReplicaResult:
    """Serve requests ``idx`` (sorted by arrival) on one replica."""
    n = int(idx.size)
    arr = arrival.tolist()
    ins = inp.tolist()
    outs = out.tolist()
    step_s = model.step_s.tolist()
    mem_s = model.memory_s.tolist()
    comp_s = model.compute_s.tolist()
    ovh = model.overhead_s
    pf1 = model.prefill_s_per_token
    max_b, cap = model.max_batch, model.kv_capacity_tokens
    admit = [math.nan] * n
    first = [math.nan] * n
    finish = [math.nan] * n
    dropped: list[int] = []
    heap: list[tuple[int, int]] = []  # (finish step, local index)
    waiting: deque[int] = deque()
    now = 0.0
    step = 0
    b = 0
    resident = 0
    i = 0
    max_seen = 0
    area = 0.0
    busy = 0.0
    while i < n or waiting or heap:
        while i < n and arr[i] <= now:
            if ins[i] + outs[i] > cap:
                dropped.append(i)
            else:
                waiting.append(i)
            i += 1
        pf_extra = 0.0
        admitted: list[int] = []
        while waiting and b < max_b and resident + ins[waiting[0]] + outs[waiting[0]] <= cap:
            j = waiting.popleft()
            resident += ins[j] + outs[j]
            b += 1
            pf_extra += pf1 * ins[j]
            admit[j] = now
            heapq.heappush(heap, (step + outs[j], j))
            admitted.append(j)
        if b == 0:
            if i >= n:
                break
            now = max(now, arr[i])
            continue
        max_seen = max(max_seen, b)
        t_b = step_s[b]
        d1 = max(mem_s[b], comp_s[b] + pf_extra) + ovh if pf_extra else t_b
        kc = heap[0][0] - step
        if i < n:
            gap = arr[i] - (now + d1)
            ka = 1 if gap <= 0 else 1 + math.ceil(gap / t_b)
            k = min(kc, ka)
        else:
            k = kc
        k = max(k, 1)
        for j in admitted:
            first[j] = now + d1
        dur = d1 + (k - 1) * t_b
        area += b * dur
        busy += dur
        now += dur
        step += k
        while heap and heap[0][0] <= step:
            _, j = heapq.heappop(heap)
            finish[j] = now
            if outs[j] == 1:
                first[j] = now
            resident -= ins[j] + outs[j]
            b -= 1
    return ReplicaResult(index=idx, admit_s=np.array(admit), first_token_s=np.array(first),
                         finish_s=np.array(finish), dropped=idx[np.array(dropped, dtype=int)],
                         max_batch_seen=max_seen, batch_time_weighted=area, busy_s=busy)
