"""Validating a school's ID token (OIDC Core 3.1.3.7): the signature with joserfc, the claims
with authlib's CodeIDToken.

The signature algorithms are pinned per school in the registry, never read from the school's
discovery document; `none` and the HMAC family are refused whatever the configuration says
(an HMAC "signed" with the public key is the classic key-confusion attack). Messages name the
check that failed, never a claim's value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeGuard

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry, extract_compact

from broker.authlib_client import ESSENTIAL_CLAIMS, check_code_id_token
from broker.errors import UpstreamRejected
from broker.upstream.oidc_require import issuer_for

KeyLookup = Callable[[str | None], KeySet]
"""The school's signing keys, given the token's key id (the JWKS may be read again)."""

_CLAIM_PROBLEMS = {
    "iss": "was issued by another server than your school's login server (iss)",
    "aud": "is meant for another application than Loper (aud)",
    "azp": "was issued to another application than Loper (azp)",
    "exp": "has expired; check the clock of your school's login server (exp)",
    "iat": "is dated in the future; check the clock of your school's login server (iat)",
    "nbf": "is not valid yet; check the clock of your school's login server (nbf)",
    "sub": "names no user (sub)",
    "nonce": "does not belong to this login (nonce); please start the login again",
    "auth_time": "does not show when the user logged in (auth_time)",
    "at_hash": "belongs to another access token than the one sent with it (at_hash)",
}


@dataclass(frozen=True)
class Expected:
    issuer: str
    """May be a multi-tenant template: the token's own `tid` fills in {tenantid}."""
    client_id: str
    nonce: str
    algorithms: tuple[str, ...]
    """As pinned for the school; `none` and HS* are dropped here."""
    skew: int
    authn_after: float | None = None
    """With forced re-authentication: the user must have logged in after this instant."""


def usable_algorithms(pinned: tuple[str, ...]) -> list[str]:
    usable = [alg for alg in pinned if alg in JWSRegistry.algorithms
              and alg != "none" and not alg.upper().startswith("HS")]
    if not usable:
        raise UpstreamRejected("No usable signature algorithm is configured for your school "
                               "(for example RS256); the federation operator must set one.")
    return usable


def verify_id_token(raw: str, keys: KeyLookup, expected: Expected, now: float,
                    access_token: str | None = None) -> dict[str, object]:
    """The ID token's claims after checking signature, issuer, audience, times and nonce."""
    allowed = usable_algorithms(expected.algorithms)
    header = _header(raw)
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in allowed:
        raise UpstreamRejected(f"Your school's login server signed the ID token with "
                               f"{_shown(alg)}; for your school Loper accepts only "
                               f"{', '.join(allowed)}.")
    if kid is not None and not isinstance(kid, str):
        raise _malformed()
    registry = JWSRegistry(algorithms=allowed, strict_check_header=False)
    try:
        token = jwt.decode(raw, keys(kid), algorithms=allowed, registry=registry)
    except BadSignatureError as exc:
        raise UpstreamRejected("The signature of the ID token from your school's login server "
                               "does not match its published keys.") from exc
    except InvalidKeyIdError as exc:
        raise UpstreamRejected("The ID token from your school's login server is signed with a "
                               "key (kid) that the server does not publish in its JWKS.") from exc
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise _malformed() from exc
    claims: dict[str, object] = dict(token.claims)
    check_claims(claims, dict(token.header), expected, now, access_token)
    return claims


def check_claims(claims: dict[str, object], header: dict[str, object], expected: Expected,
                 now: float, access_token: str | None) -> None:
    """authlib's checks for an ID token of the code flow (OIDC Core 3.1.3.7: iss, aud, azp,
    exp, iat, nbf, nonce, at_hash), then Loper's own for auth_time."""
    try:
        check_code_id_token(claims, header, issuer=issuer_for(expected.issuer, claims),
                            client_id=expected.client_id, nonce=expected.nonce,
                            access_token=access_token, now=int(now), leeway=expected.skew)
    except ExpiredTokenError as exc:
        raise _claim_problem("exp") from exc
    except MissingClaimError as exc:
        if exc.claim in ESSENTIAL_CLAIMS:
            raise UpstreamRejected("The ID token from your school's login server lacks "
                                   f"required claims: {exc.claim}.") from exc
        raise _claim_problem(exc.claim) from exc
    except ClaimError as exc:
        raise _claim_problem(exc.claim) from exc
    _check_auth_time(claims, expected)


def _check_auth_time(claims: Mapping[str, object], expected: Expected) -> None:
    """OIDC Core 3.1.2.1 max_age: authlib only asks that auth_time be there (not for max_age=0),
    never that it be recent enough."""
    auth_time = claims.get("auth_time")
    if auth_time is None and expected.authn_after is None:
        return
    if not is_time(auth_time):
        raise _claim_problem("auth_time")
    if expected.authn_after is not None and auth_time < expected.authn_after - expected.skew:
        raise UpstreamRejected("Loper asked your school for a recent login, but your school's "
                               "login server answered with an earlier one (auth_time).")


def is_time(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _header(raw: str) -> dict[str, object]:
    try:
        header = extract_compact(raw.encode("ascii")).headers()
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise _malformed() from exc
    return dict(header)


def _shown(alg: object) -> str:
    ok = isinstance(alg, str) and alg.isalnum() and len(alg) <= 10
    return f"algorithm {alg}" if ok else "an unknown algorithm"


def _malformed() -> UpstreamRejected:
    return UpstreamRejected("The ID token from your school's login server is malformed.")


def _claim_problem(claim: str) -> UpstreamRejected:
    names = claim.split(",")
    reasons = [_CLAIM_PROBLEMS.get(name, f"has an invalid '{name[:40]}' claim") for name in names]
    return UpstreamRejected("The ID token from your school's login server "
                            + "; and it ".join(reasons) + ".")
