"""Loper's cookies and their flags.

Over https every cookie is Secure and HttpOnly; the ones that must survive a cross-site POST
(a school's SAML answer, a supplier's POST-binding request) are SameSite=None. Over plain http,
which is accepted on loopback only, Secure is impossible and browsers then refuse
SameSite=None, so they fall back to Lax (loopback ports are one site, so the demo works).
"""

from __future__ import annotations

import re
import secrets

from flask import Request, Response

from broker.settings import Settings

BROWSER = "loper_browser"
SSO = "loper_sso"
LAST_SCHOOL = "loper_school"
LAST_APP = "loper_app"
"""The apps of the last logins this browser started (broker/web/last_app.py): an error page in
the middle of a login whose state is gone (expired, or the store was down) still links back to
the app, when it is sure which."""
_BROWSER_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
"""The shape of secrets.token_urlsafe (ASCII only: str.isalnum would take any script)."""


def _same_site(settings: Settings, cross_site: bool) -> str:
    if cross_site and settings.secure:
        return "None"
    return "Lax"


def cookie_name(settings: Settings, name: str) -> str:
    """Over https every cookie is a __Host- cookie: no sibling subdomain can plant it."""
    return f"__Host-{name}" if settings.secure else name


def read(request: Request, settings: Settings, name: str) -> str:
    return request.cookies.get(cookie_name(settings, name), "")


def set_cookie(response: Response, settings: Settings, name: str, value: str, *,
               max_age: int | None, cross_site: bool) -> None:
    response.set_cookie(cookie_name(settings, name), value, max_age=max_age, path="/",
                        secure=settings.secure, httponly=True,
                        samesite=_same_site(settings, cross_site))


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(cookie_name(settings, name), path="/", secure=settings.secure,
                           httponly=True, samesite=_same_site(settings, True))


def browser_id(request: Request, settings: Settings) -> tuple[str, bool]:
    """This browser's random id, and whether it is new (and must be set on the response)."""
    value = read(request, settings, BROWSER)
    if _BROWSER_ID.fullmatch(value):
        return value, False
    return secrets.token_urlsafe(24), True


def remember_browser(response: Response, settings: Settings, value: str) -> None:
    set_cookie(response, settings, BROWSER, value, max_age=None, cross_site=True)
