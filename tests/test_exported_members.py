"""The public API is exactly what airadar/__init__.py exports."""

import airadar


def test_all_exports_exist_and_are_locked() -> None:
    """Every name in __all__ exists, and the list does not change silently."""
    for name in airadar.__all__:
        assert hasattr(airadar, name), name
    assert sorted(airadar.__all__) == sorted([
        "AiradarError", "BackendError", "CatalogError", "HardwareSpec", "InfeasibleError",
        "MemoryTier", "ModelSpec", "Precision", "ScenarioError", "SpecError", "Sparsity",
        "UnknownNameError", "__version__",
    ])
