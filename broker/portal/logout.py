"""Log out everywhere (/logout): end this browser's single sign-on session."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from broker.web import cookies
from broker.web.current import broker
from broker.web.i18n import language, translator

bp = Blueprint("logout", __name__)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    lang = language()
    done = request.method == "POST"
    if done:
        session_id = request.cookies.get(cookies.SSO)
        if session_id:
            broker().store.delete_session(session_id)
    html = render_template("logout.html", t=translator(lang), lang=lang, done=done)
    response = Response(html, mimetype="text/html")
    if done:
        cookies.clear_cookie(response, broker().settings, cookies.SSO)
    return response
