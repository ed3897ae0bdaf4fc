"""SAML endpoints: Loper's IdP (for suppliers) and SP (for schools)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from broker.downstream.saml_idp import SamlIdp
from broker.downstream.saml_kind import SamlSupplier
from broker.errors import BadRequest
from broker.web import cookies
from broker.web.current import broker, flow
from broker.web.login import finish_login, start_login

bp = Blueprint("saml", __name__, url_prefix="/saml")

_XML = "application/samlmetadata+xml"


def _idp() -> SamlIdp:
    idp = broker().downstreams.get(SamlSupplier.protocol)
    if not isinstance(idp, SamlIdp):
        abort(404)
    return idp


def _metadata(name: str) -> Response:
    response = Response(broker().metadata[name], mimetype=_XML)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/idp/metadata")
def idp_metadata() -> Response:
    return _metadata("saml-idp")


@bp.get("/sp/metadata")
def sp_metadata() -> Response:
    return _metadata("saml-sp")


@bp.route("/idp/sso", methods=["GET", "POST"])
def idp_sso() -> Response:
    params = request.args if request.method == "GET" else request.form
    if "SAMLRequest" not in params:
        raise BadRequest("This address expects a SAML AuthnRequest from a learning app.")
    binding = "redirect" if request.method == "GET" else "post"
    fields = {k: v for k, v in params.items()}
    for hint in ("school", "idp_hint"):
        if hint in request.args:
            fields.setdefault(hint, request.args[hint])
    idp = _idp()
    req = idp.parse_request(binding, fields, request.query_string.decode("latin-1"),
                            broker().registry.supplier_by_entity_id)
    return start_login(req, SamlSupplier.protocol)


@bp.post("/sp/acs")
def sp_acs() -> Response:
    if "SAMLResponse" not in request.form:
        raise BadRequest("This address expects a SAML Response from a school.")
    browser, _ = cookies.browser_id(request, broker().settings)
    login_id = request.form.get("RelayState", "")
    outgoing, session = flow().finish(login_id, dict(request.form), browser)
    return finish_login(outgoing, session)
