"""What protects the admin portal's forms and its login: a CSRF token per session, and
throttling on the state store (failed logins; password reset requests). TOTP: totp.py.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app, request, session
from werkzeug.exceptions import RequestEntityTooLarge

from broker.admin.base import FormExpired, TooLarge, TooManyAttempts, TooManyResetRequests
from broker.web import csrf
from broker.web.client import client_address
from broker.web.current import broker

CSRF_SESSION_KEY = "admin_csrf"
"""The admin session's random binding for broker.web.csrf."""
CSRF_FIELD = csrf.FIELD
BLOCKED, FAILED = "admin-login-blocked", "admin-login-failed"
RESET_REQUESTS = "admin-reset-requests"


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
    """Against session fixation: nothing of the session before the login survives it."""
    lang = session.get("admin_lang")
    session.clear()
    if lang:
        session["admin_lang"] = lang
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


def reset_limits() -> Limits:
    """Password reset requests: per address asked for, and per client address, an hour."""
    found = current_app.config.get("ADMIN_RESET_LIMITS")
    return found if isinstance(found, Limits) else Limits(3, 10, 3600)


def _buckets(account: str, limit: Limits | None = None) -> tuple[tuple[str, int], ...]:
    limit = limit or limits()
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


def count_reset_request(account: str) -> None:
    """Count a password reset request; TooManyAttempts past either limit (nothing is sent)."""
    store, limit = broker().store, reset_limits()
    counts = [store.count_hit(f"{RESET_REQUESTS}:{key}", limit.window) > most
              for key, most in _buckets(account, limit)]
    if any(counts):
        raise TooManyResetRequests(max(1, limit.window // 60))
