"""Demo OIDC school "Het Lyceum": a small OpenID Provider for the demo and the tests.

An `OpProfile` makes it another school's OP with that provider's claim shapes (the Google and
Entra ID schools of demo/school_cloud.py); the default profile is the Lyceum's.

Authorization code flow only, PKCE S256 required, client_secret_basic, RS256 ID tokens with a
kid, RFC 9207 `iss` in every authorization response. Routes: /.well-known/openid-configuration,
/jwks, /authorize (the login form, or straight back on single sign-on), /authorize/login (the
form posts here), /token, /userinfo, / (status).

Hostile tests make it misbehave in one precise way: `app.config["TWEAKS"] = OpTweaks(...)`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from flask import Flask, Response, jsonify, redirect, request, session
from flask.typing import ResponseReturnValue
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from joserfc.util import json_b64encode, urlsafe_b64encode
from werkzeug.wrappers import Response as BaseResponse

from demo.keys import ensure_keypair
from demo.people import PASSWORD, DemoPerson
from demo.web import new_app, page

SCHOOL_NAME = "Het Lyceum"
ACR = "urn:lyceum:password"
KEY_NAME = "lyceum-op"
CODE_TTL, TOKEN_TTL, ID_TOKEN_TTL = 60, 300, 300
_ECK = "https://ketenid.nl/201703/"
LYCEUM_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("a41f7c2e9d3b4e6f8a0c1b2d3e4f5a6b", "Lotte", "Bakker", ("student",),
               ("4havo-b",), _ECK + "2c4e6a8b0d1f3a5c7e9b1d3f5a7c9e1b", "lyceum.example", "34XY"),
    DemoPerson("b52e8d3f0a4c4f7a9b1d2c3e4f5a6b7c", "Milan", "de Boer", ("student",),
               ("5vwo-a",), _ECK + "3d5f7b9c1e2a4b6d8f0c2e4a6b8d0f2c", "lyceum.example", "34XY"),
    DemoPerson("c63f9e4a1b5d4a8b0c2e3d4f5a6b7c8d", "Fatima", "Yilmaz", ("employee",),
               ("4havo-b", "5vwo-a", "docenten"), _ECK + "4e6a8c0d2f3b5c7e9a1d3f5b7c9e1a3d",
               "lyceum.example", "34XY"),
)
"""Two pupils and one teacher of Het Lyceum."""
_ID_TOKEN_CLAIMS = ("given_name", "family_name", "name", "email")
_HMAC = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
_REQUEST_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
                   "code_challenge", "code_challenge_method", "prompt", "max_age")

LOGIN = """
<p>{{ client }} asks you to log in.</p>
{% if error %}<p class="error">{{ error }}</p>{% endif %}
<form method="post" action="/authorize/login">
{% for name, value in hidden.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}
<fieldset><legend>Who are you?</legend>
{% for p in people %}
 <label><input type="radio" name="person" value="{{ p.id }}"{% if loop.first %} checked{% endif %}>
 {{ p.display_name }} ({{ p.role }})</label><br>
{% endfor %}
</fieldset>
<label>Password (demo): <input type="password" name="password" autocomplete="off"></label>
<button>Log in</button> <button name="cancel" value="1">Cancel</button>
</form>
"""


@dataclass(frozen=True)
class OpClient:
    client_id: str
    client_secret: str
    redirect_uris: Sequence[str]
    post_logout_redirect_uris: Sequence[str] = ()
    """RP-Initiated Logout 1.0: where /logout may send the browser back (exact match)."""


@dataclass(frozen=True)
class OpTweaks:
    """One precise way to misbehave, for hostile tests; the defaults make a correct OP."""

    alg: str = "RS256"
    """RS*/PS* sign with the OP's key; "none" signs nothing; "HS256" is an HMAC keyed with the
    OP's public key PEM (the key-confusion attack)."""
    key: str = "published"
    """"rogue": a key not in the JWKS, under the published kid; "rotated": a new key with a kid
    of its own, published next to the old one."""
    claims: Mapping[str, Any] = field(default_factory=dict)
    """ID-token claims to set; None leaves a claim out (e.g. {"nonce": None})."""
    userinfo_sub: str | None = None
    iss_param: str | None = None
    """The authorization response's `iss`: None the issuer, "" left out, else this value."""
    discovery: Mapping[str, Any] = field(default_factory=dict)
    """Discovery fields to set; None leaves a field out."""


@dataclass(frozen=True)
class OpProfile:
    """Whose OP this is: the school's name, its signing key's file name, its session cookie,
    what it tells about a person (person, scopes -> claims) and which of those the ID token
    carries (the rest only the user info)."""

    name: str = SCHOOL_NAME
    key_name: str = KEY_NAME
    cookie: str = "lyceum-op"
    claims: Callable[[DemoPerson, Sequence[str]], dict[str, Any]] = field(
        default=lambda person, scopes: person_claims(person, scopes))
    id_token_claims: tuple[str, ...] = _ID_TOKEN_CLAIMS
    supported: tuple[str, ...] = ("eduperson_affiliation", "schac_home_organization")
    """Claims discovery lists besides the standard ones."""
    subject: Callable[[DemoPerson], str] = field(default=lambda person: person.id)
    """The `sub` of a person (Entra ID: pairwise per app, unlike its `oid`)."""


class _Fatal(Exception):
    """A request the OP must not redirect back (unknown client or redirect URI)."""


@dataclass(frozen=True)
class _AuthRequest:
    client: OpClient
    params: Mapping[str, str]

    @classmethod
    def read(cls, args: Mapping[str, str], clients: Sequence[OpClient]) -> _AuthRequest:
        client = next((c for c in clients if c.client_id == args.get("client_id")), None)
        if client is None:
            raise _Fatal("Unknown client_id.")
        if args.get("redirect_uri") not in client.redirect_uris:
            raise _Fatal("This redirect_uri is not registered for the client.")
        return cls(client, {k: args[k] for k in _REQUEST_FIELDS if args.get(k)})

    def problem(self) -> str | None:
        """The OAuth error to send back, if any (RFC 6749 4.1.2.1, RFC 7636 4.4.1)."""
        p = self.params
        if p.get("response_type") != "code":
            return "unsupported_response_type"
        if "openid" not in p.get("scope", "").split():
            return "invalid_scope"
        if p.get("code_challenge_method") != "S256" or not p.get("code_challenge"):
            return "invalid_request"
        return None if p.get("max_age", "0").isdigit() else "invalid_request"

    def must_log_in(self, auth_time: float) -> bool:
        max_age = self.params.get("max_age")
        return ("login" in self.params.get("prompt", "").split()
                or (max_age is not None and time.time() - auth_time > int(max_age)))


@dataclass(frozen=True)
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    scope: tuple[str, ...]
    person: DemoPerson
    auth_time: float
    expires: float = field(default_factory=lambda: time.time() + CODE_TTL)

    def redeemable(self, client: OpClient, form: Mapping[str, str]) -> bool:
        verifier = form.get("code_verifier", "")
        return (self.client_id == client.client_id and time.time() < self.expires
                and form.get("redirect_uri") == self.redirect_uri
                and 43 <= len(verifier) <= 128 and hmac.compare_digest(
                    create_s256_code_challenge(verifier), self.challenge))


class _Store:
    """Codes and access tokens in memory; a code is taken once (RFC 6749 4.1.2)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes: dict[str, _Grant] = {}
        self.used: dict[str, str | None] = {}
        self.tokens: dict[str, tuple[_Grant, float]] = {}

    def new_code(self, grant: _Grant) -> str:
        code = secrets.token_urlsafe(32)
        with self.lock:
            self.codes[code] = grant
        return code

    def take_code(self, code: str) -> _Grant | None:
        """The code's grant, once; a second use revokes the token issued for it."""
        with self.lock:
            grant = self.codes.pop(code, None)
            if grant is None:
                self.tokens.pop(self.used.get(code) or "", None)
                return None
            self.used[code] = None
            return grant

    def new_token(self, code: str, grant: _Grant) -> str:
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = (grant, time.time() + TOKEN_TTL)
            self.used[code] = token
        return token

    def grant_for(self, token: str) -> _Grant | None:
        with self.lock:
            grant, expires = self.tokens.get(token, (None, 0.0))
        return grant if time.time() < expires else None


class _Keys:
    def __init__(self, state_dir: Path, key_name: str = KEY_NAME) -> None:
        key_file, _ = ensure_keypair(state_dir, key_name)
        self.published = RSAKey.import_key(key_file.read_bytes())
        self.published.ensure_kid()

    @cached_property
    def rogue(self) -> RSAKey:
        return RSAKey.generate_key(2048)

    @cached_property
    def rotated(self) -> RSAKey:
        return RSAKey.generate_key(2048, auto_kid=True)

    def jwks(self, tweaks: OpTweaks) -> dict[str, Any]:
        keys = [self.published] + ([self.rotated] if tweaks.key == "rotated" else [])
        return dict(KeySet(list(keys)).as_dict(private=False, use="sig"))

    def sign(self, claims: dict[str, Any], tweaks: OpTweaks) -> str:
        if tweaks.alg == "none" or tweaks.alg in _HMAC:
            return _forge(tweaks.alg, claims, self.published.as_pem(private=False))
        key = {"published": self.published, "rogue": self.rogue,
               "rotated": self.rotated}[tweaks.key]
        kid = self.published.kid if tweaks.key == "rogue" else key.kid
        return jwt.encode({"alg": tweaks.alg, "kid": kid}, claims, key, algorithms=[tweaks.alg])


def _forge(alg: str, claims: dict[str, Any], public_pem: bytes) -> str:
    """What a hostile OP sends: no signature at all, or an HMAC keyed with the public key."""
    signing_input = json_b64encode({"alg": alg, "typ": "JWT"}) + b"." + json_b64encode(claims)
    mac = b"" if alg == "none" else hmac.new(public_pem, signing_input, _HMAC[alg]).digest()
    return (signing_input + b"." + urlsafe_b64encode(mac)).decode("ascii")


def person_claims(person: DemoPerson, scopes: Sequence[str]) -> dict[str, Any]:
    """What the Lyceum tells about a person. phone_number comes always: an over-sharing school
    (on purpose), whose extra claim Loper must drop."""
    claims: dict[str, Any] = {"eduperson_affiliation": list(person.affiliation),
                              "schac_home_organization": person.school_domain,
                              "phone_number": "+31 6 12345678"}
    if "profile" in scopes:
        claims.update(given_name=person.given_name, family_name=person.family_name,
                      name=person.display_name)
    if "email" in scopes:
        claims["email"] = person.email
    return claims


def discovery(base: str, tweaks: OpTweaks,
              claims: Sequence[str] = ("eduperson_affiliation", "schac_home_organization"),
              ) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "issuer": base, "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token", "userinfo_endpoint": f"{base}/userinfo",
        "end_session_endpoint": f"{base}/logout",
        "jwks_uri": f"{base}/jwks", "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": sorted({"RS256", tweaks.alg}),
        "scopes_supported": ["openid", "profile", "email"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"], "acr_values_supported": [ACR],
        "claims_supported": ["sub", "iss", "auth_time", "acr", "nonce", *_ID_TOKEN_CLAIMS,
                             *claims],
        "authorization_response_iss_parameter_supported": True}
    doc.update(tweaks.discovery)
    return {k: v for k, v in doc.items() if v is not None}


def create_school_op(base_url: str, state_dir: Path,
                     clients: Sequence[OpClient] | Callable[[], Sequence[OpClient]],
                     people: Sequence[DemoPerson] | None = None,
                     profile: OpProfile | None = None) -> Flask:
    """The demo school's OP at `base_url` (its issuer); its key and secrets live in `state_dir`.

    `clients`: the relying parties it knows (Loper), or a callable asked on every request.
    `app.config["TWEAKS"]` holds the OpTweaks in force (a correct OP by default).
    """
    profile = profile or OpProfile()
    app = new_app(__name__, base_url, state_dir, cookie=profile.cookie)
    app.config["TWEAKS"] = OpTweaks()
    op = _Provider(app, base_url.rstrip("/"), state_dir, clients, tuple(people or LYCEUM_PEOPLE),
                   profile)
    app.add_url_rule("/.well-known/openid-configuration", view_func=op.configuration)
    app.add_url_rule("/jwks", view_func=op.jwks)
    app.add_url_rule("/authorize", view_func=op.authorize)
    app.add_url_rule("/authorize/login", view_func=op.authorize_login, methods=["POST"])
    app.add_url_rule("/token", view_func=op.token, methods=["POST"])
    app.add_url_rule("/userinfo", view_func=op.userinfo, methods=["GET", "POST"])
    app.add_url_rule("/logout", view_func=op.logout)
    app.add_url_rule("/", view_func=op.home)
    app.register_error_handler(_Fatal, _refused)
    return app


class _Provider:
    """The OP's views, over its keys, its codes and tokens, and its people."""

    def __init__(self, app: Flask, base: str, state_dir: Path,
                 clients: Sequence[OpClient] | Callable[[], Sequence[OpClient]],
                 people: tuple[DemoPerson, ...], profile: OpProfile) -> None:
        self.app, self.base, self.clients, self.people = app, base, clients, people
        self.profile = profile
        self.by_id = {p.id: p for p in people}
        self.keys, self.store = _Keys(state_dir, profile.key_name), _Store()

    @property
    def tweaks(self) -> OpTweaks:
        tweaks: OpTweaks = self.app.config["TWEAKS"]
        return tweaks

    def listed(self) -> Sequence[OpClient]:
        return self.clients() if callable(self.clients) else self.clients

    def configuration(self) -> Response:
        return jsonify(discovery(self.base, self.tweaks, self.profile.supported))

    def jwks(self) -> Response:
        return jsonify(self.keys.jwks(self.tweaks))

    def home(self) -> str:
        name = self.profile.name
        return page(name, '<p>The OpenID Provider of {{ name }}: see its <a href='
                    '"/.well-known/openid-configuration">configuration</a>.</p>', name=name)

    def authorize(self) -> ResponseReturnValue:
        req = _AuthRequest.read(request.args, self.listed())
        login = session.get("login")
        person = self.by_id.get(login["person"]) if login else None
        problem = req.problem()
        if problem:
            return self.back(req, error=problem)
        if person and login and not req.must_log_in(login["at"]):  # single sign-on
            return self.back_with_code(req, person, login["at"])
        if "none" in req.params.get("prompt", "").split():
            return self.back(req, error="login_required")
        return self.login_form(req)

    def authorize_login(self) -> ResponseReturnValue:
        req = _AuthRequest.read(request.form, self.listed())
        if req.problem() or request.form.get("cancel"):
            return self.back(req, error=req.problem() or "access_denied")
        person = self.by_id.get(request.form.get("person", ""))
        password = request.form.get("password", "").encode()
        if person is None or not hmac.compare_digest(password, PASSWORD.encode()):
            return self.login_form(req, error="Unknown person or wrong password.")
        session["login"] = {"person": person.id, "at": time.time()}
        return self.back_with_code(req, person, session["login"]["at"])

    def login_form(self, req: _AuthRequest, error: str | None = None) -> str:
        return page(self.profile.name, LOGIN, client=req.client.client_id, error=error,
                    people=self.people, hidden=req.params)

    def back(self, req: _AuthRequest, **answer: str) -> BaseResponse:
        """The authorization response, with `iss` (RFC 9207) and the client's `state`."""
        iss = self.base if self.tweaks.iss_param is None else self.tweaks.iss_param
        answer.update({"iss": iss} if iss else {})
        answer.update({"state": req.params["state"]} if "state" in req.params else {})
        return redirect(_with_query(req.params["redirect_uri"], answer), 303)

    def back_with_code(self, req: _AuthRequest, person: DemoPerson,
                       auth_time: float) -> BaseResponse:
        p = req.params
        grant = _Grant(req.client.client_id, p["redirect_uri"], p["code_challenge"],
                       p.get("nonce"), tuple(p["scope"].split()), person, auth_time)
        return self.back(req, code=self.store.new_code(grant))

    def token(self) -> ResponseReturnValue:
        client = _authenticated(self.listed())
        if client is None:
            return _oauth_error("invalid_client", 401, {"WWW-Authenticate": 'Basic realm="op"'})
        if request.form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type")
        code = request.form.get("code", "")
        grant = self.store.take_code(code)
        if grant is None or not grant.redeemable(client, request.form):
            return _oauth_error("invalid_grant")
        access = self.store.new_token(code, grant)
        id_token = self.keys.sign(_id_token_claims(self.base, grant, self.tweaks, self.profile),
                                  self.tweaks)
        answer = jsonify(access_token=access, token_type="Bearer", expires_in=TOKEN_TTL,
                         scope=" ".join(grant.scope), id_token=id_token)
        answer.headers["Cache-Control"] = "no-store"
        return answer

    def logout(self) -> ResponseReturnValue:
        return _logout(self)

    def userinfo(self) -> ResponseReturnValue:
        auth = request.headers.get("Authorization", "")
        grant = self.store.grant_for(auth[7:]) if auth[:7].lower() == "bearer " else None
        if grant is None:
            return _oauth_error("invalid_token", 401,
                                {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        sub = self.tweaks.userinfo_sub or self.profile.subject(grant.person)
        return jsonify({"sub": sub, **self.profile.claims(grant.person, grant.scope)})


def _logout(op: _Provider) -> ResponseReturnValue:
    """RP-Initiated Logout 1.0: end the session here; back to a registered
    post_logout_redirect_uri of the client its id_token_hint was issued to, with its state."""
    session.pop("login", None)
    hint, back = request.args.get("id_token_hint", ""), request.args.get("post_logout_redirect_uri")
    try:
        claims = jwt.decode(hint, op.keys.published, algorithms=["RS256"]).claims if hint else {}
    except (JoseError, ValueError) as exc:
        raise _Fatal("The id_token_hint was not issued here.") from exc
    client = next((c for c in op.listed() if c.client_id == claims.get("aud")), None)
    if client is None or back is None or back not in client.post_logout_redirect_uris:
        return page(op.profile.name, "<p>You are logged out at school.</p>")
    state = request.args.get("state")
    return redirect(_with_query(back, {"state": state} if state else {}), 303)


def _refused(exc: Exception) -> tuple[str, int]:
    return page(SCHOOL_NAME, '<p class="error">{{ problem }}</p>', problem=str(exc)), 400


def _id_token_claims(base: str, grant: _Grant, tweaks: OpTweaks,
                     profile: OpProfile) -> dict[str, Any]:
    now = int(time.time())
    about = profile.claims(grant.person, grant.scope)
    claims: dict[str, Any] = {
        "iss": base, "sub": profile.subject(grant.person), "aud": grant.client_id,
        "exp": now + ID_TOKEN_TTL, "iat": now, "auth_time": int(grant.auth_time),
        "nonce": grant.nonce, "acr": ACR, "jti": secrets.token_urlsafe(16),
        **{k: v for k, v in about.items() if k in profile.id_token_claims}}
    claims.update(tweaks.claims)
    return {k: v for k, v in claims.items() if v is not None}


def _authenticated(clients: Sequence[OpClient]) -> OpClient | None:
    """client_secret_basic, both parts form-urlencoded (RFC 6749 2.3.1)."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or auth.username is None:
        return None
    client_id, secret = unquote_plus(auth.username), unquote_plus(auth.password or "")
    client = next((c for c in clients if c.client_id == client_id), None)
    ok = client is not None and hmac.compare_digest(secret.encode(), client.client_secret.encode())
    return client if ok else None


def _oauth_error(error: str, status: int = 400, headers: Mapping[str, str] | None = None,
                 ) -> tuple[Response, int, dict[str, str]]:
    return jsonify(error=error), status, {"Cache-Control": "no-store", **(headers or {})}


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))
