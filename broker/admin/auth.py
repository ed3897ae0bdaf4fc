"""Signing in and out of the admin portal (flask-login), and the optional TOTP second factor.

A flask-login session names a server-side admin session in the state store, not the admin
itself: logging out ends it everywhere, a password reset (a new epoch) ends all of them, and
it expires after SESSION_TTL whatever the cookie says.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, flash, redirect, request, session, url_for
from werkzeug.wrappers import Response

from broker.admin import login_door, security, totp
from broker.admin.base import (
    admins,
    bp,
    current_admin,
    login_required,
    page,
    recovery_codes,
    refused_form,
    signed_in,
)
from broker.admin.login_door import AdminSession
from broker.email_address import normalise_email
from broker.jsonvalue import Json, loads_object
from broker.registry.admins import Admin
from broker.registry.recovery_codes import looks_like_code
from broker.web.current import broker
from broker.web.i18n import text

log = logging.getLogger("loper.admin")
SESSION_KIND, SESSION_TTL = "admin-session", 8 * 3600
PENDING_TOTP_KIND, PENDING_TOTP_TTL = "admin-totp-pending", 10 * 60
SECOND_FACTOR_TTL = 5 * 60


def _load(session_id: str) -> AdminSession | None:
    data = broker().store.get_token(SESSION_KIND, session_id)
    doc = loads_object(data) if data is not None else None
    if doc is None:
        return None
    admin_id, epoch = doc.get("admin"), doc.get("epoch")
    admin = admins().get(admin_id) if isinstance(admin_id, int) else None
    if admin is None or admin.epoch != epoch:
        return None
    return AdminSession(admin, session_id)


def _unauthorized() -> Response:
    wanted = request.full_path if request.method == "GET" else None
    return redirect(url_for("admin.login", next=wanted))


def init_app(app: Flask) -> None:
    """Admins sign in to `app` with a session in the state store (Flask-Login's cookie names
    it)."""
    login_door.init_app(app, _load, _unauthorized)


@bp.before_request
def _protect_posts() -> None:
    if request.method == "POST":
        security.check_post()


@bp.context_processor
def _globals() -> dict[str, object]:
    return {"csrf_token": security.csrf_token, "csrf_field": security.CSRF_FIELD,
            "pretty_json": _pretty_json}


def _pretty_json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _safe_next(value: str | None) -> str | None:
    """Only a path inside the admin portal: never another site (no open redirect)."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin/") or "\\" in value:
        return None
    return value.rstrip("?")


def home_url(admin: Admin) -> str:
    if admin.is_operator:
        return url_for("admin.operator")
    if admin.role == "supplier" and admin.supplier_id:
        return url_for("admin.supplier_requests", supplier_id=admin.supplier_id)
    if len(admin.schools) == 1:
        return url_for("admin.school", school_id=next(iter(admin.schools)))
    return url_for("admin.schools")


def sign_in(admin: Admin, next_url: str | None) -> Response:
    security.new_session()
    session_id = secrets.token_urlsafe(32)
    broker().store.put_token(SESSION_KIND, session_id,
                             json.dumps({"admin": admin.id, "epoch": admin.epoch}).encode(),
                             SESSION_TTL)
    login_door.sign_in(AdminSession(admin, session_id))
    log.info("admin signed in", extra={"admin": admin.id, "role": admin.role})
    return redirect(_safe_next(next_url) or home_url(admin))


@bp.get("/")
@login_required
def index() -> Response:
    return redirect(home_url(current_admin()))


@bp.get("/login")
def login() -> Response:
    me = signed_in()
    if me is not None:
        return redirect(home_url(me))
    return page("admin/login.html", next=_safe_next(request.args.get("next")))


@bp.post("/login")
def login_post() -> Response:
    email = normalise_email(request.form.get("email", ""))[:254]
    password = request.form.get("password", "")
    next_url = _safe_next(request.form.get("next"))
    security.refuse_if_throttled(email)
    admin = admins().check_password(email, password) if email and password else None
    if admin is None:
        security.count_failure(email)
        log.warning("admin sign-in failed", extra={"address": request.remote_addr})
        return page("admin/login.html", 400, error=text("admin.login_failed"), email=email,
                    next=next_url)
    if admin.totp_enabled:
        security.new_session()
        session["admin_2fa"] = {"id": admin.id, "epoch": admin.epoch, "at": int(time.time()),
                                "email": email, "next": next_url}
        return redirect(url_for("admin.login_code"))
    return sign_in(admin, next_url)


@dataclass(frozen=True)
class _PendingSecondFactor:
    """A password that was right, kept in the Flask session until the code is typed."""

    admin_id: int
    epoch: int
    email: str
    next_url: str | None


def _pending_second_factor() -> _PendingSecondFactor | None:
    pending: Json = session.get("admin_2fa")
    if not isinstance(pending, dict):
        return None
    at, admin_id, epoch = pending.get("at", 0), pending.get("id"), pending.get("epoch")
    email, next_url = pending.get("email"), pending.get("next")
    if (not isinstance(at, int | float) or time.time() - at > SECOND_FACTOR_TTL
            or not isinstance(admin_id, int) or not isinstance(epoch, int)
            or not isinstance(email, str) or not isinstance(next_url, str | None)):
        return None
    return _PendingSecondFactor(admin_id, epoch, email, next_url)


@bp.get("/login/code")
def login_code() -> Response:
    if _pending_second_factor() is None:
        return redirect(url_for("admin.login"))
    return page("admin/login_code.html")


@bp.post("/login/code")
def login_code_post() -> Response:
    pending = _pending_second_factor()
    if pending is None:
        return redirect(url_for("admin.login"))
    security.refuse_if_throttled(pending.email)
    admin = admins().get(pending.admin_id)
    code = request.form.get("code", "")[:64]
    if admin is None or admin.epoch != pending.epoch or not admin.totp_enabled or not (
            totp.second_factor_ok(admin, code)):
        security.count_failure(pending.email)
        return page("admin/login_code.html", 400, error=text("admin.code_wrong"),
                    error_id=refused_form("code_wrong"))
    response = sign_in(admin, pending.next_url)
    if looks_like_code(code):
        flash(text("admin.recovery_used", n=recovery_codes().left(admin.id)))
    return response


@bp.get("/logout")
def logout_page() -> Response:
    """/admin/logout typed into the address bar: a button to log out (a GET must not end a
    session: any page could make the browser fetch it), or the login page if signed out."""
    if login_door.signed_in() is None:
        return redirect(url_for("admin.login"))
    return page("admin/logout.html")


@bp.post("/logout")
def logout() -> Response:
    me = login_door.signed_in()
    if me is not None:
        broker().store.delete_token(SESSION_KIND, me.session_id)
    login_door.sign_out()
    security.new_session()
    flash(text("admin.logged_out"))
    return redirect(url_for("admin.login"))


# -- The admin's own account: the TOTP second factor ---------------------------------------------

@bp.get("/account")
@login_required
def account() -> Response:
    return _account_page()


def _account_page(status: int = 200, **context: object) -> Response:
    me = current_admin()
    pending = broker().store.get_token(PENDING_TOTP_KIND, str(me.id))
    left = recovery_codes().left(me.id) if me.totp_enabled else None
    found = (broker().registry.school(school_id) for school_id in me.schools)
    schools = sorted(school.name for school in found if school is not None)
    return page("admin/account.html", status, enrolling=pending is not None, codes_left=left,
                school_names=schools, **context)


@bp.post("/account/totp")
@login_required
def account_totp() -> Response:
    admin, store = current_admin(), broker().store
    action, code = request.form.get("action"), request.form.get("code", "")[:64]
    key = str(admin.id)
    if action == "start":
        secret = totp.new_secret()
        store.put_token(PENDING_TOTP_KIND, key, secret.encode(), PENDING_TOTP_TTL)
        uri = totp.uri(secret, admin.email)
        qr = totp.qr_svg(uri, text("admin.totp_qr_title"))
        return _account_page(secret=secret, uri=uri, qr=qr)
    if action == "confirm":
        pending = store.get_token(PENDING_TOTP_KIND, key)
        if pending is None or not totp.code_ok(admin.id, pending.decode(), code):
            return _account_page(400, error=text("admin.code_wrong"),
                                 error_id=refused_form("code_wrong"))
        admins().set_totp(admin.id, pending.decode(), by=admin.email)
        store.delete_token(PENDING_TOTP_KIND, key)
        codes = recovery_codes().replace(admin.id, by=admin.email)
        log.info("admin second factor on", extra={"admin": admin.id})
        return page("admin/recovery_codes.html", codes=codes, enabled=True)
    if action not in ("new_codes", "disable"):
        return redirect(url_for("admin.account"))
    current = totp.current_secret(admin)
    if current is None or not totp.code_ok(admin.id, current, code):
        return _account_page(400, error=text("admin.code_wrong"),
                             error_id=refused_form("code_wrong"))
    if action == "new_codes":
        return page("admin/recovery_codes.html",
                    codes=recovery_codes().replace(admin.id, by=admin.email))
    admins().set_totp(admin.id, None, by=admin.email)
    flash(text("admin.totp_disabled"))
    return redirect(url_for("admin.account"))
