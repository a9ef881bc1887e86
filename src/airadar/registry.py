"""A named registry for plug-in families (measurement backends, policy rule functions):
registering a name twice raises, and looking up an unknown name lists the known ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from airadar.errors import SpecError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, field: str) -> None:
        self.kind = kind
        self.field = field
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._items[name] = item
            return item
        return deco

    def get(self, name: str) -> T:
        if name not in self._items:
            raise SpecError(self.field, name, f"one of {', '.join(self.names())}")
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def names(self) -> list[str]:
        return sorted(self._items)
