"""The admin blueprint, its errors, and what every admin view shares: the signed-in admin,
tenant checks, and rendering a page in the admin's language.

Every check that fails raises: an unknown id and another tenant's id look the same (404), so
a school admin learns nothing about other schools.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any, TypeVar, cast

import flask_login
from flask import Blueprint, Response, current_app, render_template, request, session
from flask_login import current_user

from broker.admin import texts
from broker.errors import BrokerError
from broker.mail import Mailer
from broker.records import School, Supplier
from broker.registry.admin_links import AdminLinks
from broker.registry.admins import Admin, Admins
from broker.registry.recovery_codes import RecoveryCodes
from broker.web.current import broker

bp = Blueprint("admin", __name__, url_prefix="/admin")
log = logging.getLogger("loper.admin")
View = TypeVar("View", bound=Callable[..., Any])


def login_required(view: View) -> View:
    """flask-login's decorator, typed: anonymous visitors go to the login page."""
    return cast(View, flask_login.login_required(view))


class AdminError(BrokerError):
    title = "This page cannot be shown"


class NotFound(AdminError):
    status = 404
    code = "not_found"
    title = "Not found"

    def __init__(self) -> None:
        super().__init__("There is no such page here, or it is not yours to see.")


class Forbidden(AdminError):
    status = 403
    code = "forbidden"
    title = "Not allowed"

    def __init__(self) -> None:
        super().__init__("Your admin account may not open this page.")


class FormExpired(AdminError):
    status = 400
    code = "form_expired"
    title = "This form has expired"

    def __init__(self) -> None:
        super().__init__("Nothing was changed. Go back, reload the page and try again.")


class TooManyAttempts(AdminError):
    status = 429
    code = "too_many_attempts"
    title = "Too many attempts"

    def __init__(self, minutes: int) -> None:
        super().__init__(f"Too many failed log-in attempts. Wait {minutes} minutes and try "
                         "again, or ask the federation operator.")


class TooManyResetRequests(AdminError):
    status = 429
    code = "too_many_reset_requests"
    title = "Too many requests"

    def __init__(self, minutes: int) -> None:
        super().__init__(f"Too many password reset requests. Nothing was sent; wait {minutes} "
                         "minutes and try again, or ask the federation operator.")


class TooLarge(AdminError):
    status = 413
    code = "too_large"
    title = "The upload is too large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"Nothing was saved: the upload is larger than {limit // 1024} KB. "
                         "SAML metadata of one supplier or school is far smaller; check that "
                         "you chose the right file.")


def admins() -> Admins:
    found: Admins = current_app.extensions["loper_admins"]
    return found


def links() -> AdminLinks:
    found: AdminLinks = current_app.extensions["loper_admin_links"]
    return found


def recovery_codes() -> RecoveryCodes:
    found: RecoveryCodes = current_app.extensions["loper_recovery_codes"]
    return found


def mailer() -> Mailer:
    found: Mailer = current_app.extensions["loper_mailer"]
    return found


def current_admin() -> Admin:
    """The signed-in admin (views are @login_required)."""
    if not current_user.is_authenticated:
        raise Forbidden()
    admin: Admin = current_user.admin
    return admin


def signed_in() -> Admin | None:
    return current_user.admin if current_user and current_user.is_authenticated else None


def school_or_404(school_id: str) -> School:
    """The school, if the signed-in admin manages it; 404 for unknown ids and other tenants."""
    if not current_admin().can_manage_school(school_id):
        raise NotFound()
    school = broker().registry.school(school_id)
    if school is None:
        raise NotFound()
    return school


def supplier_or_404(supplier_id: str) -> Supplier:
    supplier = broker().registry.supplier(supplier_id)
    if supplier is None:
        raise NotFound()
    return supplier


def operator_only() -> Admin:
    admin = current_admin()
    if not admin.is_operator:
        raise Forbidden()
    return admin


def language() -> str:
    chosen = request.args.get("lang")
    if chosen in texts.LANGUAGES:
        session["admin_lang"] = chosen
        return chosen
    kept = session.get("admin_lang")
    if kept in texts.LANGUAGES:
        return str(kept)
    return request.accept_languages.best_match(texts.LANGUAGES) or "nl"


def page(template: str, status: int = 200, **context: Any) -> Response:
    """Render an admin page; never cached (it shows a school's data)."""
    lang = language()
    html = render_template(template, t=texts.translator(lang), lang=lang, me=signed_in(),
                           attribute_label=texts.attribute_label(lang), **context)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def refused_form(code: str) -> str:
    """Log a refused form (a wrong code...) under a new error id, for the page to show."""
    error_id = secrets.token_hex(6)
    log.warning("form refused", extra={"error_id": error_id, "code": code})
    return error_id


def tr() -> dict[str, str]:
    """The admin texts in the admin's language, for flash messages and form errors."""
    return texts.translator(language())
