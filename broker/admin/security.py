"""What protects the admin portal's forms and its login: a CSRF token per session, login
throttling on the state store, and TOTP codes (RFC 6238) that work once.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

import pyotp
from flask import current_app, request, session
from werkzeug.exceptions import RequestEntityTooLarge

from broker.admin.base import FormExpired, TooLarge, TooManyAttempts
from broker.web import csrf
from broker.web.client import client_address
from broker.web.current import broker

CSRF_SESSION_KEY = "admin_csrf"
"""The admin session's random binding for broker.web.csrf."""
CSRF_FIELD = csrf.FIELD
BLOCKED, FAILED = "admin-login-blocked", "admin-login-failed"
TOTP_USED = "admin-totp-used"


# -- CSRF (broker.web.csrf), bound to a random value in the (signed) session ----------------------

def csrf_token() -> str:
    binding = session.get(CSRF_SESSION_KEY)
    if not isinstance(binding, str) or len(binding) < 32:
        binding = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = binding
    return csrf.token("admin", binding)


def check_post() -> None:
    """Every POST: the body within the size cap, and the session's CSRF token in the form."""
    try:
        request.form, request.files  # noqa: B018  (parse now, so an oversized upload fails here)
    except RequestEntityTooLarge as exc:
        raise TooLarge(current_app.config.get("MAX_CONTENT_LENGTH") or 0) from exc
    if not csrf.valid("admin", session.get(CSRF_SESSION_KEY)):
        raise FormExpired()


def new_session() -> None:
    """Against session fixation: nothing of the session before the login survives it (the
    language choice is a cookie of its own, broker/web/i18n.py)."""
    session.clear()
    session[CSRF_SESSION_KEY] = secrets.token_urlsafe(32)


# -- Login throttling: per account and per client address ----------------------------------------

@dataclass(frozen=True)
class Limits:
    per_account: int = 5
    per_address: int = 20
    window: int = 15 * 60


def limits() -> Limits:
    found = current_app.config.get("ADMIN_LOGIN_LIMITS")
    return found if isinstance(found, Limits) else Limits()


def _buckets(account: str) -> tuple[tuple[str, int], ...]:
    limit = limits()
    return ((f"account:{account[:254]}", limit.per_account),
            (f"address:{client_address()}", limit.per_address))


def refuse_if_throttled(account: str) -> None:
    store = broker().store
    for key, _ in _buckets(account):
        if store.get_token(BLOCKED, key) is not None:
            raise TooManyAttempts(max(1, limits().window // 60))


def count_failure(account: str) -> None:
    store, window = broker().store, limits().window
    for key, limit in _buckets(account):
        if store.count_hit(f"{FAILED}:{key}", window) >= limit:
            store.put_token(BLOCKED, key, b"1", window)


# -- TOTP -----------------------------------------------------------------------------------------

def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="Loper")


def totp_ok(admin_id: int, secret: str, code: str) -> bool:
    """A 6-digit code of this or a neighbouring 30 s step, not used before by this admin."""
    code = code.replace(" ", "").strip()
    if len(code) != 6 or not code.isdigit():
        return False
    totp, now = pyotp.TOTP(secret), time.time()
    step = int(now // totp.interval)
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.generate_otp(step + offset), code):
            return broker().store.remember_once(TOTP_USED, f"{admin_id}:{step + offset}",
                                                4 * totp.interval)
    return False
