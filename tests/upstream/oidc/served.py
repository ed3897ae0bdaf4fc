"""Serving a Flask app on a loopback port in a background thread, shut down cleanly."""

from __future__ import annotations

import ipaddress
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server


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
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "op.crt", folder / "op.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return cert_path, context
