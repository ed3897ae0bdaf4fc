"""What the demo OIDC supplier checks itself: Loper's discovery document and its ID tokens.

authlib's client runs the protocol (authorization URL with PKCE, the token request); these
checks it leaves to its caller. The ID token is validated with joserfc against Loper's JWKS,
with the algorithm pinned here (never taken from discovery), as OIDC Core 3.1.3.7 lists.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64encode

ALGORITHMS = ["RS256"]
"""Pinned: what this supplier registered (id_token_alg), whatever discovery offers."""
LEEWAY = 60
AUTH_TIME_SKEW = 5
"""max_age is checked with a small allowance only (auth_time is in whole seconds)."""
TIMEOUT = 10.0
PROTOCOL_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr",
                             "amr", "azp", "at_hash", "c_hash", "sid", "jti", "nbf"})
"""ID token claims about the token itself; the rest are claims about the person."""


class LoginFailed(Exception):
    """The answer did not pass the supplier's checks; never a login."""


def require(condition: bool, problem: str) -> None:
    if not condition:
        raise LoginFailed(problem)


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    iss_parameter: bool
    """RFC 9207: the provider says it puts `iss` in every authorization response."""
    end_session_endpoint: str | None = None
    """RP-Initiated Logout 1.0 (absent: this provider offers no logout)."""

    @classmethod
    def discover(cls, issuer: str) -> Provider:
        """OIDC Discovery 1.0 section 4; the issuer in the document must be the one we know."""
        answer = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT)
        answer.raise_for_status()
        doc: dict[str, Any] = answer.json()
        require(doc.get("issuer") == issuer, "the discovery document names another issuer")
        require("code" in doc.get("response_types_supported", []), "no code flow offered")
        require("S256" in doc.get("code_challenge_methods_supported", []), "no PKCE S256")
        return cls(issuer, doc["authorization_endpoint"], doc["token_endpoint"],
                   doc["userinfo_endpoint"], doc["jwks_uri"],
                   doc.get("authorization_response_iss_parameter_supported") is True,
                   doc.get("end_session_endpoint"))

    def keys(self) -> KeySet:
        """Read on every login: a demo, and a key rollover needs no restart."""
        answer = requests.get(self.jwks_uri, timeout=TIMEOUT)
        answer.raise_for_status()
        return KeySet.import_key_set(answer.json())


def check_iss(provider: Provider, params: Mapping[str, str]) -> None:
    """RFC 9207 section 2.4: authlib's client does not check it, so the supplier does."""
    iss = params.get("iss")
    require(iss is not None or not provider.iss_parameter, "the answer carries no iss")
    require(iss is None or iss == provider.issuer, "the answer comes from another issuer")


def at_hash(access_token: str) -> str:
    """OIDC Core 3.1.3.6 for RS256: the left half of SHA-256, base64url."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return urlsafe_b64encode(digest[:16]).decode("ascii")


@dataclass(frozen=True)
class Expected:
    issuer: str
    client_id: str
    nonce: str
    max_age: int | None


def verify_id_token(raw: str, keys: KeySet, expected: Expected,
                    access_token: str | None) -> dict[str, Any]:
    """The ID token's claims, after every check of OIDC Core 3.1.3.7 that applies."""
    try:
        token = jwt.decode(raw, keys, algorithms=ALGORITHMS)
    except (JoseError, ValueError) as exc:
        raise LoginFailed(f"the ID token does not verify ({type(exc).__name__})") from exc
    require(token.header.get("alg") in ALGORITHMS, "unexpected ID token algorithm")
    claims = dict(token.claims)
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY, iss={"essential": True, "value": expected.issuer},
        aud={"essential": True, "value": expected.client_id},
        sub={"essential": True}, exp={"essential": True}, iat={"essential": True})
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise LoginFailed(f"the ID token's claims are not acceptable ({exc})") from exc
    aud = claims["aud"]
    require(isinstance(aud, str) or claims.get("azp") == expected.client_id, "azp missing")
    nonce = claims.get("nonce")
    require(isinstance(nonce, str) and hmac.compare_digest(nonce, expected.nonce),
            "the ID token belongs to another login (nonce)")
    if access_token is not None and "at_hash" in claims:
        require(claims["at_hash"] == at_hash(access_token), "at_hash does not match")
    if expected.max_age is not None:  # OIDC Core 3.1.2.1: auth_time is then required
        auth_time = claims.get("auth_time")
        if not isinstance(auth_time, int):
            raise LoginFailed("no auth_time although max_age was asked")
        require(time.time() - auth_time <= expected.max_age + AUTH_TIME_SKEW,
                "the login is older than max_age")
    return claims


def person_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The claims about the person: what Loper released (without the token's own claims)."""
    return {k: v for k, v in claims.items() if k not in PROTOCOL_CLAIMS}
