"""Values a request keeps on flask.g (its registry view, its clock, its CSP nonce), each read
back with its type: flask.g hands back Any, a Slot hands back the type it was made with."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Generic, TypeVar

from broker.web import flask_door

T = TypeVar("T")


class Slot(Generic[T]):
    def __init__(self, name: str, kind: type[T]) -> None:
        self.name = name
        self.kind = kind

    def set(self, value: T) -> T:
        flask_door.keep(self.name, value)
        return value

    def get(self) -> T | None:
        value = flask_door.kept(self.name)
        return value if isinstance(value, self.kind) else None

    def pop(self) -> T | None:
        value = flask_door.take(self.name)
        return value if isinstance(value, self.kind) else None


def enter(name: str, manager: AbstractContextManager[object]) -> None:
    """Enter `manager` for the rest of the request; `leave(name)` exits it."""
    manager.__enter__()
    flask_door.keep(name, manager)


def leave(name: str) -> None:
    """Exit the manager `enter(name, ...)` entered, if it did."""
    manager = flask_door.take(name)
    if isinstance(manager, AbstractContextManager):
        manager.__exit__(None, None, None)
