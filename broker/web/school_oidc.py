"""The OIDC callback from schools that log in with OpenID Connect (Loper as RP), and the way
back from a school's logout (RP-Initiated Logout 1.0)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from broker.errors import BadRequest
from broker.web import cookies
from broker.web.current import broker, flow, logouts
from broker.web.login import finish_login
from broker.web.logout import carry_on

bp = Blueprint("school_oidc", __name__)

CALLBACK_PARAMS = ("code", "state", "iss", "error", "error_description", "session_state")
MAX_PARAM = 4096
"""Longer values are refused, never cut short: a cut code would still be sent to the school."""


@bp.get("/oidc/callback")
def callback() -> Response:
    if "state" not in request.args:
        raise BadRequest("This address expects an answer from a school's login service.")
    params = {k: request.args[k] for k in CALLBACK_PARAMS if k in request.args}
    if any(len(value) > MAX_PARAM for value in params.values()):
        raise BadRequest("The answer from your school's login service is too large.")
    browser, _ = cookies.browser_id(request, broker().settings)
    outgoing, session = flow().finish(params["state"][:64], params, browser)
    return finish_login(outgoing, session)


@bp.get("/oidc/logged-out")
def logged_out() -> Response:
    """Back from the school's end_session_endpoint: its state names the logout in progress."""
    state = request.args.get("state", "")
    if not state or len(state) > MAX_PARAM:
        raise BadRequest("This address expects the way back from a school's logout.")
    browser, _ = cookies.browser_id(request, broker().settings)
    return carry_on(logouts().answered(state, browser, "school", {"state": state}))
