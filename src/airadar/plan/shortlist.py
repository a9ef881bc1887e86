"""What a reader sees first: the decision (the recommended deployment, why, and the cheapest
option of every other kind of site against it) and a shortlist worth reading (rows identical
in every shown figure collapsed into one with their variants listed; by default the best row
of each hardware type). The terminal table and the HTML report both render these."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from airadar.plan.planner import Candidate, PlanResult
from airadar.units import kg_to_tonnes, s_to_ms

KIND_NAMES = {"cloud": "cloud", "colo": "colocation", "onprem": "on-premise", "edge": "edge",
              "device": "users' own devices"}
OBJECTIVES = {"min_tco": "lowest cost per month", "min_cost_per_token": "lowest cost per unit",
              "min_energy": "lowest energy", "min_latency": "lowest p99 latency"}


def is_llm(c: Candidate) -> bool:
    return c.option.est.throughput_output_tokens_per_s is not None


def devices_text(c: Candidate) -> str:
    """How many devices, as the user pays for them: users' devices are counted once, as
    users; rented ones as billed; owned as replicas x devices per replica."""
    o = c.option
    if c.site.kind == "device":
        return "1 per user"
    if c.billed_devices != o.devices:
        return f"{c.billed_devices} billed ({o.devices} used)"
    return f"{o.replicas}x{o.devices_per_replica}"


def _shown(x: float, digits: int = 0) -> float | None:
    """``x`` rounded as the table shows it; None where it is unknown (no sourced power)."""
    return round(x, digits) if math.isfinite(x) else None


def figures(c: Candidate) -> tuple[Any, ...]:
    """The figures a shortlist row shows, rounded as shown: rows equal here are one row."""
    o = c.option
    return (o.hw.id, o.precision, o.sparsity, o.mode, c.term, c.billed_devices,
            c.site.kind == "device", _shown(c.usd_per_month), _shown(c.usd_per_mtok, 3),
            _shown(s_to_ms(o.ttft_p99_s)), _shown(s_to_ms(o.tpot_p99_s)), _shown(c.kwh_month),
            _shown(kg_to_tonnes(c.kgco2e_month), 2), c.verdict.decision)


@dataclass(frozen=True, kw_only=True)
class Row:
    """One shortlist row: its best candidate and the rank of each, plus the variants (other
    layouts or sites) identical in every shown figure."""

    rank: int
    candidate: Candidate
    variants: list[tuple[int, Candidate]] = field(default_factory=list)

    def variant_text(self) -> str:
        c = self.candidate
        out = []
        for _, v in self.variants:
            parts = []
            if v.site.id != c.site.id:
                parts.append(f"@ {v.site.id}")
            if (v.option.replicas, v.option.devices_per_replica) != (
                    c.option.replicas, c.option.devices_per_replica) and v.site.kind != "device":
                parts.append(f"{v.option.replicas}x{v.option.devices_per_replica}")
            out.append(" ".join(parts) or v.label)
        return ", ".join(dict.fromkeys(out))


def collapse(ranked: list[Candidate]) -> list[Row]:
    """Group candidates identical in every shown figure, keeping rank order."""
    rows: dict[tuple[Any, ...], Row] = {}
    for i, c in enumerate(ranked, 1):
        key = figures(c)
        if key in rows:
            rows[key].variants.append((i, c))
        else:
            rows[key] = Row(rank=i, candidate=c)
    return sorted(rows.values(), key=lambda r: r.rank)


def shortlist(res: PlanResult, *, top: int = 10, everything: bool = False) -> list[Row]:
    """Collapsed rows; by default the best row of each hardware type (then the next best
    rows, if fewer types than ``top``), ``everything`` for all of them."""
    rows = collapse(res.ranked)
    if everything:
        return rows
    seen: set[str] = set()
    first: list[Row] = []
    rest: list[Row] = []
    for r in rows:
        hw = r.candidate.option.hw.id
        (rest if hw in seen else first).append(r)
        seen.add(hw)
    pick = first[:top]
    if len(pick) < top:
        pick += rest[:top - len(pick)]
    return sorted(pick, key=lambda r: r.rank)


@dataclass(frozen=True, kw_only=True)
class Alternative:
    kind: str
    candidate: Candidate | None
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Answer:
    best: Candidate
    why: list[str]
    alternatives: list[Alternative]

    def to_json(self) -> dict[str, Any]:
        b = self.best
        return {
            "recommended": b.label, "usd_per_month": b.usd_per_month, "why": self.why,
            "alternatives": [
                {"kind": a.kind, "label": a.candidate.label if a.candidate else None,
                 "usd_per_month": a.candidate.usd_per_month if a.candidate else None,
                 "usd_per_month_vs_recommended": (a.candidate.usd_per_month - b.usd_per_month)
                 if a.candidate else None, "note": a.note} for a in self.alternatives]}


def vs_text(cost: float, ref: float) -> str:
    d = cost - ref
    if abs(d) < 0.5:
        return "the same cost"
    pct = f" ({d / ref:+.0%})" if ref > 0.5 else ""
    return f"${abs(d):,.0f}/month {'more' if d > 0 else 'less'}{pct}"


def answer(res: PlanResult) -> Answer:
    """The recommendation (ranked #1), why, and the cheapest candidate of each other kind of
    site the scenario considered (or why there is none)."""
    best = res.ranked[0]
    sc = res.scenario
    o = best.option
    slo = sc.workload.slo
    limits = [f"{n} p99 <= {v:g} ms" for n, v in (("TTFT", slo.ttft_p99_ms),
                                                   ("TPOT", slo.tpot_p99_ms),
                                                   ("end-to-end", slo.e2e_p99_ms)) if v]
    why = [f"{OBJECTIVES[sc.objective]} of {len(res.ranked):,} feasible candidates "
           f"(objective {sc.objective}), out of {res.stats['candidates_scored']:,} scored",
           "meets " + (", ".join(limits) if limits else "the scenario (no latency limit set)")
           + f" at the peak of {sc.workload.peak_rps:g} req/s with "
           f"{sc.workload.headroom:.0%} headroom",
           f"data rules: {best.verdict.decision}"
           + (f" ({'; '.join(best.verdict.reasons)})" if best.verdict.decision != "allow"
              and best.verdict.reasons else ""),
           f"performance: {o.est.provenance['kind']} ({o.est.provenance['profile']})"]
    if best.price_age is not None:
        why.append(f"prices as of {best.price_age.oldest}"
                   + (" (OLD)" if best.price_age.old else ""))
    alts = []
    for kind in ("cloud", "colo", "onprem", "edge", "device"):
        if kind == best.site.kind:
            continue
        if kind not in sc.candidates.site_kinds:
            continue
        cands = [c for c in res.ranked if c.site.kind == kind]
        if cands:
            alts.append(Alternative(kind=KIND_NAMES[kind],
                                    candidate=min(cands, key=lambda c: c.usd_per_hour)))
        else:
            alts.append(Alternative(kind=KIND_NAMES[kind], candidate=None,
                                    note="no feasible candidate (see the rejections)"))
    return Answer(best=best, why=why, alternatives=alts)
