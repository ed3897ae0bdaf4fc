"""Log out everywhere (/logout): end this browser's single sign-on session.

The button posts a CSRF token (broker.web.csrf) bound to this browser, so another site cannot
log a pupil out behind their back (the SSO cookie is SameSite=None, so it would be sent along).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from broker.errors import BadRequest
from broker.web import cookies, csrf
from broker.web.current import broker

bp = Blueprint("logout", __name__)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    settings = broker().settings
    browser, new = cookies.browser_id(request, settings)
    done = request.method == "POST"
    if done:
        if not csrf.valid("logout", browser):
            raise BadRequest("the logout form's token is missing or expired",
                             code="logout_expired")
        session_id = cookies.read(request, settings, cookies.SSO)
        if session_id:
            broker().store.delete_session(session_id)
    html = render_template("logout.html", done=done,
                           csrf_field=csrf.FIELD, token=csrf.token("logout", browser))
    response = Response(html, mimetype="text/html")
    if new:
        cookies.remember_browser(response, settings, browser)
    if done:
        cookies.clear_cookie(response, settings, cookies.SSO)
    return response
