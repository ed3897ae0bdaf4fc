"""A `public_only` source's refresh takes about one outbound_timeout, however slowly its server
or its DNS server answers: the name lookup and the fetch share one deadline. The refresh says it
timed out, and the last good copy stays.

The server: in this process, one on loopback that takes the connection and then stalls
(loopback let through as public, as the other public_only tests do, by patching
addresses.blocked). The DNS server: real glibc lookups (getaddrinfo, as Loper calls it), in a
user and network namespace of its own whose DNS server answers only after most of the timeout,
or never; no seam there at all: the name resolves to a public address that the namespace's
loopback device carries (slow_dns_refresh.py runs there and reports).

Timing is asserted with a generous margin only: a refresh must end well before it could with
two deadlines one after the other.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.metadata_refresh import Refresher, refresh
from broker.outbound.fetch import default_timeout
from broker.registry import Registry
from tests.faults.slow import slow_socket
from tests.registry import slow_dns_refresh as namespace
from tests.registry.helpers import school_metadata, sql
from tests.registry.test_entity_source import PATH, adfs  # noqa: F401  (adfs: a fixture)
from tests.registry.test_source_public_only import (  # noqa: F401  (operators: a fixture)
    SOURCE,
    operators,
    public_only,
)

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 1.0
"""The outbound_timeout of the refreshes in this process."""
LIMIT = 1.6
"""A refresh ends within this many timeouts; with two deadlines in a row, the namespace's
slow DNS server alone would make it 1.7."""
SETUP = """
ip link set lo up
ip addr add "$3/32" dev lo
echo 'nameserver 127.0.0.1' > "$0/resolv.conf"
mount --bind "$0/resolv.conf" /etc/resolv.conf
exec "$2" -m "$1"
"""


def timed_out(message: str, seconds: float) -> bool:
    """Whether a refusal's message says the fetch timed out after `seconds`."""
    return message.startswith("cannot fetch https://") and message.endswith(
        f" did not answer within {seconds:g} s")


@pytest.fixture
def stalled(operators: Registry, registry_url: str,  # noqa: F811
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    """The imported school's source made public_only, its name leading to a server on
    loopback that takes the connection and says nothing."""
    monkeypatch.setattr("broker.outbound.addresses.blocked", lambda ip: None)
    with slow_socket("hang") as server:
        public_only(registry_url, f"https://localhost:{server.port}{PATH}")
        yield operators


def test_broker_metadata_refresh_gives_a_stalling_server_one_timeout(stalled: Registry) -> None:
    """What `broker metadata refresh` does: every fetch within the outbound_timeout."""
    [imported] = stalled.metadata_sources().all()
    before = school_metadata(stalled, "regenboog")
    started = time.monotonic()
    with default_timeout(TIMEOUT):
        [result] = refresh(stalled)
    took = time.monotonic() - started
    assert took < LIMIT * TIMEOUT, f"{took:.2f} s"
    assert (result.outcome, result.address_kind) == ("refused", "")
    assert timed_out(result.message, TIMEOUT), result.message
    assert result.kept == imported.fetched_at and "; kept last good from 20" in str(result)
    assert school_metadata(stalled, "regenboog") == before
    [status] = stalled.metadata_sources().all()
    assert status.outcome == "refused" and status.fetched_at == imported.fetched_at


def test_the_background_pass_gives_it_one_timeout_too(stalled: Registry, registry_url: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    sql(registry_url, "UPDATE metadata_sources SET next_fetch = NULL")
    started = time.monotonic()
    with caplog.at_level(logging.INFO, "loper.metadata"):
        Refresher(stalled, timeout=TIMEOUT).run_once()
    took = time.monotonic() - started
    assert took < LIMIT * TIMEOUT, f"{took:.2f} s"
    [record] = [r for r in caplog.records if r.name == "loper.metadata"]
    assert record.levelno == logging.WARNING and vars(record)["source"] == SOURCE
    assert f" did not answer within {TIMEOUT:g} s); kept last good from 20" in record.getMessage()


@pytest.fixture(scope="module")
def slow_dns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """What slow_dns_refresh.py reports from its namespace."""
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    folder = tmp_path_factory.mktemp("dns")
    done = subprocess.run(
        [unshare, "--user", "--map-root-user", "--net", "--mount", "--propagation", "private",
         "sh", "-c", SETUP, str(folder), namespace.__name__, sys.executable, namespace.PUBLIC],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    results: dict[str, dict[str, object]] = json.loads(done.stdout)
    return results


@pytest.mark.parametrize(("name", "fetched"), [
    (namespace.SLOW_NAME, True),  # the answer comes, then the server stalls
    (namespace.SILENT_NAME, False),  # no answer at all: nothing is fetched
])
def test_a_slow_dns_server_leaves_the_fetch_only_what_is_left(
        slow_dns: dict[str, dict[str, object]], name: str, fetched: bool) -> None:
    said = slow_dns[name]
    seconds = said["seconds"]
    assert isinstance(seconds, float) and seconds < LIMIT * namespace.TIMEOUT, said
    assert (said["outcome"], said["address_kind"]) == ("refused", ""), said
    assert timed_out(str(said["message"]), namespace.TIMEOUT), said
    assert str(said["kept"]).startswith(namespace.LAST_GOOD), said  # the last good is kept
    assert said["connected"] is fetched, said
