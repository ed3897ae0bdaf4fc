"""Log out everywhere (/logout): end this browser's single sign-on session, every supplier
session it started and the session at the school (broker/logout/), then say how it went.

The button posts a CSRF token (broker.web.csrf) bound to this browser, so another site cannot
log a pupil out behind their back (the SSO cookie is SameSite=None, so it would be sent along).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from broker.errors import BadRequest
from broker.logout.run import Initiator
from broker.web import cookies, csrf
from broker.web.current import broker, flow, logouts
from broker.web.i18n import language
from broker.web.logout import carry_on

bp = Blueprint("logout", __name__)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    settings = broker().settings
    browser, new = cookies.browser_id(request, settings)
    lang = language()
    if request.method == "POST":
        if not csrf.valid("logout", browser):
            raise BadRequest("the logout form's token is missing or expired",
                             code="logout_expired")
        session = flow().session(cookies.read(request, settings, cookies.SSO))
        response = carry_on(logouts().begin(session, browser, Initiator("pupil", lang=lang)))
    else:
        html = render_template("logout.html", csrf_field=csrf.FIELD,
                               token=csrf.token("logout", browser))
        response = Response(html, mimetype="text/html")
    if new:
        cookies.remember_browser(response, settings, browser)
    return response
