"""OIDC endpoints: Loper's OpenID Provider for the suppliers' relying parties.

A thin adapter: the protocol core (broker/downstream/oidc_op.py) returns a DownstreamRequest, an
Outgoing or (status, body, headers); this module turns them into responses.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, request

from broker.downstream import DownstreamRequest
from broker.downstream.oidc_common import JsonReply
from broker.downstream.oidc_config import DISCOVERY_PATH, PATHS
from broker.downstream.oidc_kind import OidcSupplier
from broker.downstream.oidc_op import OidcOp
from broker.errors import BadRequest
from broker.logout.run import Initiator
from broker.portal.logout import confirm_first
from broker.web import cookies
from broker.web.current import broker, flow, logouts
from broker.web.endpoints import machine, published
from broker.web.i18n import language
from broker.web.login import start_login
from broker.web.logout import carry_on, shown_again
from broker.web.params import single
from broker.web.respond import to_response

bp = Blueprint("oidc", __name__)


def _op() -> OidcOp:
    op = broker().downstreams.get(OidcSupplier.protocol)
    if not isinstance(op, OidcOp):
        abort(404)
    return op


def _json(reply: JsonReply) -> Response:
    status, body, headers = reply
    return Response(json.dumps(body), status=status, headers=headers,
                    mimetype="application/json")


def _published(document: bytes) -> Response:
    return Response(document, mimetype="application/json", headers={
        "Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*"})


def _headers() -> dict[str, str]:
    return dict(request.headers.items())


@bp.get(DISCOVERY_PATH)
@machine
@published
def discovery() -> Response:
    return _published(_op().published.discovery)


@bp.get(PATHS["jwks"])
@machine
@published
def jwks() -> Response:
    return _published(_op().published.jwks)


@bp.route(PATHS["authorization"], methods=["GET", "POST"])
def authorize() -> Response:
    params, repeated = single(request.args if request.method == "GET" else request.form)
    outcome = _op().parse_authorization(params, repeated)
    if isinstance(outcome, DownstreamRequest):
        return start_login(outcome, OidcSupplier.protocol)
    return to_response(outcome)


@bp.post(PATHS["token"])
@machine
def token() -> Response:
    form, repeated = single(request.form)
    return _json(_op().token(form, _headers(), repeated))


@bp.route(PATHS["userinfo"], methods=["GET", "POST"])
@machine
def userinfo() -> Response:
    form = request.form.to_dict(flat=True) if request.method == "POST" else None
    return _json(_op().userinfo(_headers(), form))


@bp.post(PATHS["revocation"])
@machine
def revoke() -> Response:
    form, repeated = single(request.form)
    return _json(_op().revoke(form, _headers(), repeated))


@bp.route(PATHS["end_session"], methods=["GET", "POST"])
def end_session() -> Response:
    """RP-Initiated Logout 1.0. With an id_token_hint naming this browser's session, the
    logout runs at once; without one (or for another session) the pupil confirms on Loper's
    logout page, so no site can log a pupil out behind their back; an app that named itself
    by its ID token and a registered post_logout_redirect_uri is answered after that too.
    The same request again in the browser whose logout it started, once that is over (a
    reload), shows how it went and does nothing else."""
    params, repeated = single(request.args if request.method == "GET" else request.form)
    if repeated:
        raise BadRequest("Each logout parameter may be sent once.")
    settings = broker().settings
    browser, _ = cookies.browser_id(request, settings)
    if (page := shown_again(browser, params)) is not None:
        return page
    supplier, asked = _op().end_session(params)
    session = flow().session(cookies.read(request, settings, cookies.SSO))
    known = session.record.participant(supplier.id) if session and supplier else None
    ours = known is not None and asked.sid == known.sid
    answer = None if supplier is None else Initiator(
        "supplier", supplier.id, OidcSupplier.protocol, asked.encode(), language())
    if answer is None or (session is not None and not ours):  # the pupil confirms first
        return confirm_first(answer if asked.answered_after_confirming else None)
    # this browser's session, or none at all (nothing to confirm: back to the app)
    return carry_on(logouts().begin(session, browser, answer, params))
