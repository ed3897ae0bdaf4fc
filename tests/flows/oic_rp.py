"""An OpenID Connect relying party on pyoidc (the `oic` package): a second RP library.

Next to Leesplein (authlib) and the strict RP (requests + joserfc), this RP leaves the protocol
work to oic.oic.Client: provider discovery from Loper's issuer (the JWKS goes into oic's key
jar), the authorization request with PKCE S256, state and nonce, parsing the authorization
response, the token request with client_secret_basic, verifying the ID token against Loper's
JWKS, and the user info request. The client is registered statically (the client id and secret
of a test client from oidc_clients.py), as an RP without dynamic registration would be.

oic leaves a few checks to its caller, done here: RFC 9207 `iss` (oic compares it only when it
is present), the nonce (oic skips a missing one), the ID token's alg (oic accepts "none" unless
the caller pins one), and the redirect URI the browser came back to.

The browser does the front channel, as for the strict RP:

    with oic_rp(loper, client) as rp:
        login = rp.begin(scope="openid profile email", idp_hint="regenboog")
        browser.get(login.url)                # ... school login ...
        tokens = rp.finish(login, browser.url)
        rp.userinfo(login)
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from oic import rndstr
from oic.oic import Client
from oic.oic.message import (
    AccessTokenResponse,
    AuthorizationErrorResponse,
    AuthorizationRequest,
    AuthorizationResponse,
    IdToken,
    OpenIDSchema,
    RegistrationResponse,
)
from oic.utils.authn.client import CLIENT_AUTHN_METHOD
from oic.utils.settings import OicClientSettings

from tests.flows.strict_rp import PROTOCOL_CLAIMS, RpError, check, query_of

if TYPE_CHECKING:
    from tests.flows.oidc_clients import RpClient

ID_TOKEN_ALG = "RS256"
"""Pinned, as registered: oic would otherwise take an unsigned ("none") ID token."""
TIMEOUT = 10.0


@dataclass(frozen=True)
class OicLogin:
    """One authorization request: its URL and what the RP keeps to check the answer."""

    url: str
    state: str
    nonce: str
    verifier: str


@dataclass(frozen=True)
class OicTokens:
    response: AccessTokenResponse
    id_token: IdToken
    """Verified by oic (signature against Loper's JWKS, iss, aud, azp, exp, iat)."""

    @property
    def access_token(self) -> str:
        value = self.response["access_token"]
        assert isinstance(value, str)
        return value

    @property
    def sub(self) -> str:
        value = self.id_token["sub"]
        assert isinstance(value, str)
        return value

    @property
    def claims(self) -> dict[str, Any]:
        """What the ID token says about the person."""
        return {k: v for k, v in self.id_token.to_dict().items() if k not in PROTOCOL_CLAIMS}


class OicRp:
    def __init__(self, issuer: str, client: RpClient, redirect_uri: str,
                 http: requests.Session) -> None:
        self.issuer = issuer
        self.redirect_uri = redirect_uri
        settings = OicClientSettings(timeout=TIMEOUT, requests_session=http)
        self.client = Client(client_authn_method=CLIENT_AUTHN_METHOD, settings=settings,
                             config={"code_challenge": {"method": "S256", "length": 64}})
        self.client.provider_config(issuer)  # discovery; checks the issuer, loads the JWKS
        check(self.client.issuer == issuer, "discovery names another issuer (OIDCD 4.3)")
        self.client.store_registration_info(RegistrationResponse(
            client_id=client.client_id, client_secret=client.secret,
            redirect_uris=[self.redirect_uri], response_types=["code"],
            token_endpoint_auth_method="client_secret_basic",
            id_token_signed_response_alg=ID_TOKEN_ALG))
        self.client.redirect_uris = [self.redirect_uri]

    # -- the front channel ----------------------------------------------------------------
    def begin(self, scope: str = "openid", **params: str) -> OicLogin:
        state, nonce = rndstr(24), rndstr(32)
        pkce, verifier = self.client.add_code_challenge()
        check(pkce["code_challenge_method"] == "S256", "PKCE is not S256")
        args = {"response_type": "code", "scope": scope, "redirect_uri": self.redirect_uri,
                "state": state, "nonce": nonce, **pkce, **params}
        url, _, _, _ = self.client.request_info(AuthorizationRequest, method="GET",
                                                request_args=args)
        return OicLogin(url, state, nonce, verifier)

    def answer(self, login: OicLogin,
               url: str) -> AuthorizationResponse | AuthorizationErrorResponse:
        """The authorization response at the callback, parsed by oic; iss and state checked."""
        check(urlsplit(url)._replace(query="").geturl() == self.redirect_uri,
              f"the browser is not back at the redirect URI but at {url}")
        # RFC 9207: oic compares iss only when the answer carries one, so check it is there
        check(query_of(url).get("iss") == self.issuer, "the answer's iss is missing or wrong")
        response = self.client.parse_response(AuthorizationResponse, info=url,
                                              sformat="urlencoded")
        if not isinstance(response, AuthorizationResponse | AuthorizationErrorResponse):
            raise RpError(f"unexpected authorization response {response!r}")
        check(response.get("state") == login.state, "the answer's state differs")
        return response

    # -- the back channel -----------------------------------------------------------------
    def finish(self, login: OicLogin, url: str) -> OicTokens:
        response = self.answer(login, url)
        check(isinstance(response, AuthorizationResponse) and "error" not in response,
              f"the OP answered an error: {response.to_dict()}")
        tokens = self.client.do_access_token_request(
            state=login.state, authn_method="client_secret_basic",
            request_args={"redirect_uri": self.redirect_uri, "code_verifier": login.verifier},
            algs={"sign": ID_TOKEN_ALG})
        check(isinstance(tokens, AccessTokenResponse) and "error" not in tokens,
              f"the token request failed: {tokens.to_dict()}")
        id_token = tokens.get("id_token")
        if not isinstance(id_token, IdToken):
            raise RpError("no ID token in the token response")
        check(id_token.jws_header.get("alg") == ID_TOKEN_ALG, "the ID token's alg")
        nonce = id_token.get("nonce")  # oic compares the nonce only when there is one
        check(isinstance(nonce, str) and hmac.compare_digest(nonce, login.nonce),
              "the ID token's nonce is missing or differs")
        check(str(tokens.get("token_type", "")).lower() == "bearer", "token_type is not Bearer")
        return OicTokens(tokens, id_token)

    def userinfo(self, login: OicLogin) -> dict[str, Any]:
        """GET with the Bearer token; oic checks its sub against the ID token's."""
        info = self.client.do_user_info_request(method="GET", state=login.state)
        if not isinstance(info, OpenIDSchema):
            raise RpError(f"the user info request failed: {info.to_dict()}")
        return dict(info.to_dict())


@contextmanager
def oic_rp(issuer: str, client: RpClient, redirect_uri: str | None = None) -> Iterator[OicRp]:
    """The oic RP for `client`, with an HTTP session of its own (never the browser's)."""
    with requests.Session() as http:
        yield OicRp(issuer, client, redirect_uri or client.redirect_uri, http)
