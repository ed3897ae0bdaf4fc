"""Reaching the school's OP: discovery, its checks, and a school that does not answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from joserfc.jwk import JWKRegistry, RSAKey

from broker.errors import SchoolTimeout, SchoolUnavailable, UpstreamRejected
from broker.identity import PendingLogin
from broker.records import School
from broker.upstream.oidc import OidcUpstream
from broker.upstream.oidc_provider import _key_parameters
from broker.upstream.saml_kind import SamlSchool
from demo.school_op import create_school_op
from tests.faults.slow import slow_socket
from tests.upstream.oidc.browser import SchoolBrowser
from tests.upstream.oidc.conftest import ServedOp, school_at
from tests.upstream.oidc.served import loopback_tls, serve

PENDING = PendingLogin(id="login-1", supplier_id="taalapp", protocol="oidc", request=b"")


def _start(rp: OidcUpstream, school: School) -> None:
    rp.login_redirect(school, PENDING, relay_state=PENDING.id)


def test_discovery_must_name_the_configured_issuer(op: ServedOp, rp: OidcUpstream,
                                                   lyceum: School) -> None:
    op.tweak(discovery={"issuer": op.base_url + "/"})  # even a trailing slash differs
    with pytest.raises(UpstreamRejected, match="issuer must match exactly"):
        _start(rp, lyceum)


@pytest.mark.parametrize("field", ["token_endpoint", "jwks_uri", "userinfo_endpoint"])
def test_endpoints_must_be_https(op: ServedOp, rp: OidcUpstream, lyceum: School,
                                 field: str) -> None:
    op.tweak(discovery={field: "http://op.example/" + field})
    with pytest.raises(UpstreamRejected, match=f"valid https URL for: {field}"):
        _start(rp, lyceum)


def test_a_missing_endpoint(op: ServedOp, rp: OidcUpstream, lyceum: School) -> None:
    op.tweak(discovery={"authorization_endpoint": None})
    with pytest.raises(UpstreamRejected, match="authorization_endpoint"):
        _start(rp, lyceum)


def test_an_oversized_discovery_document(op: ServedOp, rp: OidcUpstream,
                                         lyceum: School) -> None:
    op.tweak(discovery={"padding": "x" * (1024 * 1024)})
    with pytest.raises(UpstreamRejected, match="larger than Loper accepts"):
        _start(rp, lyceum)


def test_an_unreadable_jwks(op: ServedOp, make_rp: Callable[..., OidcUpstream],
                            lyceum: School, browser: SchoolBrowser) -> None:
    rp = make_rp(cache_ttl=0)  # discovery is read again at the callback
    answer = browser.log_in(rp, lyceum)
    op.tweak(discovery={"jwks_uri": op.base_url + "/userinfo"})  # 401 with a JSON error
    with pytest.raises(UpstreamRejected, match="HTTP status 401 .* signing keys"):
        answer.finish(rp, lyceum)


@pytest.mark.timeout(15)
def test_an_unreachable_school(rp: OidcUpstream, closed_port: int) -> None:
    school = school_at(f"http://127.0.0.1:{closed_port}")
    with pytest.raises(SchoolUnavailable, match="did not answer") as caught:
        _start(rp, school)
    assert caught.value.status == 502 and not isinstance(caught.value, SchoolTimeout)


@pytest.mark.timeout(15)
def test_a_school_that_hangs(make_rp: Callable[..., OidcUpstream], silent_port: int) -> None:
    """The http timeout is honoured: a silent school ends the login instead of hanging it."""
    rp = make_rp(http_timeout=0.5)
    school = school_at(f"http://127.0.0.1:{silent_port}")
    with pytest.raises(SchoolTimeout, match="did not answer in time"):
        _start(rp, school)


def test_a_school_that_goes_away_before_the_callback(
        rp: OidcUpstream, browser: SchoolBrowser, lyceum: School, closed_port: int) -> None:
    answer = browser.log_in(rp, lyceum)
    moved = school_at(f"http://127.0.0.1:{closed_port}")
    with pytest.raises(SchoolUnavailable, match="did not answer"):
        rp.handle_callback(moved, answer.params, answer.state)


def test_a_school_without_oidc_settings(rp: OidcUpstream) -> None:
    with pytest.raises(UpstreamRejected, match="not registered as an OpenID Connect school"):
        _start(rp, School(id="x", name="X", config=SamlSchool("", "https://x.example")))


@pytest.fixture(scope="module")
def tls_op(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The demo school's OP over https, with a certificate no public CA vouches for."""
    folder = tmp_path_factory.mktemp("tls-op")
    cert, context = loopback_tls(folder)
    with serve(lambda base: create_school_op(base, folder, []), context) as (base_url, _):
        yield base_url, cert


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_the_ca_variables_are_honoured(tls_op: tuple[str, Path], rp: OidcUpstream,
                                       monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    base_url, cert = tls_op
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UpstreamRejected, match="could not verify the TLS certificate"):
        _start(rp, school_at(base_url))
    monkeypatch.setenv(variable, str(cert))
    _start(rp, school_at(base_url))


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_school_whose_server_fails_is_a_gateway_error(rp: OidcUpstream, status: int) -> None:
    head = f"HTTP/1.1 {status} Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
    with slow_socket("drip", head=head, every=0.0, piece=1024) as server:
        with pytest.raises(SchoolUnavailable, match=f"answered HTTP status {status}") as caught:
            _start(rp, school_at(f"http://127.0.0.1:{server.port}"))
    assert caught.value.status == 502


def test_a_school_that_answers_404_is_a_rejection(rp: OidcUpstream) -> None:
    head = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    with slow_socket("drip", head=head, every=0.0, piece=1024) as server:
        with pytest.raises(UpstreamRejected, match="answered HTTP status 404"):
            _start(rp, school_at(f"http://127.0.0.1:{server.port}"))


def test_jwk_members_of_other_types_are_ignored_and_the_key_still_read() -> None:
    """RFC 7517 4: a member Loper does not understand is ignored, not fatal (a WebCrypto
    export carries "ext": true); a malformed x5c is dropped, the key itself still read."""
    published = RSAKey.generate_key(2048).as_dict(private=False)
    parameters = _key_parameters({**published, "ext": True, "x5c": [1, 2], "use": "sig"})
    assert parameters == {**published, "use": "sig"}
    assert isinstance(JWKRegistry.import_key(parameters), RSAKey)
