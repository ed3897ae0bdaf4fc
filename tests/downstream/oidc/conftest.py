"""Fixtures for Loper's OpenID Provider: keys made once, a real SQLite store, suppliers, and `Rp`,
a small helper that plays a relying party against OidcOp directly.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from broker.downstream import Delivery, DownstreamRequest
from broker.downstream.oidc_common import JsonReply
from broker.downstream.oidc_config import OidcOpConfig
from broker.downstream.oidc_kind import OidcSupplier
from broker.downstream.oidc_op import OidcOp
from broker.identity import AuthnContext, Released
from broker.keys import ensure_oidc_keys, oidc_key_paths
from broker.records import Supplier
from broker.store import StateStore, open_store

ISSUER = "https://loper.test"
TOKEN_URL = ISSUER + "/oidc/token"
REDIRECT = "https://taalapp.example/callback"
SECRET = "taalapp-secret-0123456789"
ACR = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
ATTRIBUTES = {
    "role": ("student",),
    "given_name": ("Anna",),
    "family_name": ("de Vries",),
    "display_name": ("Anna de Vries",),
    "email": ("anna@regenboog.example",),
    "groups": ("3A", "3B"),
}


def make_supplier(client_id: str = "taalapp", **oidc: Any) -> Supplier:
    settings: dict[str, Any] = {"client_secret": SECRET, "redirect_uris": (REDIRECT,), **oidc}
    return Supplier(id=client_id, name=client_id.title(), sector=client_id,
                    key_version=1, url=f"https://{client_id}.example/",
                    config=OidcSupplier(client_id=client_id, **settings))


def released_for(supplier: Supplier, subject: str | None = None,
                 attributes: dict[str, tuple[str, ...]] | None = None) -> Released:
    return Released(school_id="regenboog", supplier_id=supplier.id,
                    subject=subject or f"1:{hashlib.sha256(supplier.id.encode()).hexdigest()}",
                    attributes=ATTRIBUTES if attributes is None else attributes,
                    authn=AuthnContext(datetime.now(UTC) - timedelta(seconds=30), ACR))


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def basic(client_id: str = "taalapp", secret: str = SECRET) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def verify_id_token(op: OidcOp, token: str) -> jwt.Token:
    """Verify as an RP would: against the published JWKS, by kid, with pinned algorithms."""
    decoded = jwt.decode(token, KeySet.import_key_set(op.jwks()),  # type: ignore[arg-type]
                         algorithms=["RS256", "ES256"])
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": ISSUER},
                          exp={"essential": True}, iat={"essential": True}).validate(
        decoded.claims)
    return decoded


@dataclass
class Rp:
    """A relying party driving OidcOp directly (what the flow and the blueprint do around it)."""

    op: OidcOp
    supplier: Supplier
    verifier: str = ""
    challenge: str = ""
    last_request: DownstreamRequest | None = None

    def __post_init__(self) -> None:
        self.verifier, self.challenge = pkce_pair()

    @property
    def client_id(self) -> str:
        assert self.supplier.protocol == "oidc"
        return self.supplier.config.client_id

    def params(self, **extra: str | None) -> dict[str, str]:
        base: dict[str, str | None] = {
            "client_id": self.client_id, "redirect_uri": REDIRECT, "response_type": "code",
            "scope": "openid profile email", "state": "st-" + secrets.token_hex(4),
            "code_challenge": self.challenge, "code_challenge_method": "S256"}
        base.update(extra)
        return {k: v for k, v in base.items() if v is not None}

    def authorize(self, **extra: str | None) -> DownstreamRequest:
        outcome = self.op.parse_authorization(self.params(**extra))
        assert isinstance(outcome, DownstreamRequest), outcome
        self.last_request = outcome
        return outcome

    def login(self, released: Released | None = None, **extra: str | None) -> dict[str, str]:
        """Authorize, let the pupil log in, and return the redirect's query parameters."""
        req = self.authorize(**extra)
        answer = self.op.respond(self.supplier, req.request,
                                 released or released_for(self.supplier))
        assert answer.url.startswith(REDIRECT + "?") and answer.form is None
        return query_of(answer.url)

    def code(self, **extra: str | None) -> str:
        return self.login(**extra)["code"]

    def exchange(self, code: str, *, auth: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None, **extra: str | None) -> JsonReply:
        """Redeem a code; client_secret_basic unless `auth` (form fields) or `headers` say."""
        form: dict[str, str | None] = {"grant_type": "authorization_code", "code": code,
                                       "redirect_uri": REDIRECT, "code_verifier": self.verifier,
                                       **(auth or {})}
        form.update(extra)
        if headers is None:
            headers = {} if auth else basic(self.client_id)
        return self.op.token({k: v for k, v in form.items() if v is not None}, headers)

    def tokens(self, **extra: str | None) -> dict[str, Any]:
        status, body, _ = self.exchange(self.code(**extra))
        assert status == 200, body
        return body

    def refresh(self, refresh_token: str, **extra: str) -> JsonReply:
        return self.op.token({"grant_type": "refresh_token", "refresh_token": refresh_token,
                              **extra}, basic(self.client_id))

    def userinfo(self, access_token: str) -> JsonReply:
        return self.op.userinfo({"Authorization": f"Bearer {access_token}"})


@pytest.fixture(scope="session")
def key_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    current, upcoming = tmp_path_factory.mktemp("keys"), tmp_path_factory.mktemp("next-keys")
    ensure_oidc_keys(current)
    ensure_oidc_keys(upcoming)
    return current, upcoming


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    the_store = open_store(f"sqlite:///{tmp_path}/state.sqlite")
    yield the_store
    the_store.close()


@pytest.fixture
def suppliers() -> dict[str, Supplier]:
    return {s.id: s for s in (
        make_supplier(),
        make_supplier("rekenapp", offline_access=True, id_token_alg="ES256"),
        make_supplier("legacy", pkce_required=False),
        make_supplier("twouris", redirect_uris=(REDIRECT, REDIRECT + "2")),
    )}


@pytest.fixture
def deliveries() -> list[Delivery]:
    """What the OP has written to the ledger (it records when a code is redeemed)."""
    return []


@pytest.fixture
def make_op(key_dirs: tuple[Path, Path], store: StateStore, suppliers: dict[str, Supplier],
            deliveries: list[Delivery]) -> Callable[..., OidcOp]:
    def make(**config: Any) -> OidcOp:
        settings: dict[str, Any] = {"issuer": ISSUER, "signing_keys": oidc_key_paths(key_dirs[0]),
                                    "record_delivery": deliveries.append, **config}
        return OidcOp(OidcOpConfig(**settings), store, suppliers.get)
    return make


@pytest.fixture
def op(make_op: Callable[..., OidcOp]) -> OidcOp:
    return make_op()


@pytest.fixture
def rp(op: OidcOp, suppliers: dict[str, Supplier]) -> Rp:
    return Rp(op, suppliers["taalapp"])


@pytest.fixture
def offline_rp(op: OidcOp, suppliers: dict[str, Supplier]) -> Rp:
    return Rp(op, suppliers["rekenapp"])


REDIRECT_VARIANTS = {
    "prefix": "https://taalapp.example/callbac",
    "suffix": "https://taalapp.example/callback2",
    "extra path": "https://taalapp.example/callback/evil",
    "trailing slash": "https://taalapp.example/callback/",
    "path case": "https://taalapp.example/Callback",
    "host case": "https://TAALAPP.example/callback",
    "userinfo": "https://taalapp.example@evil.example/callback",
    "userinfo prefix": "https://evil@taalapp.example/callback",
    "fragment": "https://taalapp.example/callback#x",
    "traversal": "https://taalapp.example/callback/../evil",
    "encoded traversal": "https://taalapp.example/callback/%2e%2e/evil",
    "encoded slash": "https://taalapp.example%2Fcallback",
    "double encoded": "https%3A%2F%2Ftaalapp.example%2Fcallback",
    "nul byte": "https://taalapp.example/callback\x00",
    "encoded nul": "https://taalapp.example/callback%00",
    "backslash": "https://taalapp.example\\@evil.example/callback",
    "javascript": "javascript:alert(1)//https://taalapp.example/callback",
    "data": "data:text/html,<script>alert(1)</script>",
    "http": "http://taalapp.example/callback",
    "port": "https://taalapp.example:8443/callback",
    "default port": "https://taalapp.example:443/callback",
    "query added": "https://taalapp.example/callback?next=https://evil.example",
    "host suffix": "https://taalapp.example.evil.example/callback",
    "leading space": " https://taalapp.example/callback",
    "trailing dot host": "https://taalapp.example./callback",
    "empty": "",
}
"""Near misses of REDIRECT: each must end on Loper's error page, never in a redirect."""
