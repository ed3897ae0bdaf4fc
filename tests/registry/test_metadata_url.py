"""SAML metadata named by URL: fetched over https, verified with REQUESTS_CA_BUNDLE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.registry import FederationError, load_federation
from tests.registry.conftest import FEDERATION, REGENBOOG_IDP, write_federation
from tests.registry.https import serve
from tests.registry.metadata_xml import idp_metadata

BODIES = {"/idp.xml": idp_metadata(REGENBOOG_IDP).encode(), "/huge.xml": b"<" * 5_300_000}


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with serve(tmp_path, BODIES) as site:
        yield site.base, site.cert


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


def test_a_redirect_is_not_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(tmp_path, BODIES) as site:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(site.cert))
        site.redirects["/moved.xml"] = "https://metadata.elsewhere.example/idp.xml"
        with pytest.raises(FederationError, match=r"redirects to https://metadata\.elsewhere\."
                           r"example/idp\.xml; expected 200 with the metadata"):
            load_federation(_file_naming(tmp_path, site.base + "/moved.xml"))
        assert site.hits == {"/moved.xml": 1}
