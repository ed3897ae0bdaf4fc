"""Demo school IdP "OBS De Regenboog": a pysaml2 IdP with a login page of demo people.

Routes: /metadata, /sso/redirect and /sso/post (an AuthnRequest arrives), /sso/login (the login
form posts here; it carries the request in hidden fields SAMLRequest, RelayState, binding and,
for a signed redirect, SigAlg and Signature), /logout (ends the school session, and with single
logout the session at the SP it last logged in to), /slo (single logout, school_slo.py),
/ (status).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, redirect, request, session
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.samlp import STATUS_AUTHN_FAILED
from werkzeug.wrappers import Response as BaseResponse

from demo import school_slo
from demo.keys import ensure_keypair
from demo.metadata import MetadataSource
from demo.people import DEFAULT_PEOPLE, PASSWORD, SCHOOL_NAME, DemoPerson
from demo.school_saml import (
    AuthnRequestInfo,
    SchoolIdpTool,
    SchoolRequestError,
    build_response,
)
from demo.web import new_app, page, post_form

__all__ = ["SchoolIdpTool", "build_response", "create_school_idp", "school_tool"]

BINDINGS = {"redirect": BINDING_HTTP_REDIRECT, "post": BINDING_HTTP_POST}
KEY_NAME = "regenboog-idp"

LOGIN = """
<p>{{ sp }} asks you to log in.</p>
{% if error %}<p class="error">{{ error }}</p>{% endif %}
<form method="post" action="/sso/login" class="login">
{% for name, value in hidden.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}
<fieldset><legend>Who are you?</legend>
{% for p in people %}
 <label><input type="radio" name="person" value="{{ p.id }}"{% if loop.first %} checked{% endif %}>
 {{ p.display_name }} ({{ p.role }}{% if p.groups %}, {{ p.groups | join(", ") }}{% endif %}
 {%- if hub %}, school {{ p.school_id }}{% endif %})</label><br>
{% endfor %}
</fieldset>
<label>Password (demo): <input type="password" name="password" autocomplete="off"></label>
<button>Log in</button> <button name="cancel" value="1">Cancel</button>
</form>
"""

HOME = """
{% if person %}<p>Logged in at school as {{ person.display_name }} since {{ since }}.</p>
<form method="post" action="/logout"><button>Log out at school</button></form>
{% else %}<p>Nobody is logged in at school.</p>{% endif %}
<p><a href="/metadata">IdP metadata</a></p>
"""


@dataclass(frozen=True)
class _Message:
    """An AuthnRequest as it arrived, kept whole so the login form can carry it on."""

    saml_request: str
    relay_state: str | None
    binding: str
    sig_alg: str | None = None
    signature: str | None = None

    @classmethod
    def read(cls, params: Mapping[str, str], binding: str) -> _Message:
        if not params.get("SAMLRequest"):
            raise SchoolRequestError("no SAMLRequest")
        return cls(params["SAMLRequest"], params.get("RelayState"), binding,
                   params.get("SigAlg"), params.get("Signature"))

    def hidden_fields(self) -> dict[str, str]:
        name = next(k for k, v in BINDINGS.items() if v == self.binding)
        fields = {"SAMLRequest": self.saml_request, "binding": name,
                  "RelayState": self.relay_state, "SigAlg": self.sig_alg,
                  "Signature": self.signature}
        return {k: v for k, v in fields.items() if v is not None}


def school_tool(base_url: str, state_dir: Path, sp_metadata: MetadataSource,
                name: str = SCHOOL_NAME) -> SchoolIdpTool:
    """The school's SAML engine with the keys `create_school_idp` uses for the same folder."""
    base = base_url.rstrip("/")
    key_file, cert_file = ensure_keypair(state_dir, KEY_NAME)
    return SchoolIdpTool(f"{base}/metadata", key_file, cert_file, sp_metadata, name=name)


def create_school_idp(
    base_url: str,
    state_dir: Path,
    broker_sp_metadata: str | Sequence[str] | Callable[[], str | Sequence[str]],
    people: Sequence[DemoPerson] | None = None,
    name: str = SCHOOL_NAME,
    attributes: Callable[[DemoPerson], dict[str, list[str]]] | None = None,
) -> Flask:
    """The demo school's IdP at `base_url`; its key and secrets live in `state_dir`.

    `broker_sp_metadata`: the SP metadata it answers to (Loper's), one XML document, several,
    or a callable returning either, asked on the first AuthnRequest. With `people` of several
    schools and another `name` it plays a hub (demo/hub.py): a request naming schools in its
    Scoping/IDPList (by BRIN) lists their people first, as a hub skipping its own picker would
    offer only them. `attributes` replaces the education vocabulary's names (e.g. ADFS's
    claims, demo/school_adfs.py).
    """
    base = base_url.rstrip("/")
    tool = school_tool(base, state_dir, broker_sp_metadata, name)
    known = tuple(people or DEFAULT_PEOPLE)
    by_id = {p.id: p for p in known}
    app = new_app(__name__, base, state_dir, cookie="regenboog-idp" if name == SCHOOL_NAME
                  else "hub-idp")

    def logged_in() -> tuple[DemoPerson, float] | None:
        login = session.get("login")
        person = by_id.get(login["person"]) if login else None
        return (person, float(login["at"])) if person and login else None

    def answer(msg: _Message, req: AuthnRequestInfo, person: DemoPerson, at: float) -> str:
        saml_response = tool.build_response(in_response_to=req.id, destination=req.acs_url,
                                            audience=req.sp_entity_id, person=person,
                                            authn_instant=at,
                                            attributes=attributes(person) if attributes else None)
        session["sp"] = req.sp_entity_id  # the SP its single logout goes to
        return _post_back(req, saml_response, msg.relay_state)

    def login_form(msg: _Message, req: AuthnRequestInfo, error: str | None = None) -> str:
        # a hub's hint (Scoping): that school's people first, then the rest, for the demo
        shown = sorted(known, key=lambda p: p.school_id not in req.scoping)
        return page(name, LOGIN, sp=req.sp_entity_id, error=error, people=shown,
                    hub=len({p.school_id for p in known}) > 1,
                    hidden=msg.hidden_fields())

    def receive(msg: _Message) -> str:
        req = _parse(tool, msg)
        login = logged_in()
        if login and not req.force_authn:  # single sign-on at school
            return answer(msg, req, *login)
        if req.is_passive:  # SAML core 3.4.1: no interaction allowed
            no_passive = tool.build_status(in_response_to=req.id, destination=req.acs_url,
                                           sign_response=True)
            return _post_back(req, no_passive, msg.relay_state)
        return login_form(msg, req)

    @app.get("/sso/redirect")
    def sso_redirect() -> str:
        return receive(_Message.read(request.args, BINDING_HTTP_REDIRECT))

    @app.post("/sso/post")
    def sso_post() -> str:
        return receive(_Message.read(request.form, BINDING_HTTP_POST))

    @app.post("/sso/login")
    def sso_login() -> str:
        binding = BINDINGS.get(request.form.get("binding", ""))
        if binding is None:
            raise SchoolRequestError("unknown binding")
        msg = _Message.read(request.form, binding)
        req = _parse(tool, msg)
        if request.form.get("cancel"):  # as Shibboleth IdP and ADFS answer a Cancel
            cancelled = tool.build_status(in_response_to=req.id, destination=req.acs_url,
                                          status=STATUS_AUTHN_FAILED, sign_response=True)
            return _post_back(req, cancelled, msg.relay_state)
        person = by_id.get(request.form.get("person", ""))
        password = request.form.get("password", "").encode()
        if person is None or not hmac.compare_digest(password, PASSWORD.encode()):
            return login_form(msg, req, error="Unknown person or wrong password.")
        now = time.time()
        session["login"] = {"person": person.id, "at": now}
        return answer(msg, req, person, now)

    @app.route("/logout", methods=["GET", "POST"])
    def logout() -> BaseResponse | str:
        login, sp = session.pop("login", None), session.pop("sp", None)
        asked = school_slo.ask(tool, sp, login["person"]) if login and sp else None
        if asked is None:
            return page(name, "<p>You are logged out at school.</p>")
        session["logout_request"] = asked[0]
        return redirect(asked[1], code=303)

    @app.get("/slo")
    def slo() -> BaseResponse | str:
        outcome = school_slo.receive(tool, request.args)
        if outcome.kind == "request":
            login = session.get("login")
            if login and login["person"] == outcome.name_id:
                session.pop("login")
                session.pop("sp", None)
            assert outcome.redirect is not None
            return redirect(outcome.redirect, code=303)
        if outcome.in_response_to != session.pop("logout_request", None):
            raise SchoolRequestError("this LogoutResponse answers no logout of the school")
        return page(name, "<p>You are logged out at school{{ ' and everywhere' if ok "
                    "else '' }}.</p>", ok=outcome.ok)

    @app.get("/")
    def home() -> str:
        login = logged_in()
        since = time.strftime("%H:%M:%S", time.localtime(login[1])) if login else None
        return page(name, HOME, person=login[0] if login else None, since=since)

    @app.get("/metadata")
    def metadata() -> Response:
        return Response(tool.metadata_xml(), mimetype="application/samlmetadata+xml")

    @app.errorhandler(SchoolRequestError)
    def refused(exc: SchoolRequestError) -> tuple[str, int]:
        return page(name, '<p class="error">{{ problem }}</p>', problem=str(exc)), 400

    return app


def _parse(tool: SchoolIdpTool, msg: _Message) -> AuthnRequestInfo:
    return tool.parse_request(msg.saml_request, msg.binding, msg.relay_state, msg.sig_alg,
                              msg.signature)


def _post_back(req: AuthnRequestInfo, saml_response: str, relay_state: str | None) -> str:
    fields = {"SAMLResponse": saml_response}
    if relay_state is not None:
        fields["RelayState"] = relay_state
    return post_form(req.acs_url, fields)
