"""Non-LLM models (encoders, vision, speech): a batch of ``b`` samples costs
b x FLOPs-per-sample of compute and reads the weights once plus activations
(Roofline, Williams et al. 2009). The time of a batch is the larger of the two plus a fixed
per-layer overhead."""

from __future__ import annotations

from dataclasses import dataclass

from airadar.perf.profiles import EfficiencyProfile
from airadar.specs.hardware import HardwareSpec
from airadar.specs.model import ModelSpec
from airadar.specs.precision import Precision, Sparsity

#: nominal layer count for the per-layer overhead of models given only by FLOPs/params
#: (ResNet-50 has 50 weighted layers, ViT-B 12 blocks, Whisper large 64): read from the model
#: where known.
_LAYERS = {"resnet-50": 50, "vit-b-16": 12, "whisper-large-v3": 64}


@dataclass(frozen=True, kw_only=True)
class BatchTime:
    time_s: float
    compute_s: float
    memory_s: float
    overhead_s: float

    @property
    def bottleneck(self) -> str:
        d = {"compute": self.compute_s, "memory": self.memory_s, "overhead": self.overhead_s}
        return max(d, key=lambda k: d[k])


def layers_of(model: ModelSpec) -> int:
    return model.num_layers or _LAYERS.get(model.id, 24)


def batch_time(*, model: ModelSpec, hw: HardwareSpec, devices: int, precision: Precision,
               sparsity: Sparsity, profile: EfficiencyProfile, batch: float) -> BatchTime:
    """Time for ``batch`` samples spread over ``devices`` data-parallel devices."""
    per_dev = batch / devices
    sparse = sparsity.kind == "2:4" and bool(hw.peak_flops_sparse)
    peak = hw.peak_flops(precision.compute_dtype, sparse=sparse) or 0.0
    flops = per_dev * model.flops_per_sample
    compute_s = flops / (peak * profile.ce_other) if peak else float("inf")
    act = per_dev * (model.seq_len or 1) * max(model.hidden_size, 1024) * precision.activation_bytes
    bw = hw.main_memory.bandwidth_bytes_per_s
    memory_s = (model.params_total * precision.weight_bytes + act) / (bw * profile.me)
    overhead_s = profile.ovh_other_layer_s * layers_of(model)
    return BatchTime(time_s=max(compute_s, memory_s) + overhead_s, compute_s=compute_s,
                     memory_s=memory_s, overhead_s=overhead_s)
