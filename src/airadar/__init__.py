"""airadar: where and on what to run AI inference, and what it will cost."""

from airadar.errors import (
    AiradarError,
    BackendError,
    CatalogError,
    InfeasibleError,
    ScenarioError,
    SpecError,
    UnknownNameError,
)
from airadar.specs.hardware import HardwareSpec, MemoryTier
from airadar.specs.model import ModelSpec
from airadar.specs.precision import Precision, Sparsity

__version__ = "0.1.0"

__all__ = [
    "AiradarError",
    "BackendError",
    "CatalogError",
    "HardwareSpec",
    "InfeasibleError",
    "MemoryTier",
    "ModelSpec",
    "Precision",
    "ScenarioError",
    "SpecError",
    "Sparsity",
    "UnknownNameError",
    "__version__",
]
