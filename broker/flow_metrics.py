"""How a login is counted in the metrics (broker/metrics.py): by the protocol its school
answers with, and how it ended."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from broker import hubs, metrics
from broker.context import Broker
from broker.identity import PendingLogin
from broker.records import School

NO_SCHOOL = "none"
"""The upstream label of a login that has no school (yet)."""


def upstream_of(broker: Broker, school: School | None) -> str:
    """The protocol by which the school answers (its hub's), as the metrics label it."""
    if school is None:
        return NO_SCHOOL
    return hubs.hub_of(school, broker.registry.school).protocol


@contextmanager
def counting(login: PendingLogin, upstream: str) -> Iterator[None]:
    """A login that ends here on an error page counts as ended with that page's code."""
    try:
        yield
    except Exception as exc:
        metrics.login_ended(upstream, login.protocol, metrics.outcome(exc))
        raise
