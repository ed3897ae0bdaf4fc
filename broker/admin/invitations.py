"""A school's admins: the operator and the school's own admins see them, invite new ones by
e-mail and remove them; an invited admin opens their link, chooses a password and is in.

Without a mail server (settings smtp_host) the link is shown to the admin who invited.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from broker.admin import auth
from broker.admin.base import (
    AdminError,
    admins,
    bp,
    current_admin,
    links,
    login_required,
    mailer,
    page,
    school_or_404,
    tr,
)
from broker.admin.texts_accounts import INVITE_BODY, INVITE_SUBJECT
from broker.mail import MailFailed
from broker.registry.admin_links import INVITE, Link, LinkRefused, new_token
from broker.registry.admins import MIN_PASSWORD, AlreadyAdmin, password_problem
from broker.registry.school_admins import of_school, remove_from_school
from broker.web.current import broker

log = logging.getLogger("loper.admin")


class LinkUnusable(AdminError):
    title = "This link cannot be used"
    _TEXT = {
        "unknown": (404, "This link is not known here. Check that you opened the whole link "
                         "from the e-mail, or ask for a new one."),
        "used": (410, "This link has been used already: each link works once. Log in, or ask "
                      "for a new link."),
        "expired": (410, "This link has expired. Ask the admin who invited you for a new "
                         "invitation, or use \"Forgot your password?\" on the login page."),
    }

    def __init__(self, reason: str) -> None:
        self.status, message = self._TEXT.get(reason, self._TEXT["unknown"])
        self.code = f"link_{reason}"
        super().__init__(message)


class AlreadyAnAdmin(AdminError):
    status = 409
    code = "already_admin"
    title = "Already an admin"

    def __init__(self) -> None:
        super().__init__("This e-mail address belongs to an admin account already. Nothing "
                         "was sent. An admin of several schools is set up by the federation "
                         "operator.")


class MailNotSent(AdminError):
    status = 502
    code = "mail_failed"
    title = "The e-mail could not be sent"

    def __init__(self) -> None:
        super().__init__("The mail server did not take the message, so no invitation was "
                         "made. Try again later; if it keeps happening, tell the federation "
                         "operator.")


class CannotRemove(AdminError):
    status = 403
    code = "cannot_remove"
    title = "Not allowed"

    def __init__(self, message: str) -> None:
        super().__init__(message)


def _school_admins_page(school_id: str, status: int = 200, **context: object) -> Response:
    school = school_or_404(school_id)
    return page("admin/school_admins.html", status, school=school,
                admins=of_school(admins(), school_id), invitations=links().pending(school_id),
                mail=mailer().configured, hours=broker().settings.invitation_ttl // 3600,
                **context)


@bp.get("/schools/<school_id>/admins")
@login_required
def school_admins(school_id: str) -> Response:
    return _school_admins_page(school_id)


def until(ttl: int) -> str:
    """When a link made now expires, as a mail states it (UTC)."""
    return (datetime.now(UTC) + timedelta(seconds=ttl)).strftime("%Y-%m-%d %H:%M")


@bp.post("/schools/<school_id>/admins/invite")
@login_required
def invite(school_id: str) -> Response:
    school, me, t = school_or_404(school_id), current_admin(), tr()
    try:
        email = links().check_invite(request.form.get("email", "")[:254], school_id)
    except AlreadyAdmin as exc:
        raise AlreadyAnAdmin() from exc
    except ValueError:
        return _school_admins_page(school_id, 400, error=t["invite_bad_email"])
    token, settings = new_token(), broker().settings
    link = settings.url(url_for("admin.accept", token=token))
    if mailer().configured:
        body = INVITE_BODY.format(by=me.email, school=school.name, link=link,
                                  until=until(settings.invitation_ttl))
        try:
            mailer().send(email, INVITE_SUBJECT, body)
        except MailFailed as exc:
            raise MailNotSent() from exc
    links().invite(token, email, school_id, by=me.email, ttl=settings.invitation_ttl)
    log.info("admin invited", extra={"admin": me.id, "school": school_id})
    if not mailer().configured:
        return _school_admins_page(school_id, shown_link=link, shown_email=email)
    flash(t["invite_sent"].format(email=email))
    return redirect(url_for("admin.school_admins", school_id=school_id))


@bp.post("/schools/<school_id>/admins/withdraw")
@login_required
def withdraw(school_id: str) -> Response:
    school_or_404(school_id)
    if links().withdraw(request.form.get("email", "")[:254], school_id,
                        by=current_admin().email):
        flash(tr()["withdrawn"])
    return redirect(url_for("admin.school_admins", school_id=school_id))


@bp.post("/schools/<school_id>/admins/<int:admin_id>/remove")
@login_required
def remove_admin(school_id: str, admin_id: int) -> Response:
    school, me = school_or_404(school_id), current_admin()
    target = admins().get(admin_id)
    if target is None or target.role != "school" or school_id not in target.schools:
        raise CannotRemove("Only school admins of this school can be removed here. The "
                           "federation operator manages operators and supplier admins.")
    if target.id == me.id:
        raise CannotRemove("You cannot remove yourself. Ask another admin of your school or "
                           "the federation operator.")
    remove_from_school(admins(), admin_id, school_id, by=me.email)
    log.info("admin removed", extra={"admin": me.id, "school": school_id, "removed": admin_id})
    flash(tr()["removed_admin"].format(email=target.email, school=school.name))
    return redirect(url_for("admin.school_admins", school_id=school_id))


# -- The invited admin ---------------------------------------------------------------------------

def _password_error(password: str, again: str) -> str | None:
    """What is wrong with a chosen password, in the admin's language (the CLI's rules)."""
    t = tr()
    if password != again:
        return t["password_mismatch"]
    wrong = password_problem(password)
    if wrong is None:
        return None
    return t["password_short" if "shorter" in wrong else "password_long"].format(n=MIN_PASSWORD)


def chosen_password(purpose: str, email: str, **context: Any) -> str | Response:
    """The set-password form of an invitation or reset link: on GET the form; on POST the
    password chosen, or the form again saying what is wrong (nothing is spent then)."""
    context |= {"purpose": purpose, "email": email, "min_password": MIN_PASSWORD}
    if request.method == "GET":
        return page("admin/set_password.html", **context)
    password, again = request.form.get("password", ""), request.form.get("password2", "")
    problem = _password_error(password, again)
    if problem:
        return page("admin/set_password.html", 400, error=problem, **context)
    return password


def peek(token: str, purpose: str) -> Link:
    """The link, if it still works; LinkUnusable (an error page with its id) otherwise."""
    try:
        return links().peek(token, purpose)
    except LinkRefused as exc:
        raise LinkUnusable(exc.reason) from exc


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept(token: str) -> Response:
    link = peek(token, INVITE)
    school = broker().registry.school(link.school_id or "")
    password = chosen_password(INVITE, link.email, school_name=school.name if school else "")
    if isinstance(password, Response):
        return password
    try:
        admin = links().accept(token, password)
    except LinkRefused as exc:
        raise LinkUnusable(exc.reason) from exc
    except AlreadyAdmin as exc:
        raise AlreadyAnAdmin() from exc
    log.info("admin invitation accepted", extra={"admin": admin.id})
    response = auth.sign_in(admin, url_for("admin.account"))
    flash(tr()["welcome"])
    return response
