"""SAML metadata named by URL: fetched over https, verified with REQUESTS_CA_BUNDLE."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from broker.registry import FederationError, load_federation
from tests.certs import new_key, write_pair
from tests.registry.conftest import FEDERATION, REGENBOOG_IDP, write_federation
from tests.registry.metadata_xml import idp_metadata

BODIES = {"/idp.xml": idp_metadata(REGENBOOG_IDP).encode(), "/huge.xml": b"<" * 5_300_000}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # http.server's naming
        body = BODIES.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, format: str, *args: object) -> None:
        pass


def _certificate(directory: Path) -> tuple[Path, Path]:
    key, cert = write_pair(directory, "tls", new_key(ec.SECP256R1()), loopback_ca=True)
    return cert, key


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _file_naming(tmp_path: Path, url: str) -> Path:
    return write_federation(tmp_path, FEDERATION.replace('"regenboog-idp.xml"', f'"{url}"'))


def test_metadata_fetched_with_the_ca_bundle(https_server: tuple[str, Path], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    base, cert = https_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    school = load_federation(_file_naming(tmp_path, base + "/idp.xml")).schools[0]
    assert school.protocol == "saml" and school.config.entity_id == REGENBOOG_IDP
    assert school.config.metadata_xml == idp_metadata(REGENBOOG_IDP)


def test_ssl_cert_file_is_honoured(https_server: tuple[str, Path], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    base, cert = https_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    assert load_federation(_file_naming(tmp_path, base + "/idp.xml")).schools[0].protocol == "saml"


def test_untrusted_certificate(https_server: tuple[str, Path], tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(FederationError, match=r'field "metadata": cannot fetch https://'):
        load_federation(_file_naming(tmp_path, https_server[0] + "/idp.xml"))


@pytest.mark.parametrize(("path", "says"), [("/huge.xml", "larger than 5 MB"),
                                            ("/missing.xml", "404")])
def test_fetch_problems(https_server: tuple[str, Path], tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch, path: str, says: str) -> None:
    base, cert = https_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    with pytest.raises(FederationError, match=says):
        load_federation(_file_naming(tmp_path, base + path))
