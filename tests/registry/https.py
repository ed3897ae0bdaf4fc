"""A loopback https server for tests that fetch: its own self-signed certificate (from
tests/certs.py), and answers (a body, or a redirect) that a test may change while it runs."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from tests.certs import new_key, write_pair


@dataclass
class Site:
    base: str = ""
    """https://127.0.0.1:PORT"""
    cert: Path = Path()
    """The server's certificate: point REQUESTS_CA_BUNDLE at it."""
    bodies: dict[str, bytes] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's naming
            site.hits[self.path] = site.hits.get(self.path, 0) + 1
            if self.path in site.redirects:
                self.send_response(302)
                self.send_header("Location", site.redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = site.bodies.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def certificate(directory: Path) -> tuple[Path, Path]:
    """(certificate, key) files for 127.0.0.1, from tests/certs.py."""
    key, cert = write_pair(directory, "tls", new_key(ec.SECP256R1()), loopback_ca=True)
    return cert, key


@contextmanager
def serve(directory: Path, bodies: dict[str, bytes] | None = None) -> Iterator[Site]:
    """Serve `bodies` (path -> body; the dict itself, so changes to it are served) over https
    on 127.0.0.1 until the block ends."""
    cert, key = certificate(directory)
    site = Site(cert=cert, bodies=bodies if bodies is not None else {})
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    site.base = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
