"""Values a request keeps on flask.g (its registry view, its clock, its CSP nonce), each read
back with its type: flask.g hands back Any, a Slot hands back the type it was made with."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Generic, TypeVar

from flask import g

T = TypeVar("T")


class Slot(Generic[T]):
    def __init__(self, name: str, kind: type[T]) -> None:
        self.name = name
        self.kind = kind

    def set(self, value: T) -> T:
        setattr(g, self.name, value)
        return value

    def get(self) -> T | None:
        value: object = g.get(self.name)
        return value if isinstance(value, self.kind) else None

    def pop(self) -> T | None:
        value: object = g.pop(self.name, None)
        return value if isinstance(value, self.kind) else None


def enter(name: str, manager: AbstractContextManager[object]) -> None:
    """Enter `manager` for the rest of the request; `leave(name)` exits it."""
    manager.__enter__()
    setattr(g, name, manager)


def leave(name: str) -> None:
    """Exit the manager `enter(name, ...)` entered, if it did."""
    manager: object = g.pop(name, None)
    if isinstance(manager, AbstractContextManager):
        manager.__exit__(None, None, None)
