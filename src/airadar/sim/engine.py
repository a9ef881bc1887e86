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
    #: prompt tokens processed per step (airadar default 2048, configurable: --prefill-chunk)
    prefill_chunk_tokens: int = 2048

    @property
    def step_s(self) -> np.ndarray:
        return np.maximum(self.memory_s, self.compute_s) + self.overhead_s

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.memory_s.size < self.max_batch + 1:
            raise SpecError("max_batch", self.max_batch, "a batch >= 1 with a step time per size")
        if self.prefill_chunk_tokens < 1:
            raise SpecError("prefill_chunk_tokens", self.prefill_chunk_tokens, "an integer >= 1")
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
    """Serve requests ``idx`` (sorted by arrival) on one replica.

    Admitted prompts are prefilled in chunks of at most ``prefill_chunk_tokens`` per step,
    first come first served (Sarathi-Serve); a request emits its first token at the end of the
    step that finishes its prompt, then one token per step. Steps without prefill work are
    jumped over in one go until the next arrival or completion."""
    n = int(idx.size)
    arr = arrival.tolist()
    ins = inp.tolist()
    outs = out.tolist()
    step_s = model.step_s.tolist()
    mem_s = model.memory_s.tolist()
    comp_s = model.compute_s.tolist()
    ovh = model.overhead_s
    pf1 = model.prefill_s_per_token
    chunk = model.prefill_chunk_tokens
    max_b, cap = model.max_batch, model.kv_capacity_tokens
    admit = [math.nan] * n
    first = [math.nan] * n
    finish = [math.nan] * n
    dropped: list[int] = []
    heap: list[tuple[int, int]] = []  # (finish step, local index) of decoding sequences
    prefill: deque[list[int]] = deque()  # [local index, prompt tokens left]
    waiting: deque[int] = deque()
    now = 0.0
    step = 0
    b = 0  # sequences in the batch (prefilling + decoding)
    resident = 0
    i = 0
    max_seen = 0
    area = 0.0
    busy = 0.0
    while i < n or waiting or heap or prefill:
        while i < n and arr[i] <= now:
            if ins[i] + outs[i] > cap:
                dropped.append(i)
            else:
                waiting.append(i)
            i += 1
        while waiting and b < max_b and resident + ins[waiting[0]] + outs[waiting[0]] <= cap:
            j = waiting.popleft()
            resident += ins[j] + outs[j]
            b += 1
            admit[j] = now
            prefill.append([j, ins[j]])
        if b == 0:
            if i >= n:
                break
            now = max(now, arr[i])
            continue
        max_seen = max(max_seen, b)
        b_dec = len(heap)
        if prefill:
            # one step with up to `chunk` prompt tokens
            budget = chunk
            done: list[int] = []
            for item in prefill:
                if budget <= 0:
                    break
                take = min(budget, item[1])
                item[1] -= take
                budget -= take
                if item[1] == 0:
                    done.append(item[0])
            p = chunk - budget
            while prefill and prefill[0][1] == 0:
                prefill.popleft()
            bd = max(b_dec, 1)
            dur = max(mem_s[bd], (comp_s[b_dec] if b_dec else 0.0) + pf1 * p) + ovh
            area += b * dur
            busy += dur
            now += dur
            step += 1
            for j in done:
                first[j] = now
                if outs[j] <= 1:
                    finish[j] = now
                    resident -= ins[j] + outs[j]
                    b -= 1
                else:
                    heapq.heappush(heap, (step + outs[j] - 1, j))
        else:
            t_b = step_s[b_dec]
            kc = heap[0][0] - step
            if i < n:
                gap = arr[i] - now
                ka = 1 if gap <= t_b else math.ceil(gap / t_b)
                k = min(kc, ka)
            else:
                k = kc
            k = max(k, 1)
            dur = k * t_b
            area += b * dur
            busy += dur
            now += dur
            step += k
        while heap and heap[0][0] <= step:
            _, j = heapq.heappop(heap)
            finish[j] = now
            resident -= ins[j] + outs[j]
            b -= 1
    return ReplicaResult(index=idx, admit_s=np.array(admit), first_token_s=np.array(first),
                         finish_s=np.array(finish), dropped=idx[np.array(dropped, dtype=int)],
                         max_batch_seen=max_seen, batch_time_weighted=area, busy_s=busy)
