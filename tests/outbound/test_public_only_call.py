"""A `public_only` call (Fetcher.get(..., public_only=True)): its host is resolved once, inside
the call's one deadline; an address that is not public is refused before anything is sent,
with its kind; a public one is the address connected to. Loopback stands in for a public
address where a test needs a server (addresses.blocked patched, as the registry tests do)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from broker.outbound.addresses import AddressRefused
from broker.outbound.errors import OutboundTimeout
from broker.outbound.fetch import Fetcher
from tests.faults.slow import slow_socket

TIMEOUT = 1.0


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port on loopback that accepts nothing by itself: a connection would wait in it."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        sock.setblocking(False)
        yield sock


@pytest.mark.parametrize(("host", "kind"), [("127.0.0.1", "loopback"), ("localhost", "loopback"),
                                            ("[::ffff:10.0.0.1]", "private")])
def test_a_non_public_address_is_refused_before_anything_is_sent(
        listener: socket.socket, host: str, kind: str) -> None:
    port = listener.getsockname()[1]
    with pytest.raises(AddressRefused, match="is not a public address") as refused:
        Fetcher(TIMEOUT).get(f"http://{host}:{port}/md.xml", accept="text/xml", public_only=True)
    assert refused.value.kind == kind
    with pytest.raises(BlockingIOError):
        listener.accept()  # no connection was made


def test_the_lookup_and_the_fetch_share_one_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lookup that takes most of the deadline leaves the stalling server only the rest. The
    resolver is slowed in this process (tests/registry/test_source_deadline.py does it with a
    real DNS server, in a namespace of its own)."""
    monkeypatch.setattr("broker.outbound.addresses.blocked", lambda ip: None)
    resolve = socket.getaddrinfo

    def slow_getaddrinfo(*args: object, **kwargs: object) -> object:
        time.sleep(0.7 * TIMEOUT)
        return resolve(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("broker.outbound.resolve.socket.getaddrinfo", slow_getaddrinfo)
    with slow_socket("hang") as server:
        started = time.monotonic()
        with pytest.raises(OutboundTimeout, match=f"did not answer within {TIMEOUT:g} s"):
            Fetcher(TIMEOUT).get(f"http://localhost:{server.port}/md.xml", accept="text/xml",
                                 public_only=True)
        took = time.monotonic() - started
    assert took < 1.6 * TIMEOUT, f"{took:.2f} s"  # two deadlines in a row: 1.7
