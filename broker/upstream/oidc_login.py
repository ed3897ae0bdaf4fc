"""One OIDC login between redirect and callback: what Loper keeps, and the first checks.

The kept state is small (it travels with the pending login): the PKCE verifier, the nonce,
when the login started and whether re-authentication was forced.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from broker import codec
from broker.authlib_client import s256_challenge
from broker.errors import BadRequest, LoginCancelled, UpstreamRejected
from broker.upstream.oidc_provider import ProviderInfo
from broker.upstream.oidc_require import fits

MAX_CODE = 4096


@dataclass(frozen=True)
class LoginState:
    school: str
    verifier: str
    """RFC 7636 code_verifier: 43 to 128 unreserved characters."""
    nonce: str
    started: int
    force: bool
    max_age: int | None
    """The supplier's max_age, passed on to the school (OIDC Core 3.1.2.1)."""

    def challenge(self) -> str:
        """RFC 7636 4.2, S256."""
        return s256_challenge(self.verifier)

    @classmethod
    def read(cls, state: bytes, school_id: str) -> LoginState:
        kept = codec.decode(state, cls)
        if kept is None:
            raise BadRequest("This login's saved state is incomplete; please start the login "
                             "again.")
        if kept.school != school_id:
            raise BadRequest("This login's saved state does not match the school that "
                             "answered; please start the login again.")
        return kept

    def authn_after(self) -> float | None:
        """The earliest authentication the school may answer with, if any is required."""
        if self.force:
            return float(self.started)
        return float(self.started - self.max_age) if self.max_age is not None else None


def new_login_state(school_id: str, force: bool, max_age: int | None = None) -> LoginState:
    return LoginState(school=school_id, verifier=secrets.token_urlsafe(48),
                      nonce=secrets.token_urlsafe(24), started=int(time.time()), force=force,
                      max_age=max_age)


def check_response(params: Mapping[str, str], info: ProviderInfo) -> str:
    """The code from an authorization response (RFC 6749 4.1.2), after the RFC 9207 checks."""
    iss = params.get("iss")
    if iss is None and info.iss_parameter_supported:
        raise UpstreamRejected("The answer carries no issuer (iss), although your school's "
                               "login server says it always sends one (RFC 9207). It may come "
                               "from another server; please start the login again.")
    if iss is not None and iss != info.issuer and not fits(info.template, iss):
        raise UpstreamRejected("The answer names another issuer (iss) than your school's login "
                               "server: it comes from another server (mix-up, RFC 9207).")
    error = params.get("error")
    if error == "access_denied":  # the user pressed Cancel (or refused consent) at the school
        raise LoginCancelled("the school's login server answered access_denied")
    if error is not None:
        raise UpstreamRejected(f"Your school's login server refused the login "
                               f"(error code '{safe_code(error)}').")
    code = params.get("code")
    if not code or len(code) > MAX_CODE:
        raise UpstreamRejected("The answer from your school's login server carries no "
                               "usable login code.")
    return code


def safe_code(value: object) -> str:
    """An error code from the school, reduced to harmless characters."""
    text = re.sub(r"[^A-Za-z0-9_.\-]", "", value if isinstance(value, str) else "")
    return text[:60] or "unknown"
