"""A school's admins: the operator and the school's own admins see them, invite new ones by
e-mail and remove them; an invited admin opens their link, chooses a password and is in.

Without a mail server (settings smtp_host) the link is shown to the admin who invited.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

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
)
from broker.email_address import MAX_EMAIL
from broker.mail import MailFailed
from broker.registry.admin_links import INVITE, Link, LinkRefused, new_token
from broker.registry.admins import MIN_PASSWORD, AlreadyAdmin, password_problem
from broker.registry.school_admins import of_school, remove_from_school, was_removed
from broker.web.current import broker
from broker.web.i18n import in_both_languages, say, text

log = logging.getLogger("loper.admin")


MAIL_BETWEEN = "\n\n---\n\n"
"""Between the Dutch and the English of a mail: who gets it may read either."""


class LinkUnusable(AdminError):
    """An invitation or reset link that is unknown (its code: link_unknown), used or expired."""

    status = 404
    code = "link_unknown"

    def __init__(self, reason: str) -> None:
        if reason == "used":
            super().__init__("link used already", code="link_used")
        elif reason == "expired":
            super().__init__("link expired", code="link_expired")
        else:
            super().__init__(f"link not known ({reason})")
        if reason in ("used", "expired"):
            self.status = 410


class AlreadyAnAdmin(AdminError):
    status = 409
    code = "already_admin"

    def __init__(self) -> None:
        super().__init__("the invited address belongs to an admin account already")


class MailNotSent(AdminError):
    status = 502
    code = "mail_failed"

    def __init__(self) -> None:
        super().__init__("the mail server did not take the invitation")


class CannotRemove(AdminError):
    status = 403
    code = "cannot_remove"

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


def _invite_refused(school_id: str, status: int, error: str, typed: str) -> Response:
    """The admins page again, saying beside the form (what was typed still in it) why the
    address was not invited."""
    return _school_admins_page(school_id, status, error=error, typed=typed[:MAX_EMAIL])


@bp.post("/schools/<school_id>/admins/invite")
@login_required
def invite(school_id: str) -> Response:
    school, me = school_or_404(school_id), current_admin()
    typed = request.form.get("email", "")
    try:
        email = links().check_invite(typed, school_id)
    except AlreadyAdmin:  # the same words wherever the account is: nothing about other schools
        return _invite_refused(school_id, 409, text("admin.invite_already_admin"), typed)
    except ValueError:
        return _invite_refused(school_id, 400, text("admin.invite_bad_email"), typed)
    token, settings = new_token(), broker().settings
    link = settings.url(url_for("admin.accept", token=token))
    if mailer().configured:
        words = {"by": me.email, "school": school.name, "link": link,
                 "until": until(settings.invitation_ttl)}
        subject = in_both_languages(lambda: text("admin.mail_invite_subject"), " / ")
        body = in_both_languages(lambda: text("admin.mail_invite_body", **words), MAIL_BETWEEN)
        try:
            mailer().send(email, subject, body)
        except MailFailed as exc:
            raise MailNotSent() from exc
    invited = links().invite(token, email, school_id, by=me.email, ttl=settings.invitation_ttl)
    log.info("admin invited", extra={"admin": me.id, "school": school_id})
    replaced = text("admin.invite_replaced", email=email) if invited.replaced else None
    if not mailer().configured:
        return _school_admins_page(school_id, shown_link=link, shown_email=email,
                                   replaced=replaced)
    flash(text("admin.invite_sent", email=email))
    if replaced:
        flash(replaced)
    return redirect(url_for("admin.school_admins", school_id=school_id))


@bp.post("/schools/<school_id>/admins/withdraw")
@login_required
def withdraw(school_id: str) -> Response:
    school_or_404(school_id)
    if links().withdraw(request.form.get("email", "")[:254], school_id,
                        by=current_admin().email):
        flash(text("admin.withdrawn"))
    return redirect(url_for("admin.school_admins", school_id=school_id))


@bp.post("/schools/<school_id>/admins/<int:admin_id>/remove")
@login_required
def remove_admin(school_id: str, admin_id: int) -> Response:
    school, me = school_or_404(school_id), current_admin()
    target = admins().get(admin_id)
    if target is None or (target.role == "school" and school_id not in target.schools
                          and was_removed(admins(), target, school_id)):
        flash(text("admin.already_removed"))  # a second click, a reload: done already
        return redirect(url_for("admin.school_admins", school_id=school_id))
    if target.role != "school" or school_id not in target.schools:
        raise CannotRemove("not a school admin of this school")
    if target.id == me.id:
        raise CannotRemove("an admin cannot remove themselves")
    remove_from_school(admins(), admin_id, school_id, by=me.email)
    log.info("admin removed", extra={"admin": me.id, "school": school_id, "removed": admin_id})
    flash(text("admin.removed_admin", email=target.email, school=school.name))
    return redirect(url_for("admin.school_admins", school_id=school_id))


# -- The invited admin ---------------------------------------------------------------------------

def _password_error(password: str, again: str) -> str | None:
    """What is wrong with a chosen password, in the admin's language (the CLI's rules)."""
    if password != again:
        return text("admin.password_mismatch")
    wrong = password_problem(password)
    return say(wrong, code=False) if wrong else None


def chosen_password(purpose: str, email: str, **context: object) -> str | Response:
    """The set-password form of an invitation or reset link: on GET the form; on POST the
    password chosen, or the form again saying what is wrong (nothing is spent then)."""
    context |= {"purpose": purpose, "email": email, "min_password": MIN_PASSWORD}
    if request.method == "GET":
        return page("admin/set_password.html", 200, **context)
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
    flash(text("admin.welcome"))
    return response
