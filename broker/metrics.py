"""What Loper counts and times, for /metrics (Prometheus text, prometheus_client).

Labels are protocol names, school and source ids from the registry, step names (Flask
endpoints) and error codes: never a value a request supplied, never anything about a pupil.

Several gunicorn workers: with PROMETHEUS_MULTIPROC_DIR in the environment when this module
is first imported (config/gunicorn.conf.py sets it: broker/metrics_dir.py), every process
writes its numbers to files there and a scrape of any worker adds them all up
(prometheus_client's multiprocess mode). Without it (`flask run`, tests) the numbers are the
process's own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

from broker.errors import BrokerError, ConfigError, ServiceUnavailable
from broker.registry import RegistryUnavailable
from broker.store import StoreUnavailable

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REGISTRY = CollectorRegistry(auto_describe=True)
"""Loper's own metrics, exposed as they are when one process serves."""

MAX_SCHOOLS = 1000
"""Schools (by id) that get a label of their own, per process; later ones count as "other"."""
OTHER = "other"

_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_SLOW = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0)

LOGINS = Counter("loper_logins", "Logins that ended, by upstream protocol (sso_session: served "
                 "from Loper's session), downstream protocol and outcome (released, "
                 "answered_error, or the error code of the page the pupil saw)",
                 ("upstream", "downstream", "outcome"), registry=REGISTRY)
FAILURES = Counter("loper_failures", "Error pages shown, by error code",
                   ("reason",), registry=REGISTRY)
STEP_SECONDS = Histogram("loper_step_seconds", "Loper's own handling of one request, by step "
                         "(the endpoint), without the time spent waiting on a school",
                         ("step",), buckets=_FAST, registry=REGISTRY)
UPSTREAM_SECONDS = Histogram("loper_upstream_seconds", "Round trip of one call to a school's "
                             "login service adapter (redirect: building the way there; "
                             "callback: checking its answer, with its token and user info calls)",
                             ("school", "call"), buckets=_SLOW, registry=REGISTRY)
UPSTREAM_ERRORS = Counter("loper_upstream_errors", "Calls to a school that failed, by school "
                          "and error code", ("school", "reason"), registry=REGISTRY)
STORAGE_ERRORS = Counter("loper_storage_errors", "Requests that failed because the state "
                         "store or the registry was unavailable, by part and reason",
                         ("part", "reason"), registry=REGISTRY)
METADATA_REFRESHES = Counter("loper_metadata_refreshes", "Refreshes of a [[metadata_sources]] "
                             "entry, by source and outcome", ("source", "outcome"),
                             registry=REGISTRY)

_waited: ContextVar[float] = ContextVar("loper_waited_on_schools", default=0.0)
_schools: set[str] = set()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> bytes:
    """Every metric in Prometheus text: all processes' when they share a directory."""
    path = multiprocess_dir()
    if path is None:
        return generate_latest(REGISTRY)
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged, path=path)  # type: ignore[no-untyped-call]
    return generate_latest(merged)


def school_label(school_id: str) -> str:
    """The school's own label while fewer than MAX_SCHOOLS have one (bounded cardinality)."""
    if school_id in _schools:
        return school_id
    if len(_schools) >= MAX_SCHOOLS:
        return OTHER
    _schools.add(school_id)
    return school_id


def outcome(exc: BaseException) -> str:
    """The error code of the page a failure shows to the pupil (as web/errors.py renders it)."""
    if isinstance(exc, BrokerError):
        return exc.code
    if isinstance(exc, StoreUnavailable | RegistryUnavailable):
        return ServiceUnavailable.code
    return "registration_problem" if isinstance(exc, ConfigError) else "internal_error"


def login_ended(upstream: str, downstream: str, result: str) -> None:
    LOGINS.labels(upstream or "none", downstream or "own_page", result).inc()


@contextmanager
def upstream_call(school_id: str, call: str) -> Iterator[None]:
    """Time one call to a school's adapter; count it as an error of that school if it fails."""
    school = school_label(school_id)
    start = time.perf_counter()
    try:
        yield
    except BrokerError as exc:
        UPSTREAM_ERRORS.labels(school, exc.code).inc()
        raise
    finally:
        elapsed = time.perf_counter() - start
        _waited.set(_waited.get() + elapsed)
        UPSTREAM_SECONDS.labels(school, call).observe(elapsed)


def begin_step() -> float:
    """Start timing a request: its clock, and no time waited on schools yet."""
    _waited.set(0.0)
    return time.perf_counter()


def end_step(step: str, started: float) -> None:
    own = time.perf_counter() - started - _waited.get()
    STEP_SECONDS.labels(step).observe(max(own, 0.0))
