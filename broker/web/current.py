"""Access to the broker wired into the running Flask app."""

from __future__ import annotations

from broker.context import Broker
from broker.flow import Flow
from broker.logout.journey import Logouts
from broker.web.flask_door import Extension

BROKER = Extension[Broker]("loper")
"""The Broker app.create_app builds, in app.extensions["loper"]."""


def broker() -> Broker:
    return BROKER.get()


def flow() -> Flow:
    return Flow(broker())


def logouts() -> Logouts:
    return Logouts(broker())
