"""A forgotten password: the admin asks for a link by e-mail and chooses a new password.

The request page answers the same whether or not the address has an account (the mail goes
out in the background, so neither the words nor the time tell), and is throttled per address
asked for and per client. A new password ends every session of the account; the second
factor stays as it was.
"""

from __future__ import annotations

import logging

from flask import flash, redirect, request, url_for
from flask_login import logout_user
from werkzeug.wrappers import Response

from broker.admin import security
from broker.admin.base import bp, links, mailer, page, tr
from broker.admin.invitations import LinkUnusable, chosen_password, peek, until
from broker.admin.texts_accounts import RESET_BODY, RESET_SUBJECT
from broker.registry.admin_links import RESET, LinkRefused
from broker.registry.admins import normalise_email
from broker.web.current import broker

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
        return _request_page(400, error=tr()["invite_bad_email"], email=email)
    security.count_reset_request(email)
    if mailer().configured:
        ttl = broker().settings.password_reset_ttl
        found = links().request_reset(email, ttl=ttl)
        if found is not None:
            admin, token = found
            link = broker().settings.url(url_for("admin.reset_password", token=token))
            mailer().send_later(admin.email, RESET_SUBJECT,
                                RESET_BODY.format(email=admin.email, link=link, until=until(ttl)))
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
    logout_user()
    security.new_session()
    flash(tr()["password_changed"])
    return redirect(url_for("admin.login"))
