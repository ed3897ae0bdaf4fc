"""Serving a Flask app on a loopback port in a background thread, shut down cleanly."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests.certs import new_key, write_pair


def _not_ready(environ: object, start_response: Callable[..., object]) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


@contextmanager
def serve(make_app: Callable[[str], Flask],
          tls: ssl.SSLContext | None = None) -> Iterator[tuple[str, Flask]]:
    """(base URL, app): `make_app` gets the base URL, known once the port is bound."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, _not_ready, threaded=True,
                                         ssl_context=tls)
    scheme = "https" if tls else "http"
    base_url = f"{scheme}://127.0.0.1:{server.server_port}"
    app = make_app(base_url)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, name=f"op-{server.server_port}",
                              daemon=True)
    thread.start()
    try:
        yield base_url, app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def loopback_tls(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and a server context using it."""
    key_path, cert_path = write_pair(folder, "op", new_key(ec.SECP256R1()), loopback_ca=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return cert_path, context
