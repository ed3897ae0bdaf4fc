"""Flask's two untyped stores, read back typed: `app.extensions` (the objects an app is built
with: the Broker, the admin accounts, the mailer) and `flask.g` (what one request keeps); and
a URL rule's endpoint.

Flask and werkzeug type these Any. This is the one module that reads them: an `Extension`
names the type its object was put in as, and `broker/web/slots.py` checks what comes off g.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from flask import Flask, current_app, g
from werkzeug.routing import Rule

T = TypeVar("T")


class Extension(Generic[T]):
    """An object the app keeps in `app.extensions[name]`, read back as the type it was put in
    as (`Extension[Broker]("loper")`). Not checked: a test may stand a fake in for it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def put(self, app: Flask, value: T) -> T:
        app.extensions[self.name] = value
        return value

    def of(self, app: Flask) -> T:
        value: T = app.extensions[self.name]
        return value

    def get(self) -> T:
        """The value of the app serving this request (or in whose context this runs)."""
        return self.of(current_app)


def keep(name: str, value: object) -> None:
    """Keep `value` on flask.g as `name` for the rest of the request."""
    setattr(g, name, value)


def kept(name: str) -> object:
    """What flask.g keeps as `name`; None when nothing is."""
    value: object = g.get(name)
    return value


def take(name: str) -> object:
    """What flask.g keeps as `name`, no longer kept; None when nothing was."""
    value: object = g.pop(name, None)
    return value


def endpoint(rule: Rule) -> str:
    """The endpoint of `rule`: werkzeug lets it be anything, Flask's are view names."""
    return str(rule.endpoint)
