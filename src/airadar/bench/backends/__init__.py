"""Measurement backends: the seam (``base``) and one module per backend, registered here.

``onnx_backend`` (ONNX Runtime; encoders, vision and any .onnx graph), ``onnx_variants``
(its quantized and pruned variants), ``torch_backend`` (decoder LLMs in PyTorch) and
``llamacpp_backend`` (GGUF models through llama-cpp-python). Importing this package
registers them all; ``get`` and ``names`` look them up."""

from airadar.bench.backends import llamacpp_backend, onnx_backend, torch_backend  # noqa: F401  (register)
from airadar.bench.backends.base import BACKENDS, Backend, Runner, get, model_cache_dir, names, register

__all__ = ["BACKENDS", "Backend", "Runner", "get", "model_cache_dir", "names", "register"]
