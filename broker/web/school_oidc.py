"""The OIDC callback from schools that log in with OpenID Connect (Loper as RP)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from broker.errors import BadRequest
from broker.web import cookies
from broker.web.current import broker, flow
from broker.web.login import finish_login

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
