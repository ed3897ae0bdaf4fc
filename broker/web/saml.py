"""SAML endpoints: Loper's IdP (for suppliers) and SP (for schools)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from broker.downstream.saml_idp import SamlIdp
from broker.downstream.saml_kind import SamlSupplier
from broker.errors import BadRequest
from broker.kinds import school_scopes
from broker.registry import RegistryUnavailable
from broker.upstream.saml import SamlUpstream
from broker.upstream.saml_kind import SamlSchool
from broker.web import cookies
from broker.web.current import broker, flow
from broker.web.login import finish_login, start_login
from broker.web.params import refuse_repeated

bp = Blueprint("saml", __name__, url_prefix="/saml")

_XML = "application/samlmetadata+xml"
_HINTS = ("school", "idp_hint")


def _idp() -> SamlIdp:
    idp = broker().downstreams.get(SamlSupplier.protocol)
    if not isinstance(idp, SamlIdp):
        abort(404)
    return idp


def _metadata(xml: str) -> Response:
    response = Response(xml, mimetype=_XML)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _school_scopes() -> list[str] | None:
    """The schools' scopes (their `domains`, their metadata's shibmd:Scope, a Google school's
    `hd`): the only schacHomeOrganization values Loper passes on; None if the registry is
    down."""
    try:
        schools = broker().registry.schools()
    except RegistryUnavailable:
        return None
    found = (scope for school in schools for scope in sorted(school_scopes(school)))
    return list(dict.fromkeys(found))


@bp.get("/idp/metadata")
def idp_metadata() -> Response:
    return _metadata(_idp().metadata_xml(_school_scopes()))


@bp.get("/sp/metadata")
def sp_metadata() -> Response:
    sp = broker().upstreams.get(SamlSchool.protocol)
    if not isinstance(sp, SamlUpstream):
        abort(404)
    return _metadata(sp.metadata_xml())


@bp.route("/idp/sso", methods=["GET", "POST"])
def idp_sso() -> Response:
    redirect = request.method == "GET"
    sent = request.args if redirect else request.form
    params = refuse_repeated(sent, request.form if redirect else request.args)
    if "SAMLRequest" not in sent:
        raise BadRequest("This address expects a SAML AuthnRequest from a learning app.")
    binding = "redirect" if redirect else "post"
    fields = {k: v for k, v in params.items()
              if k in sent or (k in _HINTS and k in request.args)}  # a GET's body: never
    idp = _idp()
    req = idp.parse_request(binding, fields, request.query_string.decode("latin-1"),
                            broker().registry.supplier_by_entity_id)
    return start_login(req, SamlSupplier.protocol)


@bp.post("/sp/acs")
def sp_acs() -> Response:
    form = refuse_repeated(request.form, request.args)
    if "SAMLResponse" not in request.form:
        raise BadRequest("This address expects a SAML Response from a school.")
    browser, _ = cookies.browser_id(request, broker().settings)
    login_id = form.get("RelayState", "")
    fields = {k: v for k, v in form.items() if k in request.form}
    outgoing, session = flow().finish(login_id, fields, browser)
    return finish_login(outgoing, session)
