"""The admin blueprint, its errors, and what every admin view shares: the signed-in admin,
tenant checks, and rendering a page in the admin's language.

Every check that fails raises: an unknown id and another tenant's id look the same (404), so
a school admin learns nothing about other schools.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from flask import Blueprint, Response, render_template, request

from broker.admin import login_door
from broker.admin.login_door import login_required as login_required  # every admin view's
from broker.errors import BrokerError
from broker.mail import Mailer
from broker.records import School, Supplier
from broker.registry.admin_links import AdminLinks
from broker.registry.admins import Admin, Admins
from broker.registry.recovery_codes import RecoveryCodes
from broker.web.current import broker
from broker.web.flask_door import Extension

if TYPE_CHECKING:
    from broker.web.errors import Shown

bp = Blueprint("admin", __name__, url_prefix="/admin")
log = logging.getLogger("loper.admin")

ADMINS = Extension[Admins]("loper_admins")
LINKS = Extension[AdminLinks]("loper_admin_links")
RECOVERY_CODES = Extension[RecoveryCodes]("loper_recovery_codes")
MAILER = Extension[Mailer]("loper_mailer")
"""What broker/admin/__init__.py builds for the app, beside its Broker."""


class AdminError(BrokerError):
    """An error in the admin portal: shown inside the portal's layout (admin_error_page)."""


class NotFound(AdminError):
    status = 404
    code = "not_found"

    def __init__(self) -> None:
        super().__init__("no such page, or not this admin's")


class Forbidden(AdminError):
    status = 403
    code = "forbidden"

    def __init__(self) -> None:
        super().__init__("this admin account may not open this page")


class FormExpired(AdminError):
    status = 400
    code = "form_expired"

    def __init__(self) -> None:
        super().__init__("the form's CSRF token is missing or expired")


class TooManyAttempts(AdminError):
    status = 429
    code = "too_many_attempts"

    def __init__(self, minutes: int) -> None:
        super().__init__("too many failed sign-ins", params={"minutes": str(minutes)})


class TooManyResetRequests(AdminError):
    status = 429
    code = "too_many_reset_requests"

    def __init__(self, minutes: int) -> None:
        super().__init__("too many password reset requests", params={"minutes": str(minutes)})


class TooLarge(AdminError):
    status = 413
    code = "too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"upload larger than {limit} bytes", params={"kb": str(limit // 1024)})


def admins() -> Admins:
    return ADMINS.get()


def links() -> AdminLinks:
    return LINKS.get()


def recovery_codes() -> RecoveryCodes:
    return RECOVERY_CODES.get()


def mailer() -> Mailer:
    return MAILER.get()


def current_admin() -> Admin:
    """The signed-in admin (views are @login_required)."""
    session = login_door.signed_in()
    if session is None:
        raise Forbidden()
    return session.admin


def signed_in() -> Admin | None:
    session = login_door.signed_in()
    return session.admin if session is not None else None


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


def uploaded(field: str, at_most: int) -> bytes | None:
    """At most `at_most` bytes of the file posted as `field`; None when no file was chosen."""
    file = request.files.get(field)
    if file is None or not file.filename:
        return None
    return file.stream.read(at_most)


def page(template: str, status: int = 200, **context: object) -> Response:
    """Render an admin page; never cached (it shows a school's data)."""
    html = render_template(template, me=signed_in(), **context)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def refused_form(code: str) -> str:
    """Log a refused form (a wrong code...) under a new error id, for the page to show."""
    error_id = secrets.token_hex(6)
    log.warning("form refused", extra={"error_id": error_id, "code": code})
    return error_id


def admin_error_page(shown: Shown, error_id: str) -> Response:
    """An error page inside the portal: its header, navigation and language link stay (also
    for a URL no admin view answers, where the blueprint's context is not there)."""
    from broker.admin import security

    return page("admin/error.html", shown.status, shown=shown, error_id=error_id,
                csrf_token=security.csrf_token, csrf_field=security.CSRF_FIELD)
