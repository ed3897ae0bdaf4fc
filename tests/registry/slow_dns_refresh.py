"""Run inside a user and network namespace of its own (test_source_deadline.py): real
`public_only` refreshes whose host name takes the system resolver (glibc's getaddrinfo, as
Loper calls it) most of the outbound_timeout, or forever, to resolve. Prints what each
refresh did as JSON: {source: {outcome, message, address_kind, kept, seconds, connected}}.

    python -m tests.registry.slow_dns_refresh

The namespace's /etc/resolv.conf names the DNS server this module runs on 127.0.0.1:53. It
answers for SLOW_NAME only after DNS_DELAY seconds, with PUBLIC (an address the namespace's
loopback device carries: the namespace has no other device, so nothing leaves the machine),
where a server takes the TLS connection and then says nothing; it never answers for
SILENT_NAME. Each source has a last good copy in a SQLite registry of its own.
"""

from __future__ import annotations

import json
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from broker.metadata_refresh import refresh_source
from broker.outbound.fetch import default_timeout
from broker.registry import Registry
from tests.registry.helpers import sql

TIMEOUT = 3.0
"""The outbound_timeout the refreshes run with."""
DNS_DELAY = 2.1
"""How long the DNS server takes to answer for SLOW_NAME: well within TIMEOUT, but with a
whole TIMEOUT for the fetch after it, a refresh would take 1.7 times it."""
SLOW_NAME = "adfs.slow-dns.example"
SILENT_NAME = "adfs.silent-dns.example"
PUBLIC = "11.22.33.44"
LAST_GOOD = "2026-12-01 08:00:00"
"""When each source's last good copy was fetched."""
A_RECORD, AAAA_RECORD = 1, 28


def _answer(query: bytes) -> bytes | None:
    """The answer to a query for SLOW_NAME (PUBLIC for A, none for AAAA); None for others."""
    ident, end, labels = query[:2], 12, []
    while query[end]:
        labels.append(query[end + 1:end + 1 + query[end]].decode())
        end += 1 + query[end]
    qtype = struct.unpack("!H", query[end + 1:end + 3])[0]
    if ".".join(labels).lower() != SLOW_NAME:
        return None
    question = query[12:end + 5]
    found = qtype == A_RECORD
    head = ident + struct.pack("!HHHHH", 0x8180, 1, int(found), 0, 0)
    record = (struct.pack("!HHHIH", 0xC00C, A_RECORD, 1, 60, 4) + socket.inet_aton(PUBLIC)
              if found else b"")
    return head + question + record


@contextmanager
def dns_server(stopped: threading.Event) -> Iterator[None]:
    """The DNS server on 127.0.0.1:53: slow for SLOW_NAME, silent for everything else."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 53))
    server.settimeout(0.1)

    def later(answer: bytes, to: tuple[str, int]) -> None:
        if not stopped.wait(DNS_DELAY):
            server.sendto(answer, to)

    def serve() -> None:
        while not stopped.is_set():
            try:
                query, sender = server.recvfrom(512)
            except TimeoutError:
                continue
            answer = _answer(query)
            if answer is not None:
                threading.Thread(target=later, args=(answer, sender), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join(timeout=5)
        server.close()


@contextmanager
def stalling_server(stopped: threading.Event, connected: list[float]) -> Iterator[int]:
    """A server on PUBLIC that takes each connection, reads the TLS hello and stalls; when
    each connection came is put in `connected`. Its port."""
    listener = socket.create_server((PUBLIC, 0))
    listener.settimeout(0.1)
    held: list[socket.socket] = []

    def accept() -> None:
        while not stopped.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            connected.append(time.monotonic())
            held.append(conn)  # kept open and silent until the end

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopped.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


def _registry(folder: Path, port: int) -> Registry:
    """A registry with one public_only source per name, each with a last good copy."""
    url = f"sqlite:///{folder / 'registry.sqlite'}"
    registry = Registry(url)
    registry.upgrade()
    for name in (SLOW_NAME, SILENT_NAME):
        sql(url, "INSERT INTO metadata_sources (id, url, mdq, certificate, tls, public_only, "
            "refresh, document, fetched_at, outcome) VALUES (?, ?, 0, '', 1, 1, 600, "
            "'<EntityDescriptor/>', ?, 'fetched')", name, f"https://{name}:{port}/md.xml",
            LAST_GOOD)
    return registry


def main() -> None:
    stopped, connected = threading.Event(), list[float]()
    results: dict[str, dict[str, object]] = {}
    with (tempfile.TemporaryDirectory() as folder, dns_server(stopped),
          stalling_server(stopped, connected) as port):
        registry = _registry(Path(folder), port)
        store = registry.metadata_sources()
        for status in store.all():
            started, seen = time.monotonic(), len(connected)
            with default_timeout(TIMEOUT):
                result = refresh_source(store, status.source)
            kept = result.kept.isoformat(" ") if isinstance(result.kept, datetime) else None
            results[status.source.id] = {
                "outcome": result.outcome, "message": result.message, "kept": kept,
                "address_kind": result.address_kind, "connected": len(connected) > seen,
                "seconds": time.monotonic() - started}
        registry.close()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
