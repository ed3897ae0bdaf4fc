"""Client authentication at the token and revocation endpoints.

client_secret_basic and client_secret_post (RFC 6749 2.3.1; constant-time comparison), and
private_key_jwt (OIDC Core 9, RFC 7523): an assertion signed with a key from the supplier's
registered JWKS, with an algorithm from a fixed allow-list, never with a key the assertion
brings along, and never twice (its jti is remembered until it expires).
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import os
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from broker.downstream.oidc_common import OAuthError, header
from broker.downstream.oidc_kind import OidcSupplier, oidc_of
from broker.records import Supplier
from broker.store import StateStore

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGS = ("RS256", "ES256", "PS256")
_KEY_TYPE = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC"}
KEY_CARRYING_HEADERS = ("jwk", "jku", "x5u", "x5c")
LEEWAY = 30
MAX_ASSERTION_LIFETIME = 3600 + LEEWAY
MAX_ASSERTION = 8192
BASIC = {"WWW-Authenticate": 'Basic realm="loper"'}
BEARER = {"WWW-Authenticate": 'Bearer realm="loper"'}
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")


def _fail(description: str, challenge: Mapping[str, str] = BASIC) -> OAuthError:
    """RFC 6749 5.2: invalid_client is a 401 with a challenge for the scheme that was tried."""
    return OAuthError("invalid_client", description, status=401, headers=challenge)


def registered_secret(oidc: OidcSupplier) -> str | None:
    if oidc.client_secret:
        return oidc.client_secret
    if oidc.client_secret_env:
        return os.environ.get(oidc.client_secret_env) or None
    return None


@functools.lru_cache(maxsize=64)
def _keyset(jwks: str) -> KeySet:
    return KeySet.import_key_set(json.loads(jwks))


def _peek(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The assertion's header and claims, not yet verified: only to pick the client and key."""
    if len(assertion) > MAX_ASSERTION:
        raise _fail("The client assertion is too large.", BEARER)
    try:
        obj = jws.extract_compact(assertion.encode("ascii"))
        head, claims = obj.headers(), json.loads(obj.payload or b"")
    except (JoseError, ValueError, UnicodeError) as exc:
        raise _fail("The client assertion is not a signed JWT.", BEARER) from exc
    if head.get("alg") not in ASSERTION_ALGS:
        raise _fail("The client assertion's algorithm is not allowed.", BEARER)
    if any(name in head for name in KEY_CARRYING_HEADERS):
        raise _fail("The client assertion may not carry its own key.", BEARER)
    if not isinstance(claims, dict):
        raise _fail("The client assertion has no claims.", BEARER)
    return head, claims


class ClientAuth:
    def __init__(self, find_client: Callable[[str], Supplier | None],
                 audiences: tuple[str, ...], store: StateStore) -> None:
        self._find_client = find_client
        self._audiences = audiences
        self._store = store

    def authenticate(self, form: Mapping[str, str], headers: Mapping[str, str]) -> Supplier:
        """The authenticated client, or OAuthError (invalid_client: 401)."""
        authorization = header(headers, "Authorization")
        asserted = "client_assertion" in form or "client_assertion_type" in form
        tried = [authorization is not None, "client_secret" in form, asserted]
        if sum(tried) > 1:  # RFC 6749 2.3
            raise OAuthError("invalid_request", "Use exactly one client authentication method.")
        if authorization is not None:
            return self._basic(authorization, form.get("client_id"))
        if "client_secret" in form:
            return self._secret(form.get("client_id", ""), form["client_secret"])
        if asserted:
            return self._assertion(form)
        raise _fail("Client authentication is required.")

    def _client(self, client_id: str,
                challenge: Mapping[str, str]) -> tuple[Supplier, OidcSupplier]:
        supplier = self._find_client(client_id) if client_id else None
        oidc = oidc_of(supplier) if supplier else None
        if supplier is None or oidc is None or oidc.client_id != client_id:
            raise _fail("Client authentication failed.", challenge)
        return supplier, oidc

    def _basic(self, authorization: str, form_client_id: str | None) -> Supplier:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            raise _fail("Only the Basic scheme is accepted in the Authorization header.")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError) as exc:
            raise _fail("The Basic credentials are malformed.") from exc
        client_id, colon, secret = decoded.partition(":")
        client_id, secret = unquote_plus(client_id), unquote_plus(secret)  # RFC 6749 2.3.1
        if not colon or (form_client_id is not None and form_client_id != client_id):
            raise _fail("The Basic credentials are malformed.")
        return self._secret(client_id, secret)

    def _secret(self, client_id: str, secret: str) -> Supplier:
        supplier, oidc = self._client(client_id, BASIC)
        expected = registered_secret(oidc)
        if expected is None or not hmac.compare_digest(secret.encode(), expected.encode()):
            raise _fail("Client authentication failed.")
        return supplier

    def _assertion(self, form: Mapping[str, str]) -> Supplier:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise _fail("client_assertion_type must be the RFC 7523 JWT bearer type.", BEARER)
        assertion = form.get("client_assertion", "")
        head, unverified = _peek(assertion)
        client_id = unverified.get("sub")
        if not isinstance(client_id, str) or form.get("client_id", client_id) != client_id:
            raise _fail("The client assertion names another client.", BEARER)
        supplier, oidc = self._client(client_id, BEARER)
        key = self._key(oidc, head)
        try:
            claims = jwt.decode(assertion, key, algorithms=[head["alg"]]).claims
        except JoseError as exc:
            raise _fail("The client assertion's signature does not verify.", BEARER) from exc
        self._check_claims(claims, client_id)
        return supplier

    def _key(self, oidc: OidcSupplier, head: Mapping[str, Any]) -> Key:
        try:
            keyset = _keyset(oidc.jwks or "")
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise _fail("This client has no usable registered keys.", BEARER) from exc
        alg, kid = head["alg"], head.get("kid")
        usable = [k for k in keyset if k.key_type == _KEY_TYPE[alg]
                  and k.get("use") in (None, "sig") and k.alg in (None, alg)]
        matching = [k for k in usable if kid is None or k.kid == kid]
        if len(matching) != 1:
            raise _fail("No single registered key matches the client assertion.", BEARER)
        return matching[0]

    def _check_claims(self, claims: dict[str, Any], client_id: str) -> None:
        now = int(time.time())
        registry = jwt.JWTClaimsRegistry(
            now=now, leeway=LEEWAY, iss={"essential": True, "value": client_id},
            sub={"essential": True, "value": client_id},
            aud={"essential": True, "values": list(self._audiences)},
            exp={"essential": True}, jti={"essential": True})
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise _fail("The client assertion's claims are not acceptable.", BEARER) from exc
        lifetime = int(claims["exp"]) - now
        if lifetime > MAX_ASSERTION_LIFETIME:
            raise _fail("The client assertion is valid for too long.", BEARER)
        ttl = max(lifetime, 0) + LEEWAY + 1
        if not self._store.remember_once("oidc-client-assertion", f"{client_id}\n{claims['jti']}",
                                         ttl):
            raise _fail("The client assertion was used before.", BEARER)
