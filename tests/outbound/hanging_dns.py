"""Run inside a network namespace of its own (test_dns_deadline.py): a DNS server on
127.0.0.1:53 that never answers, named by the namespace's /etc/resolv.conf, and an
/etc/hosts naming one host. Calls the real fetcher with the system resolver (glibc's
getaddrinfo) and prints what happened as JSON: {case: [outcome, message, seconds]}.

    python -m tests.outbound.hanging_dns
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from broker.outbound.errors import OutboundError
from broker.outbound.fetch import Fetcher

DEADLINE = 1.0
UNANSWERED = "school.loper-dns.example"
"""A name only DNS could resolve: the silent server is asked."""
LISTED = "listed.loper-dns.example"
"""A name /etc/hosts gives (127.0.0.1): resolved at once, then reached by its address."""


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = b'{"hello": "school"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def _call(fetcher: Fetcher, url: str) -> list[object]:
    started = time.monotonic()
    try:
        answer = fetcher.get(url, accept="application/json")
        outcome, said = "answer", answer.body.decode()
    except OutboundError as exc:
        took = time.monotonic() - started  # the call's time, not the message's rendering
        return [type(exc).__name__, str(exc), took]
    return [outcome, said, time.monotonic() - started]


def main() -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 53))  # receives every query, answers none
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    results = {
        "unanswered": _call(Fetcher(timeout=DEADLINE), f"http://{UNANSWERED}:{port}/"),
        "listed": _call(Fetcher(timeout=DEADLINE), f"http://{LISTED}:{port}/"),
        "address": _call(Fetcher(timeout=DEADLINE), f"http://127.0.0.1:{port}/"),
    }
    server.shutdown()
    silent.close()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
