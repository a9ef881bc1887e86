"""Request streams: arrivals (Poisson, bursty gamma, a daily curve, trace replay) and token
lengths (fixed, uniform, lognormal, empirical). Generated from one numpy Generator seeded by
the caller, so a seed reproduces a run byte for byte."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from airadar.errors import SpecError
from airadar.units import SECONDS_PER_HOUR


@dataclass(frozen=True, kw_only=True)
class Requests:
    arrival_s: np.ndarray  # sorted
    input_tokens: np.ndarray
    output_tokens: np.ndarray

    def __len__(self) -> int:
        return int(self.arrival_s.size)


def lengths(spec: str, n: int, rng: np.random.Generator, *, name: str) -> np.ndarray:
    """``256`` | ``uniform:LO:HI`` | ``lognormal:MEAN:SIGMA`` | ``empirical:FILE`` (one per line)."""
    s = str(spec).strip()
    try:
        if ":" not in s:
            v = float(s)
            if v < 1:
                raise SpecError(name, spec, "a length >= 1")
            return np.full(n, int(v), dtype=np.int64)
        kind, *args = s.split(":")
        if kind == "uniform":
            lo, hi = int(args[0]), int(args[1])
            if not 1 <= lo <= hi:
                raise SpecError(name, spec, "uniform:LO:HI with 1 <= LO <= HI")
            return rng.integers(lo, hi + 1, size=n)
        if kind == "lognormal":
            mean, sigma = float(args[0]), float(args[1])
            if mean < 1 or sigma <= 0:
                raise SpecError(name, spec, "lognormal:MEAN:SIGMA with MEAN >= 1, SIGMA > 0")
            mu = np.log(mean) - sigma**2 / 2
            return np.maximum(1, np.round(rng.lognormal(mu, sigma, size=n))).astype(np.int64)
        if kind == "empirical":
            p = Path(":".join(args))
            vals = _read_numbers(p, name)
            return rng.choice(vals, size=n, replace=True)
    except (ValueError, IndexError):
        pass
    raise SpecError(name, spec, "N, uniform:LO:HI, lognormal:MEAN:SIGMA or empirical:FILE")


def _read_numbers(p: Path, name: str) -> np.ndarray:
    try:
        lines = p.read_text().split()
    except FileNotFoundError:
        raise SpecError(name, str(p), "an existing file of lengths, one per line") from None
    out = []
    for i, t in enumerate(lines, 1):
        try:
            v = int(float(t))
        except ValueError:
            raise SpecError(f"{name} ({p}, line {i})", t, "a positive integer") from None
        if v < 1:
            raise SpecError(f"{name} ({p}, line {i})", t, "a positive integer")
        out.append(v)
    if not out:
        raise SpecError(name, str(p), "a non-empty file of lengths")
    return np.array(out, dtype=np.int64)


def arrivals(*, kind: str, rate_rps: float, n: int, rng: np.random.Generator,
             burstiness: float = 1.0, daily_curve: tuple[float, ...] | None = None) -> np.ndarray:
    """Arrival times (s) of ``n`` requests. Poisson: exponential gaps; constant: every
    1/rate seconds; gamma: gaps with the
    coefficient of variation ``burstiness`` (1 = Poisson, > 1 bursty); daily: a Poisson process
    whose rate follows the 24-hour curve (thinning, Lewis & Shedler 1979)."""
    if rate_rps <= 0:
        raise SpecError("rate", rate_rps, "a rate > 0 requests/s")
    if n < 1:
        raise SpecError("requests", n, "an integer >= 1")
    if kind == "poisson":
        gaps = rng.exponential(1.0 / rate_rps, size=n)
    elif kind == "constant":
        gaps = np.full(n, 1.0 / rate_rps)
    elif kind == "gamma":
        if burstiness <= 0:
            raise SpecError("burstiness", burstiness, "a coefficient of variation > 0")
        shape = 1.0 / burstiness**2
        gaps = rng.gamma(shape, 1.0 / (rate_rps * shape), size=n)
    elif kind == "daily":
        curve = np.asarray(daily_curve or (1.0,) * 24, dtype=float)
        if curve.size != 24 or curve.max() <= 0:
            raise SpecError("daily_curve", daily_curve, "24 non-negative values, not all zero")
        peak = rate_rps
        out = np.empty(n)
        got, t = 0, 0.0
        while got < n:
            m = max(1024, (n - got) * 2)
            cand = t + np.cumsum(rng.exponential(1.0 / peak, size=m))
            hour = (cand // SECONDS_PER_HOUR).astype(np.int64) % 24
            keep = cand[rng.random(m) < curve[hour] / curve.max()]
            take = keep[: n - got]
            out[got:got + take.size] = take
            got += take.size
            t = cand[-1]
        return out
    else:
        raise SpecError("arrivals", kind, "poisson, constant, gamma or daily")
    return np.cumsum(gaps)


def read_trace(path: str | Path) -> Requests:
    """CSV (columns arrival_s, input_tokens, output_tokens) or JSONL with the same keys."""
    p = Path(path)
    if not p.is_file():
        raise SpecError("trace", str(p), "an existing CSV or JSONL file")
    try:
        p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SpecError("trace", str(p), "a UTF-8 CSV or JSONL text file (this one is binary)"
                        ) from None
    rows: list[tuple[float, int, int]] = []
    keys = ("arrival_s", "input_tokens", "output_tokens")
    with p.open(encoding="utf-8") as fh:
        if p.suffix == ".jsonl":
            for i, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                    rows.append((float(obj[keys[0]]), int(obj[keys[1]]), int(obj[keys[2]])))
                except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                    raise SpecError(f"trace ({p}, line {i})", line.strip()[:60],
                                    "a JSON object with arrival_s, input_tokens, output_tokens"
                                    ) from None
        else:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or not set(keys) <= set(reader.fieldnames):
                raise SpecError(f"trace ({p}, line 1)", reader.fieldnames,
                                "a header with arrival_s,input_tokens,output_tokens")
            for i, r in enumerate(reader, 2):
                try:
                    rows.append((float(r[keys[0]]), int(r[keys[1]]), int(r[keys[2]])))
                except (TypeError, ValueError):
                    raise SpecError(f"trace ({p}, line {i})", list(r.values())[:3],
                                    "numbers: arrival_s, input_tokens, output_tokens") from None
    if not rows:
        raise SpecError("trace", str(p), "at least one request")
    arr = np.array(rows)
    if (arr[:, 1] < 1).any() or (arr[:, 2] < 1).any() or (arr[:, 0] < 0).any():
        bad = int(np.argmax((arr[:, 1] < 1) | (arr[:, 2] < 1) | (arr[:, 0] < 0))) + 2
        raise SpecError(f"trace ({p}, line {bad})", rows[bad - 2], "non-negative time, lengths >= 1")
    order = np.argsort(arr[:, 0], kind="stable")
    arr = arr[order]
    return Requests(arrival_s=arr[:, 0], input_tokens=arr[:, 1].astype(np.int64),
                    output_tokens=arr[:, 2].astype(np.int64))
