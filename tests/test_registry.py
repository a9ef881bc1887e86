"""The plug-in registry refuses duplicates and names the known entries."""

import pytest

from airadar.errors import SpecError
from airadar.registry import Registry


def test_duplicates_raise_and_unknown_names_list_known() -> None:
    """A second registration under one name raises; an unknown lookup lists the names."""
    reg: Registry[int] = Registry("thing", "--thing")
    reg.register("a")(1)
    with pytest.raises(ValueError, match="twice"):
        reg.register("a")(2)
    with pytest.raises(SpecError, match="one of a"):
        reg.get("b")
    assert reg.get("a") == 1 and "a" in reg
