"""SAML endpoints: Loper's IdP (for suppliers) and SP (for schools)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from broker import hubs
from broker.downstream import SCHOOL_HINTS
from broker.downstream.saml_asks import Refused
from broker.downstream.saml_idp import SamlIdp
from broker.downstream.saml_kind import SamlSupplier
from broker.errors import BadRequest, LogoutRejected, UnknownSchool
from broker.kinds import school_scopes
from broker.logout.run import Initiator
from broker.registry import RegistryUnavailable
from broker.saml.logout_messages import WIRE_BINDING, WIRE_QUERY, receive
from broker.upstream.saml import SamlUpstream
from broker.upstream.saml_kind import SamlSchool
from broker.web import cookies
from broker.web.current import broker, flow, logouts
from broker.web.endpoints import published
from broker.web.i18n import language
from broker.web.login import finish_login, start_limit, start_login
from broker.web.logout import carry_on, shown_again
from broker.web.params import refuse_repeated
from broker.web.respond import to_response

bp = Blueprint("saml", __name__, url_prefix="/saml")

_XML = "application/samlmetadata+xml"
_SCOPED = "loper.idp_metadata_scoped"
"""Set once this process served IdP metadata with the schools' scopes: while the registry
is down that rendering is served again; before it, the answer is 503 (a copy without the
schools' scopes would make suppliers drop their scoped attributes)."""


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
    down. Derived once per registry version from the schools read one at a time: a registry
    of 50,000 schools is never held in a worker's memory for it."""
    registry = broker().registry

    def every_scope() -> tuple[str, ...]:
        found = (scope for school in registry.each_school()
                 for scope in sorted(school_scopes(school)))
        return tuple(dict.fromkeys(found))

    try:
        return list(registry.derived("school scopes", every_scope))
    except RegistryUnavailable:
        return None


@bp.get("/idp/metadata")
@published
def idp_metadata() -> Response:
    scopes = _school_scopes()
    if scopes is None and not current_app.extensions.get(_SCOPED):
        raise RegistryUnavailable("no IdP metadata with the schools' scopes rendered yet")
    xml = _idp().metadata_xml(scopes)  # None: the last rendering, while the registry is down
    current_app.extensions[_SCOPED] = True
    return _metadata(xml)


@bp.get("/sp/metadata")
@published
def sp_metadata() -> Response:
    return _metadata(_sp().metadata_xml())


@bp.route("/idp/sso", methods=["GET", "POST"])
def idp_sso() -> Response:
    redirect = request.method == "GET"
    sent = request.args if redirect else request.form
    params = refuse_repeated(sent, request.form if redirect else request.args)
    if "SAMLRequest" not in sent:
        raise BadRequest("This address expects a SAML AuthnRequest from a learning app.")
    binding = "redirect" if redirect else "post"
    fields = {k: v for k, v in params.items()
              if k in sent or (k in SCHOOL_HINTS and k in request.args)}  # a GET's body: never
    idp = _idp()
    try:
        req = idp.parse_request(binding, fields, request.query_string.decode("latin-1"),
                                broker().registry.supplier_by_entity_id)
    except Refused as refused:  # asks what Loper cannot give: the SP's own error, no login
        start_limit().admit(broker())  # counted as a start: each answer costs a signature
        return to_response(idp.refuse(refused))
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


REPLAY_TTL = 900
"""Seconds a logout message's ID is remembered (longer than it is accepted: 300 s + skew)."""


def wire() -> dict[str, str]:
    """A logout message's parameters, with its binding and the raw query (for the
    Redirect binding's signature), which the adapters read from the wire keys."""
    redirect = request.method == "GET"
    sent = request.args if redirect else request.form
    params = refuse_repeated(sent) if redirect else refuse_repeated(sent, request.args)
    fields = {k: v for k, v in params.items()
              if k in ("SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature")}
    if not ("SAMLRequest" in fields) ^ ("SAMLResponse" in fields):
        raise BadRequest("This address expects one SAML LogoutRequest or LogoutResponse.")
    return {**fields, WIRE_BINDING: "redirect" if redirect else "post",
            WIRE_QUERY: request.query_string.decode("latin-1") if redirect else ""}


def remember(issuer: str, message_id: str) -> None:
    if not broker().store.remember_once("saml-logout", f"{issuer}|{message_id}", REPLAY_TTL):
        raise LogoutRejected("This logout message was used once already.")


@bp.route("/idp/slo", methods=["GET", "POST"])
def idp_slo() -> Response:
    """A supplier's LogoutRequest (its session, then everyone's, ends), or its answer to
    Loper's LogoutRequest (the logout goes on to the next participant).

    The same LogoutRequest again in the browser whose logout it started, once that is over (a
    reload, the back button, a phone restoring its tab), shows how that logout went, with a
    link to the app, and does nothing else: no second LogoutResponse (an SP may refuse a
    replayed one, and it had its answer). Anywhere else it is a replay, refused."""
    params = wire()
    browser, _ = cookies.browser_id(request, broker().settings)
    if "SAMLResponse" in params:
        return carry_on(logouts().answered(params.get("RelayState", ""), browser, "supplier",
                                           params, posted=request.method == "POST"))
    if (page := shown_again(browser, params)) is not None:
        return page
    supplier, asked, kept = _idp().parse_logout_request(params,
                                                        broker().registry.supplier_by_entity_id)
    remember(asked.issuer, asked.id)
    session = flow().session(cookies.read(request, broker().settings, cookies.SSO))
    if session is not None and not session.record.names(
            supplier.id, asked.name_id or "", asked.session_indexes):
        session = None  # another pupil's, or an old session: it ends nobody's, says nothing
    initiator = Initiator("supplier", supplier.id, SamlSupplier.protocol, kept, language())
    return carry_on(logouts().begin(session, browser, initiator, params))


def _sp() -> SamlUpstream:
    sp = broker().upstreams.get(SamlSchool.protocol)
    if not isinstance(sp, SamlUpstream):
        abort(404)
    return sp


@bp.route("/sp/slo", methods=["GET", "POST"])
def sp_slo() -> Response:
    """The school's LogoutRequest (Loper's session and the suppliers' end), or its answer to
    Loper's LogoutRequest (the last step of a logout). The same LogoutRequest again in the
    browser whose logout it started, once that is over, shows how it went (as idp_slo)."""
    params = wire()
    browser, _ = cookies.browser_id(request, broker().settings)
    if "SAMLResponse" in params:
        return carry_on(logouts().answered(params.get("RelayState", ""), browser, "school",
                                           params, posted=request.method == "POST"))
    if (page := shown_again(browser, params)) is not None:
        return page
    registry = broker().registry
    issuer = receive(params[WIRE_BINDING], params).issuer
    school = registry.school_by_entity_id(issuer)
    if school is None or not isinstance(school.config, SamlSchool):
        raise UnknownSchool(f"No school is registered as {issuer[:200]!r}.")
    sp = _sp()
    asked, kept = sp.parse_logout_request(school, params)
    remember(asked.issuer, asked.id)
    session = flow().session(cookies.read(request, broker().settings, cookies.SSO))
    if session is not None:
        own = registry.school(session.person.school_id)
        ours = own is not None and hubs.hub_of(own, registry.school).id == school.id
        if not ours or not sp.logout_names(session.record.school_session, asked):
            session = None  # another pupil's, or an old session: it ends nobody's
    initiator = Initiator("school", school.id, SamlSchool.protocol, kept, language())
    return carry_on(logouts().begin(session, browser, initiator, params))
