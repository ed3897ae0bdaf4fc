"""authlib's client helpers for the relying party at a school, typed (a door: authlib ships no
types): the authorization and token requests, client authentication, the PKCE challenge and
the ID token's claims checks (CodeIDToken)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Protocol, cast

from authlib.common.urls import add_params_to_uri, url_decode
from authlib.oauth2 import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken


class Credentials(Protocol):
    """authlib's ClientAuth: adds the client's credentials to the token request."""

    def prepare(self, method: str, uri: str, headers: dict[str, str],
                body: str) -> tuple[str, dict[str, str], str]: ...


def authorization_url(endpoint: str, client_id: str, scope: Sequence[str],
                      **params: str | None) -> str:
    """RFC 6749 4.1.1 (response_type code); parameters that are None are left out."""
    return str(prepare_grant_uri(endpoint, client_id, "code", scope=scope, **params))


def token_request(code: str, verifier: str, redirect_uri: str) -> str:
    """RFC 6749 4.1.3 with RFC 7636 4.5: the form body that redeems the code."""
    return str(prepare_token_request("authorization_code", code=code, code_verifier=verifier,
                                     redirect_uri=redirect_uri))


def add_params(uri: str, params: Mapping[str, str]) -> str:
    return str(add_params_to_uri(uri, params))


def form_pairs(body: str) -> dict[str, str]:
    return dict(url_decode(body))


def credentials(client_id: str, secret: str, method: str) -> Credentials:
    return cast(Credentials, ClientAuth(client_id, secret, method))


def s256_challenge(verifier: str) -> str:
    """RFC 7636 4.2."""
    return str(create_s256_code_challenge(verifier))


ESSENTIAL_CLAIMS: Collection[str] = tuple(CodeIDToken.ESSENTIAL_CLAIMS)


def check_code_id_token(claims: dict[str, object], header: dict[str, object], *,
                        issuer: str, client_id: str, nonce: str, access_token: str | None,
                        now: int, leeway: int) -> None:
    """authlib's checks for an ID token of the code flow (OIDC Core 3.1.3.7: iss, aud, azp,
    exp, iat, nbf, nonce, at_hash); joserfc's ClaimError names the claim that failed."""
    id_token = CodeIDToken(
        claims, header,
        options={"iss": {"essential": True, "value": issuer},
                 "aud": {"essential": True, "value": client_id}},
        params={"nonce": nonce, "client_id": client_id, "access_token": access_token})
    id_token.validate(now=now, leeway=leeway)
