"""`build_response` makes responses that real SPs accept, and subtly wrong ones they refuse.

The broker's hostile-input tests use it against Loper; here the demo suppliers are the judges.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from saml2.xmldsig import DIGEST_SHA1, SIG_RSA_SHA1

from demo.keys import ensure_keypair
from demo.school_idp import KEY_NAME, build_response
from tests.peers.browser import Browser, decode_saml
from tests.peers.conftest import Peers
from tests.peers.saml_xml import NS, parse, pending_request_id


def _post(peers: Peers, browser: Browser, sp: str, **options: Any) -> tuple[int, str]:
    """Start a login at `sp`, answer it with a crafted response; (status, page text)."""
    request_id = pending_request_id(browser, sp)
    args: dict[str, Any] = {"in_response_to": request_id, "destination": f"{sp}/acs",
                            "audience": f"{sp}/metadata", "person": peers.pupil}
    args.update(options)
    saml_response = peers.tool.build_response(**args)
    response = browser.post(f"{sp}/acs", {"SAMLResponse": saml_response, "RelayState": "/"})
    return response.status_code, response.text


VALID: dict[str, dict[str, Any]] = {
    "signed assertion": {},
    "signed response and assertion": {"sign_response": True},
    "encrypted assertion": {"encrypt_assertion": True},
}

INVALID: dict[str, dict[str, Any]] = {
    "wrong audience": {"audience": "https://someone-else.example/metadata"},
    "expired": {"not_on_or_after": timedelta(minutes=-10)},
    "unsolicited": {"in_response_to": None},
    "wrong InResponseTo": {"in_response_to": "id-not-pending"},
    "wrong destination": {"destination": "https://someone-else.example/acs"},
    "wrong recipient": {"recipient": "https://someone-else.example/acs"},
    "unsigned": {"sign_assertion": False},
    "foreign issuer": {"issuer": "https://evil.example/idp"},
}


@pytest.mark.parametrize("options", VALID.values(), ids=VALID.keys())
def test_pysaml2_sp_accepts_a_valid_response(peers: Peers, browser: Browser,
                                             options: dict[str, Any]) -> None:
    status, _ = _post(peers, browser, peers.rekenwonders, **options)

    assert status == 200  # 303 followed to the home page
    assert browser.get_json(f"{peers.rekenwonders}/whoami")["name_id"] == peers.pupil.id


@pytest.mark.parametrize("options", INVALID.values(), ids=INVALID.keys())
def test_pysaml2_sp_refuses(peers: Peers, browser: Browser, options: dict[str, Any]) -> None:
    status, text = _post(peers, browser, peers.rekenwonders, **options)

    assert status == 400 and "Login failed" in text
    assert browser.get_json(f"{peers.rekenwonders}/whoami") is None


@pytest.mark.parametrize("options", INVALID.values(), ids=INVALID.keys())
def test_onelogin_sp_refuses(peers: Peers, browser: Browser, options: dict[str, Any]) -> None:
    status, text = _post(peers, browser, peers.taalapp, **options)

    assert status == 400 and "Login failed" in text
    assert browser.get_json(f"{peers.taalapp}/whoami") is None


@pytest.mark.parametrize("supplier", ["rekenwonders", "taalapp"])
def test_a_response_without_destination_is_refused(peers: Peers, browser: Browser,
                                                   supplier: str) -> None:
    sp = getattr(peers, supplier)

    status, text = _post(peers, browser, sp, destination=None, recipient=f"{sp}/acs")

    assert status == 400 and "Destination" in text


def test_onelogin_sp_accepts_a_valid_response(peers: Peers, browser: Browser) -> None:
    status, _ = _post(peers, browser, peers.taalapp, sign_response=True)

    assert status == 200
    assert browser.get_json(f"{peers.taalapp}/whoami")["name_id"] == peers.pupil.id


def test_onelogin_sp_refuses_sha1(peers: Peers, browser: Browser) -> None:
    status, text = _post(peers, browser, peers.taalapp, sign_alg=SIG_RSA_SHA1,
                         digest_alg=DIGEST_SHA1)

    assert status == 400 and "Deprecated" in text


@pytest.mark.parametrize("supplier", ["rekenwonders", "taalapp"])
def test_a_replayed_response_is_refused(peers: Peers, browser: Browser, supplier: str) -> None:
    sp = getattr(peers, supplier)
    first, second = pending_request_id(browser, sp), pending_request_id(browser, sp)
    saml_response = peers.tool.build_response(in_response_to=first, destination=f"{sp}/acs",
                                              audience=f"{sp}/metadata", person=peers.pupil)

    assert browser.post(f"{sp}/acs", {"SAMLResponse": saml_response}).status_code == 200
    replayed = browser.post(f"{sp}/acs", {"SAMLResponse": saml_response})

    assert replayed.status_code == 400
    assert second  # still pending: a replay is refused even while a request is open


def test_the_encrypted_assertion_is_really_encrypted(peers: Peers) -> None:
    xml = decode_saml(peers.tool.build_response(
        in_response_to="id-1", destination=f"{peers.rekenwonders}/acs",
        audience=f"{peers.rekenwonders}/metadata", person=peers.pupil, encrypt_assertion=True))

    response = parse(xml)
    assert response.find("saml:Assertion", NS) is None
    assert response.find("saml:EncryptedAssertion/xenc:EncryptedData", NS) is not None
    assert peers.pupil.id not in xml


def test_build_response_function_uses_the_school_keys(peers: Peers, browser: Browser) -> None:
    key_file, cert_file = ensure_keypair(peers.state / "school", KEY_NAME)
    sp = peers.taalapp
    request_id = pending_request_id(browser, sp)

    saml_response = build_response(
        key_file=key_file, cert_file=cert_file, sp_metadata=[_metadata(browser, sp)],
        idp_entity_id=f"{peers.school}/metadata", in_response_to=request_id,
        destination=f"{sp}/acs", audience=f"{sp}/metadata", person=peers.teacher,
    )

    assert base64.b64decode(saml_response).startswith(b"<")
    browser.post(f"{sp}/acs", {"SAMLResponse": saml_response})
    assert browser.get_json(f"{sp}/whoami")["name_id"] == peers.teacher.id


def _metadata(browser: Browser, sp: str) -> str:
    return browser.session.get(f"{sp}/metadata", timeout=5).text
