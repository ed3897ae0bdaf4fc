"""Demo supplier "Leesplein": an OpenID Connect relying party, as a supplier would integrate.

Built on authlib's client (`OAuth2Session`): the code flow with PKCE S256, a nonce and a state,
client_secret_basic at the token endpoint. Everything is found from Loper's discovery document;
the checks authlib leaves to its caller are in supplier_oidc_check.py (the RFC 9207 `iss`, the
ID token against Loper's JWKS with joserfc, the user info's `sub`).

Routes: / (what it received), /login?school=&prompt=&max_age=, /callback, /whoami (JSON),
/userinfo (JSON: the user info read again now with the last login's access token), /logout
(RP-initiated logout at Loper), /bye (back from it), /logout/backchannel (Loper's logout
tokens, supplier_oidc_logout.py).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.requests_client import (  # type: ignore[import-untyped]
    OAuth2Session,
)
from flask import Flask, Response, jsonify, redirect, request, session
from werkzeug.wrappers import Response as BaseResponse

from demo.metadata import Lazy
from demo.supplier_oidc_check import (
    TIMEOUT,
    Expected,
    LoginFailed,
    Provider,
    check_iss,
    person_claims,
    require,
    verify_id_token,
)
from demo.supplier_oidc_logout import EndedSessions, verify_logout_token
from demo.supplier_web import FAILED, home_template
from demo.web import new_app, page

SCOPE = "openid profile email"
MAX_PENDING = 5
MAX_TOKENS = 1000


@dataclass(frozen=True)
class LoginResult:
    status: str
    """"ok", or the OAuth error code Loper answered with, e.g. "login_required"."""
    sub: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    """What the ID token says about the person (its own protocol claims left out)."""
    id_token: dict[str, Any] = field(default_factory=dict)
    """Every claim of the ID token."""
    userinfo: dict[str, Any] = field(default_factory=dict)
    issuer: str | None = None
    auth_time: int | None = None
    acr: str | None = None
    raw_id_token: str | None = None
    """Sent back as id_token_hint when the pupil logs out here."""


@dataclass(frozen=True)
class Pending:
    """One started login, kept in the supplier's session until Loper answers it."""

    state: str
    nonce: str
    verifier: str
    max_age: int | None = None


class OidcRp:
    def __init__(self, base_url: str, issuer: str, client_id: str, client_secret: str,
                 scope: str = SCOPE) -> None:
        self.redirect_uri = f"{base_url}/callback"
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._scope = scope
        self._provider = Lazy(lambda: Provider.discover(self.issuer))
        self.ended = EndedSessions()
        self._tokens: dict[str, str] = {}
        """Access tokens stay on the server; the session holds a random handle."""
        self._lock = threading.Lock()

    def _client(self) -> Any:
        return OAuth2Session(self.client_id, self._secret, scope=self._scope,
                             redirect_uri=self.redirect_uri, code_challenge_method="S256",
                             token_endpoint_auth_method="client_secret_basic")

    def start_login(self, school: str | None, prompt: str | None,
                    max_age: int | None) -> tuple[str, Pending]:
        provider = self._provider.get()
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
        extra: dict[str, str] = {"nonce": nonce}
        if school:
            extra["school"] = school
        if prompt:
            extra["prompt"] = prompt
        if max_age is not None:
            extra["max_age"] = str(max_age)
        with self._client() as client:
            url, state = client.create_authorization_url(
                provider.authorization_endpoint, code_verifier=verifier, **extra)
        return url, Pending(state, nonce, verifier, max_age)

    def back_channel_logout(self, raw: str) -> None:
        provider = self._provider.get()
        self.ended.end(verify_logout_token(raw, provider.keys(), provider.issuer,
                                           self.client_id))

    def logout_url(self, id_token: str, base_url: str, state: str) -> str | None:
        endpoint = self._provider.get().end_session_endpoint
        if not endpoint:
            return None
        return f"{endpoint}?" + urlencode({"id_token_hint": id_token, "state": state,
                                           "post_logout_redirect_uri": f"{base_url}/bye"})

    def finish_login(self, url: str, params: Mapping[str, str],
                     pending: list[Pending]) -> tuple[LoginResult, str | None]:
        """Check the answer to one of the `pending` logins; (result, access token handle)."""
        provider = self._provider.get()
        login = next((p for p in pending if secrets.compare_digest(
            p.state, params.get("state", ""))), None)
        require(login is not None, "the state matches no login started here")
        assert login is not None
        check_iss(provider, params)
        if "error" in params:
            return LoginResult(status=params["error"], issuer=provider.issuer), None
        with self._client() as client:
            token = client.fetch_token(provider.token_endpoint, authorization_response=url,
                                       state=login.state, code_verifier=login.verifier,
                                       timeout=TIMEOUT)
            access = token.get("access_token")
            require(isinstance(access, str) and isinstance(token.get("id_token"), str),
                    "the token response lacks an access token or ID token")
            claims = verify_id_token(token["id_token"], provider.keys(), Expected(
                provider.issuer, self.client_id, login.nonce, login.max_age), access)
            userinfo = self._userinfo(client, provider, claims["sub"])
        result = LoginResult(status="ok", sub=claims["sub"], claims=person_claims(claims),
                             id_token=claims, userinfo=userinfo, issuer=claims["iss"],
                             auth_time=claims.get("auth_time"), acr=claims.get("acr"),
                             raw_id_token=token["id_token"])
        return result, self._keep(access)

    def _userinfo(self, client: Any, provider: Provider, sub: str) -> dict[str, Any]:
        answer = client.get(provider.userinfo_endpoint, timeout=TIMEOUT)
        require(answer.status_code == 200, f"the user info was refused ({answer.status_code})")
        userinfo: dict[str, Any] = answer.json()
        require(userinfo.get("sub") == sub, "the user info is about someone else (sub)")
        return userinfo

    def userinfo_now(self, handle: str | None) -> tuple[int, dict[str, Any]]:
        """The user info read again with the access token of the last login."""
        with self._lock:
            access = self._tokens.get(handle or "")
        if access is None:
            return 404, {}
        with self._client() as client:
            client.token = {"access_token": access, "token_type": "Bearer"}
            answer = client.get(self._provider.get().userinfo_endpoint, timeout=TIMEOUT)
        return answer.status_code, answer.json()

    def _keep(self, access_token: str) -> str:
        handle = secrets.token_urlsafe(16)
        with self._lock:
            while len(self._tokens) >= MAX_TOKENS:
                self._tokens.pop(next(iter(self._tokens)))
            self._tokens[handle] = access_token
        return handle


HOME = home_template(logged_in="""\
 <p>Logged in as <code class="sub">{{ result.sub }}</code> (pairwise <code>sub</code>)<br>
    from <code>{{ result.issuer }}</code>, logged in at school at {{ auth_time }}
    {% if result.acr %}(<code>{{ result.acr }}</code>){% endif %}</p>
 <table class="claims"><tr><th>claim</th><th>ID token</th><th>user info</th></tr>
 {% for name in names %}
  <tr><td class="claim-name">{{ name }}</td>
      <td class="claim-value">{{ result.claims.get(name, "") }}</td>
      <td class="userinfo-value">{{ result.userinfo.get(name, "") }}</td></tr>
 {% else %}<tr><td colspan="3">(no claims)</td></tr>{% endfor %}
 </table>""", login_options="""\
 <label>prompt: <select name="prompt"><option value="">(none)</option>
  <option>login</option><option>none</option></select></label>
 <label>max_age: <input name="max_age" value="" size="6"></label>""")


def create_oidc_rp(base_url: str, state_dir: Path, issuer: str, client_id: str,
                   client_secret: str, name: str = "Leesplein") -> Flask:
    """The authlib demo supplier at `base_url`, a client of the OpenID Provider at `issuer`.

    Its redirect URI is f"{base_url}/callback"; its Flask secret lives in `state_dir`.
    """
    base = base_url.rstrip("/")
    rp = OidcRp(base, issuer, client_id, client_secret)
    app = new_app(__name__, base, state_dir, cookie=f"{name.lower()}-rp")

    def _result() -> LoginResult | None:
        stored = session.get("result")
        result = LoginResult(**stored) if stored else None
        if result is not None and rp.ended.ended(result.id_token.get("sid")):
            return None  # Loper ended this session over the back channel
        return result

    @app.get("/")
    def home() -> str:
        result = _result()
        names = sorted({*result.claims, *result.userinfo} - {"sub"}) if result else []
        when = (time.strftime("%H:%M:%S", time.localtime(result.auth_time))
                if result and result.auth_time else "?")
        return page(name, HOME, result=result, names=names, auth_time=when)

    @app.get("/login")
    def login() -> BaseResponse | tuple[str, int]:
        max_age = request.args.get("max_age", "").strip()
        if max_age and not max_age.isdigit():
            return page(name, FAILED, problem="max_age must be a number of seconds"), 400
        url, pending = rp.start_login(request.args.get("school") or None,
                                      request.args.get("prompt") or None,
                                      int(max_age) if max_age else None)
        session["pending"] = [asdict(pending), *session.get("pending", [])][:MAX_PENDING]
        return redirect(url, code=303)

    @app.get("/callback")
    def callback() -> BaseResponse | tuple[str, int]:
        kept = [Pending(**p) for p in session.get("pending", [])]
        params = request.args.to_dict()
        try:
            result, handle = rp.finish_login(request.url, params, kept)
        except LoginFailed as exc:
            return page(name, FAILED, problem=str(exc)), 400
        except Exception as exc:  # authlib raises its own errors for a refused token request
            return page(name, FAILED, problem=f"{type(exc).__name__}: {exc}"), 400
        session["pending"] = [asdict(p) for p in kept if p.state != params.get("state")]
        session["result"] = asdict(result)
        session["token"] = handle
        return redirect("/", code=303)

    @app.get("/whoami")
    def whoami() -> Response:
        result = _result()
        return jsonify(asdict(result) if result else None)

    @app.get("/userinfo")
    def userinfo() -> tuple[Response, int]:
        status, body = rp.userinfo_now(session.get("token"))
        return jsonify({"status": status, "userinfo": body}), 200

    @app.post("/logout")
    def logout() -> BaseResponse:
        """Log out here, and at Loper (and so everywhere) when logged in through it."""
        result = _result()
        session.clear()
        state = secrets.token_urlsafe(16)
        url = rp.logout_url(result.raw_id_token, base, state) if (
            result and result.raw_id_token) else None
        if url is None:
            return redirect("/", code=303)
        session["logout_state"] = state
        return redirect(url, code=303)

    @app.get("/bye")
    def bye() -> tuple[str, int]:
        expected = session.pop("logout_state", None)
        if expected is None or request.args.get("state") != expected:
            return page(name, FAILED, problem="this logout was not started here"), 400
        return page(name, BYE, app_name=name), 200

    @app.post("/logout/backchannel")
    def backchannel() -> tuple[str, int, dict[str, str]]:
        headers = {"Cache-Control": "no-store"}
        try:
            rp.back_channel_logout(request.form.get("logout_token", ""))
        except LoginFailed as exc:
            return str(exc), 400, headers
        return "", 200, headers

    return app


BYE = "<p class=\"bye\">You are logged out of {{ app_name }} and of Loper.</p>"
