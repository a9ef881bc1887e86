"""Predicted vs measured for a load test: the simulator serves the same requests the endpoint
served (the same arrival times, the prompt and output lengths the server reported) on the
deployment the user describes, and each metric is set beside its measurement with the error.

Open-loop runs replay the scheduled arrival times. Closed-loop runs replay the moments the
client actually sent each request (the simulator has no closed loop; those moments already
carry the server's pace, so the comparison is a little kind to the prediction: stated in the
output). Failed requests are left out of both sides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from airadar.errors import SpecError

KEYS = ("hardware", "count", "precision", "stack", "model", "max_batch", "prefill_chunk")


@dataclass(frozen=True, kw_only=True)
class DeploymentDesc:
    """What serves the endpoint, in the terms ``airadar simulate`` takes."""

    hardware: str
    model: str
    count: int = 1
    precision: str = "bf16"
    stack: str | None = None
    max_batch: int | None = None
    prefill_chunk: int = 2048

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in KEYS}


def parse_deployment(text: str, *, default_model: str) -> DeploymentDesc:
    """``hardware=h100,count=2,precision=fp8,stack=vllm[,model=llama-3.1-8b][,max_batch=64]``;
    the model defaults to ``--model``."""
    kv: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        k, sep, v = part.partition("=")
        k = k.strip().replace("-", "_")
        if not sep or k not in KEYS or not v.strip():
            raise SpecError("--deployment", text, f"comma-separated key=value with keys "
                            f"{', '.join(KEYS)} (hardware required)")
        kv[k] = v.strip()
    if "hardware" not in kv:
        raise SpecError("--deployment", text, "hardware=ID at least (and count, precision, stack)")
    try:
        ints = {k: int(kv[k]) for k in ("count", "max_batch", "prefill_chunk") if k in kv}
    except ValueError:
        raise SpecError("--deployment", text, "integers for count, max_batch, prefill_chunk"
                        ) from None
    if any(v < 1 for v in ints.values()):
        raise SpecError("--deployment", text, "count, max_batch, prefill_chunk >= 1")
    return DeploymentDesc(hardware=kv["hardware"], model=kv.get("model", default_model),
                          precision=kv.get("precision", "bf16"), stack=kv.get("stack"), **ints)


def predict(desc: DeploymentDesc, *, arrival_s: np.ndarray, input_tokens: np.ndarray,
            output_tokens: np.ndarray, ttft_slo_s: float | None = None,
            tpot_slo_s: float | None = None, e2e_slo_s: float | None = None) -> dict[str, Any]:
    """The simulator's result for these requests on ``desc``."""
    from airadar.catalog import resolve
    from airadar.perf.profiles import default_stack, select_profile, served_family
    from airadar.perf.roofline import Deployment
    from airadar.sim.simulator import SimConfig, replica_model, simulate
    from airadar.sim.workload import Requests
    from airadar.specs.precision import Precision, Sparsity

    if arrival_s.size == 0:
        raise SpecError("--deployment", desc.hardware, "a run with completed requests to compare")
    spec = resolve.model(desc.model)
    if not spec.is_llm:
        raise SpecError("--deployment model", spec.id, "an LLM")
    hw = resolve.hardware(desc.hardware)
    dep = Deployment(model=spec, hw=hw, precision=Precision.parse(desc.precision),
                     sparsity=Sparsity(), tp=desc.count, pp=1)
    # an endpoint is a served stack: llama.cpp measured over HTTP is llama.cpp-server, whose
    # profile adds the front end's fitted overheads to the engine's (perf.profiles.chain)
    stack = served_family(desc.stack or default_stack(hw.hw_class, hw.vendor))
    prof = select_profile(hw, dep.precision, stack)
    order = np.argsort(arrival_s, kind="stable")
    arr = arrival_s[order] - float(arrival_s.min())
    req = Requests(arrival_s=arr, input_tokens=np.maximum(input_tokens[order], 1).astype(np.int64),
                   output_tokens=np.maximum(output_tokens[order], 1).astype(np.int64))
    rm = replica_model(dep, prof, mean_input=float(req.input_tokens.mean()),
                       mean_output=float(req.output_tokens.mean()), max_batch=desc.max_batch,
                       prefill_chunk_tokens=desc.prefill_chunk)
    cfg = SimConfig(replica=rm, ttft_slo_s=ttft_slo_s, tpot_slo_s=tpot_slo_s, e2e_slo_s=e2e_slo_s,
                    provenance={"step_times": f"perf roofline x profile {prof.key}",
                                "profile_provenance": prof.provenance,
                                "replica": f"{desc.count}x {hw.id} {desc.precision}"})
    res = simulate(req, cfg)
    res["profile"] = prof.key
    return res


def compare(measured: dict[str, Any], predicted: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of (metric, measured, predicted, error = predicted / measured - 1)."""
    rows = []
    for key, name in (("ttft_s", "TTFT"), ("tpot_s", "TPOT"), ("e2e_s", "E2E")):
        for q in ("p50", "p90", "p99"):
            rows.append(_row(f"{name} {q}", measured[key].get(q), predicted[key].get(q), "s"))
    rows.append(_row("throughput", measured.get("throughput_output_tokens_per_s"),
                     predicted.get("throughput_output_tokens_per_s"), "tok/s"))
    return rows


def _row(metric: str, meas: float | None, pred: float | None, unit: str) -> dict[str, Any]:
    err = (pred / meas - 1.0) if meas and pred is not None else None
    return {"metric": metric, "unit": unit, "measured": meas, "predicted": pred, "error": err}
