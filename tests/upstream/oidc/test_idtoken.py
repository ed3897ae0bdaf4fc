"""Checks that authlib's claims classes and client helpers now make for the OIDC upstream, seen
without a running OP: at_hash, and the client authentication at the token endpoint."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from broker.errors import UpstreamRejected
from broker.upstream.oidc import _client_auth
from broker.upstream.oidc_idtoken import Expected, verify_id_token
from broker.upstream.oidc_kind import OidcSchool
from broker.upstream.oidc_provider import ProviderInfo

ISSUER = "https://op.lyceum.example"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
EXPECTED = Expected(ISSUER, "loper", "the-nonce", ("RS256",), 60)


def _signed(**claims: Any) -> str:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": "loper", "sub": "pupil", "iat": now, "exp": now + 300,
            "nonce": "the-nonce"}
    return jwt.encode({"alg": "RS256", "kid": "k1"}, {**base, **claims}, KEY)


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _verify(raw: str, access_token: str | None) -> dict[str, Any]:
    return verify_id_token(raw, lambda _kid: KeySet([KEY]), EXPECTED, time.time(), access_token)


def test_a_matching_at_hash_is_accepted() -> None:
    assert _verify(_signed(at_hash=_at_hash("the-token")), "the-token")["sub"] == "pupil"


def test_an_at_hash_of_another_access_token_is_refused() -> None:
    with pytest.raises(UpstreamRejected, match=r"\(at_hash\)"):
        _verify(_signed(at_hash=_at_hash("another-token")), "the-token")


def _info(methods: tuple[str, ...]) -> ProviderInfo:
    return ProviderInfo(ISSUER, f"{ISSUER}/authorize", f"{ISSUER}/token", f"{ISSUER}/jwks",
                        None, True, methods)


SCHOOL = OidcSchool(issuer=ISSUER, client_id="loper id", client_secret="s3cret +/%")


@pytest.mark.parametrize("methods", [(), ("client_secret_basic", "client_secret_post")])
def test_client_secret_basic_encodes_both_parts(methods: tuple[str, ...]) -> None:
    _, headers, body = _client_auth(SCHOOL, _info(methods)).prepare("POST", "u", {}, "a=1")
    scheme, encoded = headers["Authorization"].split(" ")
    client_id, secret = base64.b64decode(encoded).decode().split(":")
    assert scheme == "Basic" and body == "a=1"
    assert (unquote_plus(client_id), unquote_plus(secret)) == ("loper id", "s3cret +/%")


def test_client_secret_post_when_the_school_offers_only_that() -> None:
    _, headers, body = _client_auth(SCHOOL, _info(("client_secret_post",))).prepare(
        "POST", "u", {}, "a=1")
    assert "Authorization" not in headers
    assert dict(parse_qsl(body)) == {"a": "1", "client_id": "loper id",
                                     "client_secret": "s3cret +/%"}
