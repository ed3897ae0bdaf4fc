"""A forgotten password: the admin asks for a link by e-mail and chooses a new password.

The request page answers the same whether or not the address has an account (the mail goes
out in the background, so neither the words nor the time tell), and is throttled per address
asked for and per client. A new password ends every session of the account; the second
factor stays as it was.
"""

from __future__ import annotations

import logging

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from broker.admin import login_door, security
from broker.admin.base import bp, links, mailer, page
from broker.admin.invitations import MAIL_BETWEEN, LinkUnusable, chosen_password, peek, until
from broker.email_address import normalise_email
from broker.registry.admin_links import RESET, LinkRefused
from broker.web.current import broker
from broker.web.i18n import in_both_languages, text

log = logging.getLogger("loper.admin")


def _request_page(status: int = 200, **context: object) -> Response:
    return page("admin/reset_request.html", status, mail=mailer().configured,
                minutes=broker().settings.password_reset_ttl // 60, **context)


@bp.get("/reset")
def reset_request() -> Response:
    return _request_page()


@bp.post("/reset")
def reset_request_post() -> Response:
    email = normalise_email(request.form.get("email", ""))[:254]
    if "@" not in email:
        return _request_page(400, error=text("admin.invite_bad_email"), email=email)
    security.count_reset_request(email)
    if mailer().configured:
        ttl = broker().settings.password_reset_ttl
        found = links().request_reset(email, ttl=ttl)
        if found is not None:
            admin, token = found
            link = broker().settings.url(url_for("admin.reset_password", token=token))
            words = {"email": admin.email, "link": link, "until": until(ttl)}
            subject = in_both_languages(lambda: text("admin.mail_reset_subject"), " / ")
            body = in_both_languages(lambda: text("admin.mail_reset_body", **words),
                                     MAIL_BETWEEN)
            mailer().send_later(admin.email, subject, body)
            log.info("admin password reset link sent", extra={"admin": admin.id})
    return _request_page(sent=True)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response:
    password = chosen_password(RESET, peek(token, RESET).email)
    if isinstance(password, Response):
        return password
    try:
        admin = links().reset(token, password)
    except LinkRefused as exc:
        raise LinkUnusable(exc.reason) from exc
    log.info("admin password reset by e-mail link", extra={"admin": admin.id})
    login_door.sign_out()
    security.new_session()
    flash(text("admin.password_changed"))
    return redirect(url_for("admin.login"))
