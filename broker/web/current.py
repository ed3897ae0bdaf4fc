"""Access to the broker wired into the running Flask app."""

from __future__ import annotations

from flask import current_app

from broker.context import Broker
from broker.flow import Flow
from broker.logout.journey import Logouts


def broker() -> Broker:
    value: Broker = current_app.extensions["loper"]
    return value


def flow() -> Flow:
    return Flow(broker())


def logouts() -> Logouts:
    return Logouts(broker())
