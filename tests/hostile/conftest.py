"""Fixtures of the hostile-input suite: the running federation of tests/flows (one per module,
state in the session's real Redis), and the attacker's view of it (tests/hostile/attacker.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.flows.conftest import (  # noqa: F401  (fixtures, shared with tests/flows)
    Federation,
    browser,
    catcher,
    federation,
    rp,
    strict_client,
)
from tests.hostile.attacker import LogSink, SchoolSide, StateWatch, Traffic
from tests.peers.browser import Browser
from tests.registry.conftest import fresh_instance


@pytest.fixture(scope="module")
def school(federation: Federation) -> SchoolSide:  # noqa: F811
    return SchoolSide(federation)


@pytest.fixture(scope="module")
def state(federation: Federation) -> Iterator[StateWatch]:  # noqa: F811
    ledger = federation.registry.ledger()
    watch = StateWatch(federation.broker.settings.state_url, lambda: ledger.verify().rows)
    yield watch
    watch.close()


@pytest.fixture(scope="module")
def traffic(federation: Federation) -> Traffic:  # noqa: F811
    recorder = Traffic()
    recorder.install(federation.running.apps)
    return recorder


@pytest.fixture(scope="module")
def pupil(federation: Federation) -> Iterator[Browser]:  # noqa: F811
    """A browser with the demo pupil's single sign-on session at OBS De Regenboog, so Loper
    answers a supplier at once (the school is not asked again)."""
    with Browser() as logged_in:
        logged_in.get(f"{federation.supplier('rekenwonders')}/login", {"school": "regenboog"})
        logged_in.login(federation.pupil.id)
        assert logged_in.url.startswith(federation.supplier("rekenwonders")), logged_in.url
        yield logged_in


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh instance folder (`broker init`), for apps a test makes with its own settings."""
    folder = fresh_instance(tmp_path_factory.mktemp("instance") / "instance")
    return folder


@pytest.fixture
def logs() -> Iterator[LogSink]:
    with LogSink().attached() as sink:
        yield sink
