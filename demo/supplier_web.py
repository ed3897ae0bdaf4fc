"""What both demo SAML suppliers share: their pages, their session, their replay cache.

A supplier's SAML library plugs in through `SamlSp` (start a login, check a response); the
pages and routes are the same for both, so the two differ only where their libraries do. The
OpenID Connect supplier (supplier_oidc.py) shares the frame of its pages: `home_template`, FAILED.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from string import Template
from typing import Protocol
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request, session
from werkzeug.wrappers import Response as BaseResponse

from demo.metadata import MetadataSource
from demo.saml_status import everywhere
from demo.web import new_app, page

PAIRWISE_ID = "urn:oasis:names:tc:SAML:attribute:pairwise-id"
MAX_PENDING = 5


class LoginFailed(Exception):
    """The response did not pass the supplier's checks; never a login."""


@dataclass(frozen=True)
class LoginResult:
    status: str
    """"ok", or the IdP's second-level status code's last part, e.g. "NoPassive"."""
    name_id: str | None = None
    name_id_format: str | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)
    """SAML attribute Name -> values, as received."""
    issuer: str | None = None
    authn_instant: str | None = None
    in_response_to: str | None = None
    session_index: str | None = None
    """What a single logout names, with the NameID."""

    @property
    def pairwise_id(self) -> str | None:
        values = self.attributes.get(PAIRWISE_ID)
        return values[0] if values else None


@dataclass(frozen=True)
class Outgoing:
    """A started login: the AuthnRequest id to remember and the response taking the browser."""

    request_id: str
    response: BaseResponse | str


@dataclass(frozen=True)
class SloResult:
    """A logout message from the IdP, checked by the supplier's library."""

    kind: str
    """"request" (the IdP ends our session; `answer` takes the browser back) or "response"
    (the answer to our own LogoutRequest; `ok` says whether it logged us out everywhere)."""
    name_id: str | None = None
    session_indexes: tuple[str, ...] = ()
    answer: BaseResponse | None = None
    status: tuple[str, ...] = ()
    """A "response"'s status codes as sent: the top-level one, then the ones nested in it."""

    @property
    def ok(self) -> bool:
        """Did the IdP log us out everywhere?"""
        return everywhere(self.status)


class SamlSp(Protocol):
    def metadata_xml(self) -> str: ...

    def start_login(self, school: str | None, force: bool, passive: bool) -> Outgoing: ...

    def finish_login(self, form: Mapping[str, str], pending: list[str]) -> LoginResult:
        """Check a posted SAMLResponse answering one of the `pending` request ids."""
        ...

    def start_logout(self, result: LoginResult) -> Outgoing | None:
        """A signed LogoutRequest to the IdP over HTTP-Redirect; None if it offers no SLO."""
        ...

    def slo(self, query: Mapping[str, str], pending: str | None) -> SloResult:
        """A LogoutRequest or LogoutResponse that came over HTTP-Redirect (signature checked);
        `pending`: the id of our own LogoutRequest. Raise LoginFailed when it fails."""
        ...


NewSp = Callable[[str, Path, MetadataSource, str], SamlSp]
"""A `SamlSp` class: (base URL, state folder, the IdP's metadata, supplier name) -> SamlSp."""


class ReplayCache:
    """Assertion ids already used (in memory: the demo supplier runs as one process)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def check(self, assertion_id: str | None) -> None:
        if not assertion_id:
            raise LoginFailed("the assertion has no ID")
        with self._lock:
            if assertion_id in self._seen:
                raise LoginFailed("this assertion was used before (replay)")
            self._seen.add(assertion_id)


def with_hint(sso_url: str, school: str | None) -> str:
    """Loper's SSO URL with the school hint (`school=<id>`) that skips its school picker."""
    if not school:
        return sso_url
    return f"{sso_url}{'&' if '?' in sso_url else '?'}{urlencode({'school': school})}"


def require(condition: bool, problem: str) -> None:
    if not condition:
        raise LoginFailed(problem)


_HOME = Template("""
{% if result and result.status == "ok" %}
$logged_in
 <form method="post" action="/logout"><button>Log out here</button></form>
{% elif result %}
 <p class="status">You are not logged in ({{ result.status }}).</p>
{% else %}
 <p class="status">You are not logged in.</p>
{% endif %}
<form method="get" action="/login">
 <label>school (optional): <input name="school" value=""></label>
$login_options
 <button>log in</button>
</form>
""")


def home_template(logged_in: str, login_options: str) -> str:
    """A demo supplier's home page, a Jinja template of `result` (the last login's, or None).

    After a login `logged_in` shows what it brought, above a logout button; else the page says
    why not. Then the login form: the school hint, the supplier's `login_options`, the button.
    """
    return _HOME.substitute(logged_in=logged_in, login_options=login_options)


HOME = home_template(logged_in="""\
 <p>Logged in as <code class="name-id">{{ result.name_id }}</code></p>
 <p>NameID format: <code>{{ result.name_id_format }}</code><br>
    pairwise-id: <code class="pairwise-id">{{ pairwise_id or "(none)" }}</code><br>
    from <code>{{ result.issuer }}</code> at {{ result.authn_instant }}</p>
 <table class="attributes"><tr><th>attribute</th><th>values</th></tr>
 {% for name, values in result.attributes.items() %}
  <tr><td class="attribute-name">{{ name }}</td>
      <td class="attribute-values">{{ values | join(", ") }}</td></tr>
 {% else %}<tr><td colspan="2">(no attributes)</td></tr>{% endfor %}
 </table>""", login_options="""\
 <label><input type="checkbox" name="force" value="1"> ForceAuthn</label>
 <label><input type="checkbox" name="passive" value="1"> IsPassive</label>""")

FAILED = '<p class="error">Login failed: {{ problem }}</p><p><a href="/">back</a></p>'
LOGGED_OUT = ('<p class="logged-out">{{ "You are logged out everywhere." if ok else '
              '"You are logged out here, but the IdP could not log you out everywhere." }}</p>'
              '<p><a href="/">back</a></p>')


def create_saml_supplier(import_name: str, make_sp: NewSp, base_url: str, state_dir: Path,
                         idp_metadata: MetadataSource, name: str) -> Flask:
    """A demo SAML supplier at `base_url`: `make_sp(base_url, state_dir, idp_metadata, name)`
    behind the shared pages; keys and secrets live in `state_dir`.

    Routes: / (what it received), /login?school=&force=1&passive=1, /acs, /metadata,
    /whoami (JSON), /logout (single logout at the IdP when it offers it), /slo.
    """
    base = base_url.rstrip("/")
    sp = make_sp(base, state_dir, idp_metadata, name)
    app = new_app(import_name, base, state_dir, cookie=f"{name.lower()}-sp")
    register_supplier(app, name, sp)
    return app


def register_supplier(app: Flask, name: str, sp: SamlSp) -> None:
    """Routes: / (what was received), /login, /acs, /metadata, /whoami (JSON), /logout."""

    @app.get("/")
    def home() -> str:
        result = _result()
        return page(name, HOME, result=result, pairwise_id=result and result.pairwise_id)

    @app.get("/metadata")
    def metadata() -> Response:
        return Response(sp.metadata_xml(), mimetype="application/samlmetadata+xml")

    @app.get("/login")
    def login() -> BaseResponse | str:
        outgoing = sp.start_login(
            school=request.args.get("school") or None,
            force=request.args.get("force") == "1",
            passive=request.args.get("passive") == "1",
        )
        pending = [outgoing.request_id, *session.get("pending", [])][:MAX_PENDING]
        session["pending"] = pending
        return outgoing.response

    @app.post("/acs")
    def acs() -> BaseResponse | tuple[str, int]:
        pending = list(session.get("pending", []))
        try:
            result = sp.finish_login(request.form.to_dict(), pending)
        except LoginFailed as exc:
            return page(name, FAILED, problem=str(exc)), 400
        session["pending"] = [p for p in pending if p != result.in_response_to]  # burnt
        session["result"] = asdict(result)
        return redirect("/", code=303)

    @app.get("/whoami")
    def whoami() -> Response:
        result = _result()
        return jsonify(asdict(result) | {"pairwise_id": result.pairwise_id} if result else None)

    @app.post("/logout")
    def logout() -> BaseResponse:
        result = _result()
        session.clear()
        outgoing = sp.start_logout(result) if result and result.status == "ok" else None
        if outgoing is None or isinstance(outgoing.response, str):
            return redirect("/", code=303)
        session["logout_request"] = outgoing.request_id
        return outgoing.response

    @app.get("/slo")
    def slo() -> BaseResponse | tuple[str, int]:
        try:
            outcome = sp.slo(request.args.to_dict(), session.get("logout_request"))
        except LoginFailed as exc:
            return page(name, FAILED, problem=str(exc)), 400
        if outcome.kind == "response":
            session.clear()
            return page(name, LOGGED_OUT, ok=outcome.ok), 200
        result = _result()
        if result is not None and result.name_id == outcome.name_id and (
                not outcome.session_indexes or result.session_index in outcome.session_indexes):
            session.pop("result")  # the IdP ended this session
        assert outcome.answer is not None
        return outcome.answer


def _result() -> LoginResult | None:
    stored = session.get("result")
    return LoginResult(**stored) if stored else None
