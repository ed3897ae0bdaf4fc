"""Client authentication at the token endpoint (RFC 6749 2.3, 5.2; OIDC Core 9; RFC 7523).

OpenID conformance: oidcc-server (client_secret_basic), oidcc-server-client-secret-post, and the
private_key_jwt client authentication of the FAPI / Config OP plans with its negative cases.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from broker.downstream.oidc_clients import ASSERTION_TYPE
from broker.downstream.oidc_op import OidcOp
from broker.records import Supplier
from tests.downstream.oidc.conftest import ISSUER, SECRET, TOKEN_URL, Rp, basic, make_supplier

ClientKeys = dict[str, RSAKey | ECKey]


@pytest.fixture(scope="module")
def client_keys() -> ClientKeys:
    keys: ClientKeys = {"rsa": RSAKey.generate_key(2048), "ec": ECKey.generate_key("P-256"),
                        "attacker": RSAKey.generate_key(2048),
                        "attacker-ec": ECKey.generate_key("P-256")}
    for key in keys.values():
        key.ensure_kid()
    return keys


@pytest.fixture
def jwt_rp(op: OidcOp, suppliers: dict[str, Supplier], client_keys: ClientKeys) -> Rp:
    registered = KeySet([client_keys["rsa"], client_keys["ec"]]).as_dict(private=False)
    suppliers["jwtapp"] = make_supplier("jwtapp", client_secret=None,
                                        jwks=json.dumps(registered))
    return Rp(op, suppliers["jwtapp"])


def claims_for(client_id: str = "jwtapp", **change: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "iat": now,
              "exp": now + 120, "jti": secrets.token_hex(8), **change}
    return {k: v for k, v in claims.items() if v is not None}


def signed(key: RSAKey | ECKey, alg: str = "RS256", *, kid: bool = True,
           header: dict[str, Any] | None = None, **change: Any) -> str:
    head = {"alg": alg, **({"kid": key.kid} if kid else {}), **(header or {})}
    return jwt.encode(head, claims_for(**change), key, algorithms=[alg])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, Any], sign: Callable[[bytes], bytes] | None) -> str:
    """An attacker's token, built by hand (no library would build these)."""
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims_for()).encode())
    return head + "." + (_b64(sign(head.encode())) if sign else "")


def with_assertion(assertion: str, **extra: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion, **extra}


def assert_401(reply: tuple[int, dict[str, Any], dict[str, str]], scheme: str) -> None:
    status, body, headers = reply
    assert (status, body["error"]) == (401, "invalid_client")
    assert headers["WWW-Authenticate"] == f'{scheme} realm="loper"'
    assert headers["Cache-Control"] == "no-store"


# -- client secrets ---------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {}, basic(secret="wrong"), basic(secret=""), basic(client_id="nobody"),
    {"Authorization": "Basic !!!notbase64"}, {"Authorization": "Basic " + _b64(b"no-colon")},
    {"Authorization": "Digest username=taalapp"}, basic(secret=SECRET + "x"),
    basic(secret=SECRET[:-1]), basic(client_id="TAALAPP"),
])
def test_secret_failures_are_401_with_a_basic_challenge(rp: Rp, headers: dict[str, str]) -> None:
    assert_401(rp.exchange(rp.code(), headers=headers), "Basic")


def test_client_secret_post(rp: Rp) -> None:
    assert rp.exchange(rp.code(), auth={"client_id": "taalapp", "client_secret": SECRET})[0] == 200
    wrong = {"client_id": "taalapp", "client_secret": "nope"}
    assert_401(rp.exchange(rp.code(), auth=wrong), "Basic")
    assert_401(rp.exchange(rp.code(), auth={"client_secret": SECRET}), "Basic")


def test_one_method_at_a_time(rp: Rp) -> None:
    both = rp.exchange(rp.code(), headers=basic(), client_secret=SECRET)
    assert (both[0], both[1]["error"]) == (400, "invalid_request")
    mixed = rp.exchange(rp.code(), headers=basic(), client_assertion="x")
    assert mixed[1]["error"] == "invalid_request"


def test_basic_credentials_are_form_encoded(op: OidcOp, suppliers: dict[str, Supplier]) -> None:
    odd_secret = "p@ss:w%rd+ /é"
    suppliers["odd:id"] = make_supplier("odd:id", client_secret=odd_secret)
    rp = Rp(op, suppliers["odd:id"])
    raw = f"{quote_plus('odd:id')}:{quote_plus(odd_secret)}".encode()
    assert rp.exchange(rp.code(), headers={"Authorization": "Basic " + _b64(raw) + "=" * (
        -len(_b64(raw)) % 4)})[0] == 200
    assert rp.exchange(rp.code(), headers=basic("odd:id", odd_secret))[0] == 401  # not encoded


def test_a_form_client_id_must_match_basic(rp: Rp) -> None:
    assert_401(rp.exchange(rp.code(), client_id="legacy"), "Basic")


def test_secret_from_the_environment(op: OidcOp, suppliers: dict[str, Supplier],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    suppliers["envapp"] = make_supplier("envapp", client_secret=None,
                                        client_secret_env="ENVAPP_SECRET")
    rp = Rp(op, suppliers["envapp"])
    monkeypatch.delenv("ENVAPP_SECRET", raising=False)
    assert_401(rp.exchange(rp.code(), headers=basic("envapp", "")), "Basic")
    monkeypatch.setenv("ENVAPP_SECRET", "from-env")
    assert rp.exchange(rp.code(), headers=basic("envapp", "from-env"))[0] == 200


# -- private_key_jwt --------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "alg", "change"), [
    ("rsa", "RS256", {}), ("rsa", "PS256", {}), ("ec", "ES256", {}),
    ("rsa", "RS256", {"aud": ISSUER}), ("rsa", "RS256", {"aud": [TOKEN_URL, "https://x.test"]}),
])
def test_private_key_jwt(jwt_rp: Rp, client_keys: ClientKeys, key: str, alg: str,
                         change: dict[str, Any]) -> None:
    assertion = signed(client_keys[key], alg, **change)
    status, body, _ = jwt_rp.exchange(jwt_rp.code(), auth=with_assertion(assertion))
    assert status == 200, body


def test_private_key_jwt_without_kid_picks_the_only_key_of_its_type(
        jwt_rp: Rp, client_keys: ClientKeys) -> None:
    auth = with_assertion(signed(client_keys["ec"], "ES256", kid=False))
    assert jwt_rp.exchange(jwt_rp.code(), auth=auth)[0] == 200


def _public_pem(key: RSAKey) -> bytes:
    return key.as_pem(private=False)


@pytest.mark.parametrize("case", [
    "alg none", "alg None", "HS256 with the public key", "HS256 with the secret", "unknown kid",
    "unregistered key", "embedded jwk", "jku", "wrong aud", "no aud", "expired", "no exp",
    "too long", "not yet valid", "no jti", "iss differs", "other client", "garbage",
    "wrong type", "unsigned payload tampered",
])
def test_bad_client_assertions(jwt_rp: Rp, client_keys: ClientKeys, case: str) -> None:
    rsa, attacker, attacker_ec = (client_keys[k] for k in ("rsa", "attacker", "attacker-ec"))
    assert isinstance(rsa, RSAKey) and isinstance(attacker, RSAKey)
    kid = rsa.kid
    now = int(time.time())
    cases: dict[str, Callable[[], str]] = {
        "alg none": lambda: forged({"alg": "none", "kid": kid}, None),
        "alg None": lambda: forged({"alg": "None"}, None),
        "HS256 with the public key": lambda: forged(
            {"alg": "HS256", "kid": kid},
            lambda data: hmac.new(_public_pem(rsa), data, hashlib.sha256).digest()),
        "HS256 with the secret": lambda: forged(
            {"alg": "HS256"},
            lambda data: hmac.new(SECRET.encode(), data, hashlib.sha256).digest()),
        "unknown kid": lambda: signed(rsa, header={"kid": "not-registered"}),
        "unregistered key": lambda: signed(attacker, header={"kid": kid}),
        "embedded jwk": lambda: signed(attacker_ec, "ES256", header={
            "kid": client_keys["ec"].kid, "jwk": dict(attacker_ec.as_dict(private=False))}),
        "jku": lambda: signed(rsa, header={"jku": "https://evil.example/jwks"}),
        "wrong aud": lambda: signed(rsa, aud="https://other.example/token"),
        "no aud": lambda: signed(rsa, aud=None),
        "expired": lambda: signed(rsa, iat=now - 600, exp=now - 300),
        "no exp": lambda: signed(rsa, exp=None),
        "too long": lambda: signed(rsa, exp=now + 7200),
        "not yet valid": lambda: signed(rsa, nbf=now + 600),
        "no jti": lambda: signed(rsa, jti=None),
        "iss differs": lambda: signed(rsa, iss="taalapp"),
        "other client": lambda: signed(rsa, iss="taalapp", sub="taalapp"),
        "garbage": lambda: "not.a.jwt",
        "wrong type": lambda: signed(rsa),
        "unsigned payload tampered": lambda: _tampered(signed(rsa)),
    }
    extra = {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
             } if case == "wrong type" else {}
    auth = {**with_assertion(cases[case]()), **extra}
    assert_401(jwt_rp.exchange(jwt_rp.code(), auth=auth), "Bearer")


def _tampered(token: str) -> str:
    head, _, signature = token.split(".")
    return f"{head}.{_b64(json.dumps(claims_for()).encode())}.{signature}"


def test_a_client_assertion_is_accepted_once(jwt_rp: Rp, client_keys: ClientKeys) -> None:
    auth = with_assertion(signed(client_keys["rsa"]))
    assert jwt_rp.op.revoke({"token": "unknown", **auth}, {})[0] == 200
    assert_401(jwt_rp.op.revoke({"token": "unknown", **auth}, {}), "Bearer")


def test_a_client_without_keys_cannot_use_private_key_jwt(rp: Rp,
                                                           client_keys: ClientKeys) -> None:
    auth = with_assertion(signed(client_keys["rsa"], iss="taalapp", sub="taalapp"))
    assert_401(rp.exchange(rp.code(), auth=auth), "Bearer")


def test_a_client_with_only_keys_cannot_use_a_secret(jwt_rp: Rp) -> None:
    assert_401(jwt_rp.exchange(jwt_rp.code(), headers=basic("jwtapp", "")), "Basic")
