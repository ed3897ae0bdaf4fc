"""A minimal but strict OpenID Connect relying party for the tests: requests + joserfc only.

The second RP implementation next to the demo supplier Leesplein (authlib): nothing here comes
from authlib. It checks what OIDC Core 3.1.3 asks of an RP and a little more (kid in the JWKS,
RFC 9207 `iss`, at_hash, auth_time against max_age), and it lets a test bend every parameter
of the authorization and token requests.

The browser does the front channel: it follows the authorization URL through Loper and the
school, and lands on the RP's callback catcher (a tiny server that answers 200 to anything);
the RP reads the answer from the browser's URL and does the back channel itself.

    rp = StrictRp.discover(loper, client_id, secret, redirect_uri)
    login = rp.begin(scope="openid profile")
    browser.get(login.url)                 # ... picker, school login ...
    tokens = rp.finish(login, browser.url)  # checked: iss, state, code, ID token, at_hash
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from joserfc import jws, jwt
from joserfc.jwk import KeySet

from tests.peers.servers import serve

ALGORITHMS = ["RS256"]
"""Pinned: the RP never takes its algorithms from the OP's discovery document."""
SKEW = 5
TIMEOUT = 10.0
PROTOCOL_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr",
                             "amr", "azp", "at_hash", "c_hash", "sid", "jti", "nbf"})


class RpError(AssertionError):
    """A check of the RP failed: the OP answered something a strict RP must refuse."""


def check(condition: bool, problem: str) -> None:
    if not condition:
        raise RpError(problem)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def left_half_hash(value: str) -> str:
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


@dataclass(frozen=True)
class Login:
    """One authorization request: its URL and what the RP keeps to check the answer."""

    url: str
    params: dict[str, str]
    verifier: str
    started: float

    @property
    def state(self) -> str | None:
        return self.params.get("state")

    @property
    def nonce(self) -> str | None:
        return self.params.get("nonce")

    @property
    def max_age(self) -> int | None:
        value = self.params.get("max_age")
        return int(value) if value is not None else None


@dataclass(frozen=True)
class Tokens:
    status: int
    body: dict[str, Any]
    id_token: dict[str, Any] = field(default_factory=dict)
    """The verified ID token's claims (empty when the token request failed)."""
    header: dict[str, Any] = field(default_factory=dict)
    """The verified ID token's JOSE header."""

    @property
    def access_token(self) -> str:
        value = self.body["access_token"]
        assert isinstance(value, str)
        return value

    @property
    def refresh_token(self) -> str | None:
        value = self.body.get("refresh_token")
        return value if isinstance(value, str) else None

    @property
    def sub(self) -> str:
        value = self.id_token["sub"]
        assert isinstance(value, str)
        return value

    @property
    def claims(self) -> dict[str, Any]:
        """What the ID token says about the person."""
        return {k: v for k, v in self.id_token.items() if k not in PROTOCOL_CLAIMS}


@dataclass
class StrictRp:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    config: dict[str, Any]
    http: requests.Session

    @classmethod
    def discover(cls, issuer: str, client_id: str, client_secret: str, redirect_uri: str,
                 http: requests.Session) -> StrictRp:
        answer = http.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT)
        check(answer.status_code == 200, "discovery document not served")
        config = answer.json()
        check(config.get("issuer") == issuer, "discovery names another issuer (OIDCD 4.3)")
        return cls(issuer, client_id, client_secret, redirect_uri, config, http)

    def keys(self) -> KeySet:
        answer = self.http.get(self.config["jwks_uri"], timeout=TIMEOUT)
        check(answer.status_code == 200, "JWKS not served")
        return KeySet.import_key_set(answer.json())

    # -- the front channel ----------------------------------------------------------------
    def begin(self, scope: str = "openid", **params: str | None) -> Login:
        """An authorization request; a parameter given as None is left out."""
        verifier = secrets.token_urlsafe(48)
        base: dict[str, str | None] = {
            "response_type": "code", "client_id": self.client_id,
            "redirect_uri": self.redirect_uri, "scope": scope,
            "state": secrets.token_urlsafe(12), "nonce": secrets.token_urlsafe(16),
            "code_challenge": s256(verifier), "code_challenge_method": "S256"}
        base.update(params)
        sent = {k: v for k, v in base.items() if v is not None}
        url = f"{self.config['authorization_endpoint']}?{urlencode(sent)}"
        return Login(url, sent, verifier, time.time())

    def answer(self, login: Login, url: str) -> dict[str, str]:
        """The authorization response at the callback, after the RFC 9207 and state checks."""
        redirect = login.params.get("redirect_uri", self.redirect_uri)
        check(url.split("?")[0] == redirect.split("?")[0],
              f"the browser is not back at the redirect URI but at {url}")
        params = query_of(url)
        check(params.get("iss") == self.issuer, "the answer's iss is missing or wrong (RFC 9207)")
        check(params.get("state") == login.state, "the answer's state differs")
        return params

    def code(self, login: Login, url: str) -> str:
        params = self.answer(login, url)
        check("error" not in params, f"the OP answered an error: {params}")
        return params["code"]

    # -- the back channel -----------------------------------------------------------------
    def token_request(self, data: Mapping[str, str], auth: str = "basic") -> requests.Response:
        form = dict(data)
        headers: dict[str, str] = {}
        if auth == "basic":
            pair = f"{self.client_id}:{self.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        elif auth == "post":
            form.update(client_id=self.client_id, client_secret=self.client_secret)
        return self.http.post(self.config["token_endpoint"], data=form, headers=headers,
                              timeout=TIMEOUT)

    def redeem(self, login: Login, code: str, *, auth: str = "basic",
               **extra: str | None) -> Tokens:
        data: dict[str, str | None] = {
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": login.params.get("redirect_uri"), "code_verifier": login.verifier}
        data.update(extra)
        answer = self.token_request({k: v for k, v in data.items() if v is not None}, auth)
        body = answer.json()
        if answer.status_code != 200:
            return Tokens(answer.status_code, body)
        self._check_token_response(answer, body)
        header, claims = self.verify(body["id_token"], login.nonce, login.max_age,
                                     body["access_token"])
        return Tokens(answer.status_code, body, claims, header)

    def finish(self, login: Login, url: str) -> Tokens:
        tokens = self.redeem(login, self.code(login, url))
        check(tokens.status == 200, f"the token request failed: {tokens.body}")
        return tokens

    def refresh(self, refresh_token: str, **extra: str) -> Tokens:
        answer = self.token_request({"grant_type": "refresh_token",
                                     "refresh_token": refresh_token, **extra})
        body = answer.json()
        if answer.status_code != 200:
            return Tokens(answer.status_code, body)
        self._check_token_response(answer, body)
        header, claims = self.verify(body["id_token"], None, None, body["access_token"],
                                     refreshed=True)
        return Tokens(answer.status_code, body, claims, header)

    def userinfo(self, access_token: str, how: str = "get") -> requests.Response:
        """OIDC Core 5.3.1: GET or POST with the token in the header, or POST in the body."""
        url = self.config["userinfo_endpoint"]
        bearer = {"Authorization": f"Bearer {access_token}"}
        if how == "get":
            return self.http.get(url, headers=bearer, timeout=TIMEOUT)
        if how == "post-header":
            return self.http.post(url, headers=bearer, timeout=TIMEOUT)
        return self.http.post(url, data={"access_token": access_token}, timeout=TIMEOUT)

    def _check_token_response(self, answer: requests.Response, body: dict[str, Any]) -> None:
        """RFC 6749 5.1 and OIDC Core 3.1.3.3."""
        check(answer.headers.get("Content-Type", "").startswith("application/json"),
              "the token response is not JSON")
        check("no-store" in answer.headers.get("Cache-Control", ""), "tokens may be cached")
        check(str(body.get("token_type", "")).lower() == "bearer", "token_type is not Bearer")
        check(isinstance(body.get("access_token"), str), "no access_token")
        check(isinstance(body.get("id_token"), str), "no id_token")

    def verify(self, raw: str, nonce: str | None, max_age: int | None, access_token: str,
               *, refreshed: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
        """(header, claims) after the checks of OIDC Core 3.1.3.7 (and 12.2 for a refresh)."""
        header = dict(jws.extract_compact(raw.encode("ascii")).headers())
        check(header.get("alg") in ALGORITHMS, f"unexpected alg {header.get('alg')}")
        keys = self.keys()
        check(any(k.kid == header.get("kid") for k in keys), "the kid is not in the JWKS")
        claims = dict(jwt.decode(raw, keys, algorithms=ALGORITHMS).claims)
        now = time.time()
        check(claims.get("iss") == self.issuer, "iss differs from the issuer")
        aud = claims.get("aud")
        check(aud == self.client_id or (isinstance(aud, list) and self.client_id in aud
                                        and claims.get("azp") == self.client_id), "aud")
        check(isinstance(claims.get("exp"), int) and claims["exp"] > now - SKEW, "expired")
        check(isinstance(claims.get("iat"), int) and claims["iat"] <= now + SKEW, "iat")
        check(isinstance(claims.get("sub"), str) and 0 < len(claims["sub"]) <= 255, "sub")
        if refreshed:  # OIDC Core 12.2: no nonce in a refreshed ID token
            check("nonce" not in claims, "a refreshed ID token carries a nonce")
        elif nonce is None:
            check("nonce" not in claims, "a nonce that was never sent")
        else:
            check(isinstance(claims.get("nonce"), str)
                  and hmac.compare_digest(claims["nonce"], nonce), "nonce differs")
        if "at_hash" in claims:
            check(claims["at_hash"] == left_half_hash(access_token), "at_hash differs")
        if max_age is not None:
            auth_time = claims.get("auth_time")
            if not isinstance(auth_time, int):
                raise RpError("no auth_time although max_age was sent")
            check(now - auth_time <= max_age + SKEW, "auth_time is older than max_age allows")
        return header, claims


def _catch(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"callback received"]


@contextmanager
def callback_catcher() -> Iterator[str]:
    """A server that answers 200 to any request: the RPs' redirect URIs point here."""
    with serve(_catch) as base_url:
        yield base_url
