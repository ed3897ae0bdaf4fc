"""The one outbound fetcher: one deadline per call however slowly a server sends, a size cap,
no redirects, no compression, a short memory of hosts that timed out, pools per thread."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from broker.outbound import fetch
from broker.outbound.errors import (
    OutboundBusy,
    OutboundError,
    OutboundTimeout,
    OutboundTooLarge,
    OutboundUnreachable,
)
from broker.outbound.fetch import Fetcher, default_timeout
from tests.faults.slow import Mode, json_head, slow_socket

DEADLINE = 1.0
SLACK = 0.5
"""What a call may take beyond its deadline: the watchdog's wake-up and the test's own work."""


def _url(port: int, path: str = "/doc") -> str:
    return f"http://127.0.0.1:{port}{path}"


def _times_out(fetcher: Fetcher, url: str) -> float:
    started = time.monotonic()
    with pytest.raises(OutboundTimeout, match=f"did not answer within {fetcher.timeout:g} s"):
        fetcher.get(url, accept="application/json")
    return time.monotonic() - started


@pytest.mark.parametrize("length", [None, 10_000], ids=["close-delimited", "content-length"])
def test_a_dripping_body_is_cut_off_at_the_deadline(length: int | None) -> None:
    """Without a length, the cut connection must not pass for the end of a short body."""
    with slow_socket("drip", head=b"", body=json_head(length) + b'{"a": "' + b"x" * 9000,
                     every=0.05) as server:
        elapsed = _times_out(Fetcher(DEADLINE), _url(server.port))
    assert DEADLINE <= elapsed < DEADLINE + SLACK


def test_dripping_headers_are_cut_off_at_the_deadline() -> None:
    with slow_socket("drip", head=json_head(2) + b"{}", every=0.2, piece=1) as server:
        elapsed = _times_out(Fetcher(DEADLINE), _url(server.port))
    assert DEADLINE <= elapsed < DEADLINE + SLACK


def test_a_hanging_server_is_cut_off_at_the_deadline() -> None:
    with slow_socket("hang") as server:
        elapsed = _times_out(Fetcher(DEADLINE), _url(server.port))
    assert DEADLINE <= elapsed < DEADLINE + SLACK


def test_a_slow_answer_within_the_deadline_is_read_whole() -> None:
    body = b'{"issuer": "https://school.example"}'
    with slow_socket("drip", head=json_head(len(body)), body=body, every=0.005) as server:
        answer = Fetcher(DEADLINE).get(_url(server.port), accept="application/json")
    assert (answer.status, answer.content_type, answer.body) == (200, "application/json", body)


def test_a_host_that_timed_out_fails_at_once_until_its_failure_ttl_passed() -> None:
    fetcher = Fetcher(0.5, failure_ttl=1.0)
    with slow_socket("hang") as server:
        _times_out(fetcher, _url(server.port))
        started = time.monotonic()
        with pytest.raises(OutboundTimeout, match="a moment ago; Loper tries again in"):
            fetcher.get(_url(server.port, "/other-path"), accept="application/json")
        assert time.monotonic() - started < 0.1
        time.sleep(1.0)
        assert _times_out(fetcher, _url(server.port)) >= 0.5  # tried again, for real


def test_the_memory_is_per_host_and_per_fetcher() -> None:
    fetcher = Fetcher(0.5)
    with slow_socket("hang") as dead, slow_socket("drip", head=json_head(2), body=b"{}",
                                                  every=0.001) as alive:
        _times_out(fetcher, _url(dead.port))
        assert fetcher.get(_url(alive.port), accept="application/json").body == b"{}"
        with pytest.raises(OutboundTimeout, match="within 0.5 s"):
            Fetcher(0.5).get(_url(dead.port), accept="application/json")  # tried: its own


def test_only_so_many_calls_to_one_host_wait_at_once() -> None:
    """Pupils arriving before a dead school's first timeout tie up at most `per_host`."""
    fetcher = Fetcher(DEADLINE, failure_ttl=0, per_host=2)
    failures: list[OutboundError] = []

    def call(url: str) -> None:
        try:
            fetcher.get(url, accept="application/json")
        except OutboundError as exc:
            failures.append(exc)

    with slow_socket("hang") as dead, slow_socket("drip", head=json_head(2), body=b"{}",
                                                  every=0.001) as alive:
        waiting = [threading.Thread(target=call, args=(_url(dead.port),)) for _ in range(2)]
        for thread in waiting:
            thread.start()
        time.sleep(0.2)  # both are waiting now
        started = time.monotonic()
        with pytest.raises(OutboundBusy, match="2 calls to it are waiting already"):
            fetcher.get(_url(dead.port), accept="application/json")
        assert time.monotonic() - started < 0.1
        assert fetcher.get(_url(alive.port), accept="application/json").body == b"{}"
        for thread in waiting:
            thread.join(DEADLINE + SLACK)
        assert [type(f) for f in failures] == [OutboundTimeout, OutboundTimeout]
        assert _times_out(fetcher, _url(dead.port)) >= DEADLINE  # a slot is free again


def test_a_refused_connection_is_unreachable_and_not_remembered(closed_port: int) -> None:
    fetcher = Fetcher(DEADLINE)
    for _ in range(2):
        started = time.monotonic()
        with pytest.raises(OutboundUnreachable,
                           match=r"cannot be reached \(the connection was refused\)"):
            fetcher.get(_url(closed_port), accept="application/json")
        assert time.monotonic() - started < DEADLINE


def test_a_name_that_does_not_resolve_says_so() -> None:
    with pytest.raises(OutboundUnreachable, match=r"\(its name is not found in DNS\)"):
        Fetcher(DEADLINE).get("http://nonexistent.invalid/", accept="application/json")


@pytest.mark.parametrize(("reply", "says"), [
    (b"", "the connection was dropped"),
    (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "the answer was not HTTP")])
def test_a_host_that_does_not_speak_http_is_named_for_what_it_did(reply: bytes, says: str) -> None:
    """The operator reads what went wrong in words, not a library's exception class."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(reply)
    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        with pytest.raises(OutboundUnreachable, match=re.escape(f"({says})")):
            Fetcher(DEADLINE).get(_url(server.getsockname()[1]), accept="application/json")
    finally:
        thread.join(DEADLINE)
        server.close()


@pytest.mark.parametrize(("head", "body"), [
    (json_head(2_000_000), b"{}"),  # declared too large: refused before reading
    (json_head(None), b"[" * 40_000),  # undeclared: counted while reading
], ids=["declared", "undeclared"])
def test_an_answer_over_the_cap_is_refused(head: bytes, body: bytes) -> None:
    with slow_socket("drip", head=head, body=body, every=0.0, piece=8192) as server:
        with pytest.raises(OutboundTooLarge, match="larger than 32 KB"):
            Fetcher(DEADLINE, max_bytes=32 * 1024).get(_url(server.port), accept="*/*")


def test_a_compressed_answer_is_refused() -> None:
    head = json_head(2, {"Content-Encoding": "gzip"})
    with slow_socket("drip", head=head, body=b"{}", every=0.0, piece=1024) as server:
        with pytest.raises(OutboundUnreachable, match="compressed answer"):
            Fetcher(DEADLINE).get(_url(server.port), accept="*/*")


def test_a_redirect_is_returned_not_followed() -> None:
    head = b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/x\r\nContent-Length: 0\r\n\r\n"
    with slow_socket("drip", head=head, every=0.0, piece=1024) as server:
        answer = Fetcher(DEADLINE).get(_url(server.port), accept="*/*")
    assert answer.status == 302 and answer.body == b""


def test_the_default_deadline_comes_from_the_context() -> None:
    fetcher = Fetcher()
    assert fetcher.timeout == fetch.DEFAULT_TIMEOUT
    with default_timeout(0.5), slow_socket("hang") as server:
        assert fetcher.timeout == 0.5
        assert _times_out(fetcher, _url(server.port)) < 0.5 + SLACK
    assert fetcher.timeout == fetch.DEFAULT_TIMEOUT


def test_pools_per_thread_and_new_ones_after_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    mine = fetch.pool_manager()
    assert fetch.pool_manager() is mine
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(fetch.pool_manager()))
    thread.start()
    thread.join()
    assert seen[0] is not mine
    monkeypatch.setattr(fetch.os, "getpid", lambda: -1)
    assert fetch.pool_manager() is not mine


@pytest.fixture
def closed_port() -> Iterator[int]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    yield port


@pytest.mark.parametrize("mode", ["hang", "drip"])
def test_a_tls_handshake_that_never_ends_is_cut_off_at_the_deadline(mode: Mode) -> None:
    """A server that never answers the ClientHello, or drips a 16 KB handshake record a byte
    every 0.2 s."""
    with slow_socket(mode, head=b"\x16\x03\x03\x40\x00", body=b"\x00" * 16384,
                     piece=1) as server:
        started = time.monotonic()
        with pytest.raises(OutboundTimeout, match="did not answer within 1 s"):
            Fetcher(DEADLINE).get(f"https://127.0.0.1:{server.port}/doc", accept="*/*")
    assert DEADLINE <= time.monotonic() - started < DEADLINE + SLACK
