"""The supplier's relying party as authlib's client, and client authentication at the token and
revocation endpoints: client_secret_basic and client_secret_post (RFC 6749 2.3.1; constant-time
comparison) and private_key_jwt (OIDC Core 9, RFC 7523, authlib's JWTBearerClientAssertion).

Loper's stricter rules, supplied through authlib's hooks: Basic credentials are form-encoded
(authlib decodes `+` as itself); an assertion is signed with one key of the supplier's registered
JWKS, with an algorithm from a fixed allow-list, never with a key the assertion brings along, is
valid for an hour at most and is accepted once (its jti is remembered until it expires).
"""

from __future__ import annotations

import base64
import functools
import hmac
import os
import time
from collections.abc import Callable, Collection, Mapping
from typing import Protocol
from urllib.parse import unquote_plus

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from broker.authlib_extensions import AUTH_METHODS, OAuthError
from broker.downstream.oidc_common import SCOPES, header
from broker.downstream.oidc_kind import OidcSupplier, oidc_of
from broker.jsonvalue import loads_key_set
from broker.records import Supplier
from broker.store import StateStore

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"  # RFC 7523 2.2
ASSERTION_ALGS = ("RS256", "ES256", "PS256")
_KEY_TYPE = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC"}
KEY_CARRYING_HEADERS = ("jwk", "jku", "x5u", "x5c")
LEEWAY = 30
MAX_ASSERTION_LIFETIME = 3600 + LEEWAY
MAX_ASSERTION = 8192
_SECRET_METHODS = AUTH_METHODS[:2]


class AuthRequest(Protocol):
    """What client authentication reads of authlib's OAuth2Request."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def form(self) -> Mapping[str, str]: ...


def registered_secret(oidc: OidcSupplier) -> str | None:
    if oidc.client_secret:
        return oidc.client_secret
    if oidc.client_secret_env:
        return os.environ.get(oidc.client_secret_env) or None
    return None


class Client:
    """A registered OIDC supplier, as authlib asks about it (its ClientMixin's methods)."""

    def __init__(self, supplier: Supplier, oidc: OidcSupplier) -> None:
        self.supplier = supplier
        self.oidc = oidc
        self.client_id = oidc.client_id

    def get_client_id(self) -> str:
        return self.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        expected = registered_secret(self.oidc)
        return expected is not None and hmac.compare_digest(client_secret.encode(),
                                                            expected.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if method == "private_key_jwt":
            return bool(self.oidc.jwks)
        return method in _SECRET_METHODS and registered_secret(self.oidc) is not None

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code" or (
            grant_type == "refresh_token" and self.oidc.offline_access)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """RFC 6749 3.1.2.3 / RFC 9700 4.1.3: simple string comparison, nothing normalised."""
        return redirect_uri in self.oidc.redirect_uris

    def get_default_redirect_uri(self) -> None:
        return None  # OIDC Core 3.1.2.1: redirect_uri is required, even with one registered

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """openid is required; unknown scopes are ignored (RFC 6749 3.3), and offline_access
        too for a client that may not use refresh tokens."""
        asked = (scope or "").split()
        if "openid" not in asked:
            return None
        return " ".join(s for s in SCOPES if s in asked and (
            s != "offline_access" or self.oidc.offline_access))

    def signing_alg(self, offered: Collection[str]) -> str:
        """The client's ID token algorithm; no code or token for a client whose algorithm is
        not offered."""
        if self.oidc.id_token_alg not in offered:
            raise OAuthError("server_error",
                             "The ID token algorithm of this client is not offered.", 500)
        return self.oidc.id_token_alg


def client_finder(find: Callable[[str], Supplier | None]) -> Callable[[str], Client | None]:
    """authlib's query_client over the registry (the client_id must match exactly)."""
    def query_client(client_id: str) -> Client | None:
        supplier = find(client_id) if client_id else None
        oidc = oidc_of(supplier) if supplier else None
        if supplier is None or oidc is None or oidc.client_id != client_id:
            return None
        return Client(supplier, oidc)
    return query_client


def check_methods(form: Mapping[str, str], headers: Mapping[str, str],
                  repeated: Collection[str]) -> None:
    """RFC 6749 3.2 and 2.3: no parameter twice, one authentication method at a time (authlib
    checks neither at the token endpoint)."""
    if repeated:
        raise OAuthError("invalid_request", "A request parameter is repeated.")
    asserted = "client_assertion" in form or "client_assertion_type" in form
    if sum((header(headers, "Authorization") is not None, "client_secret" in form, asserted)) > 1:
        raise OAuthError("invalid_request", "Use exactly one client authentication method.")


def authenticate_basic(query_client: Callable[[str], Client | None],
                       request: AuthRequest) -> Client | None:
    """client_secret_basic: the credentials are form-encoded before Basic (RFC 6749 2.3.1), and
    a client_id in the form must name the same client."""
    scheme, _, value = (request.headers.get("Authorization") or "").strip().partition(" ")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    if scheme.lower() != "basic" or not colon or (
            request.form.get("client_id", client_id) != client_id):
        return None
    client = query_client(client_id)
    return client if client is not None and client.check_client_secret(secret) else None


def _fail(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401)


@functools.lru_cache(maxsize=64)
def _keyset(jwks: str) -> KeySet:
    return KeySet.import_key_set(loads_key_set(jwks))


class Assertions:
    """private_key_jwt: Loper's allow-list, key choice, lifetime cap and replay check, which
    authlib's JWTBearerClientAssertion asks for (authlib_extensions)."""

    leeway = LEEWAY

    def __init__(self, audiences: tuple[str, ...], store: StateStore) -> None:
        self.audiences = audiences
        self._store = store

    def check_size(self, assertion: str) -> None:
        if len(assertion) > MAX_ASSERTION:
            raise _fail("The client assertion is too large.")

    def check_header(self, head: Mapping[str, object]) -> None:
        if head.get("alg") not in ASSERTION_ALGS:
            raise _fail("The client assertion's algorithm is not allowed.")
        if any(name in head for name in KEY_CARRYING_HEADERS):
            raise _fail("The client assertion may not carry its own key.")

    def keys(self, client: Client) -> KeySet:
        try:
            return _keyset(client.oidc.jwks or "")
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise _fail("This client has no usable registered keys.") from exc

    def verify(self, assertion: str, keys: KeySet) -> dict[str, object]:
        """Verified with the one registered key that fits its alg and kid, that alg only."""
        head: dict[str, object] = jws.extract_compact(assertion.encode("ascii")).headers()
        alg, kid = str(head["alg"]), head.get("kid")  # alg: one of ASSERTION_ALGS, checked above
        usable = [k for k in keys if k.key_type == _KEY_TYPE[alg]
                  and k.get("use") in (None, "sig") and k.alg in (None, alg)]
        matching: list[Key] = [k for k in usable if kid is None or k.kid == kid]
        if len(matching) != 1:
            raise _fail("No single registered key matches the client assertion.")
        try:
            claims: dict[str, object] = jwt.decode(assertion, matching[0], algorithms=[alg]).claims
        except JoseError as exc:
            raise _fail("The client assertion's signature does not verify.") from exc
        return claims

    def once(self, claims: Mapping[str, object], jti: str) -> bool:
        exp = claims.get("exp")  # a number: authlib's verify_claims checked it
        lifetime = (int(exp) if isinstance(exp, int | float) else 0) - int(time.time())
        if lifetime > MAX_ASSERTION_LIFETIME:
            raise _fail("The client assertion is valid for too long.")
        return self._store.remember_once("oidc-client-assertion", f"{claims['sub']}\n{jti}",
                                         max(lifetime, 0) + LEEWAY + 1)
