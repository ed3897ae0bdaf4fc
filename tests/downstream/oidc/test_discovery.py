"""Discovery and JWKS (OIDC Discovery 3, 4; RFC 7638 kids; the oidcc-discovery-endpoint-verification
checks of the OpenID conformance suite)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from joserfc.jwk import KeySet

from broker.attributes import VOCABULARY
from broker.downstream.oidc_config import OidcOpConfig
from broker.downstream.oidc_op import OidcOp
from broker.errors import ConfigError
from broker.keys import oidc_key_paths
from broker.store import StateStore
from tests.downstream.oidc.conftest import ISSUER


def test_discovery_names_everything_under_the_issuer(op: OidcOp) -> None:
    doc = op.discovery()
    assert doc["issuer"] == ISSUER
    for name, path in (("authorization_endpoint", "/oidc/authorize"),
                       ("token_endpoint", "/oidc/token"), ("userinfo_endpoint", "/oidc/userinfo"),
                       ("jwks_uri", "/oidc/jwks"), ("revocation_endpoint", "/oidc/revoke"),
                       ("end_session_endpoint", "/oidc/logout")):
        assert doc[name] == ISSUER + path
    assert doc["response_types_supported"] == ["code"]
    assert doc["subject_types_supported"] == ["pairwise"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic", "client_secret_post", "private_key_jwt"]
    assert doc["token_endpoint_auth_signing_alg_values_supported"] == ["RS256", "ES256", "PS256"]
    assert doc["scopes_supported"] == ["openid", "profile", "email", "offline_access"]
    assert doc["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    # exactly what the authorization request honours; anything else is invalid_request
    assert doc["prompt_values_supported"] == ["none", "login", "consent", "select_account"]
    for logout in ("backchannel_logout", "frontchannel_logout"):
        assert doc[f"{logout}_supported"] is True
        assert doc[f"{logout}_session_supported"] is True
    claims = doc["claims_supported"]
    assert isinstance(claims, list)
    assert {"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "sid"} <= set(claims)
    assert {a.oidc_claim for a in VOCABULARY} <= set(claims)


def test_jwks_publishes_public_keys_with_thumbprint_kids(op: OidcOp) -> None:
    jwks = op.jwks()
    keys = jwks["keys"]
    assert isinstance(keys, list)
    assert sorted((k["kty"], k["alg"], k["use"]) for k in keys) == [
        ("EC", "ES256", "sig"), ("RSA", "RS256", "sig")]
    assert all("d" not in k and "p" not in k for k in keys)  # never the private parts
    for key in KeySet.import_key_set(jwks):  # type: ignore[arg-type]
        assert key.kid == key.thumbprint()  # RFC 7638


def test_next_keys_are_published_before_they_sign(make_op: Callable[..., OidcOp],
                                                  key_dirs: tuple[Path, Path]) -> None:
    op = make_op(next_signing_keys=oidc_key_paths(key_dirs[1]))
    kids = [k["kid"] for k in op.jwks()["keys"]]  # type: ignore[attr-defined]
    assert len(kids) == 4 and len(set(kids)) == 4


def test_jwks_cannot_be_changed_by_a_caller(op: OidcOp) -> None:
    op.jwks()["keys"][0]["kid"] = "evil"  # type: ignore[index]
    op.discovery()["issuer"] = "https://evil.example"
    assert all(k["kid"] != "evil" for k in op.jwks()["keys"])  # type: ignore[attr-defined]
    assert op.discovery()["issuer"] == ISSUER


@pytest.mark.parametrize("issuer", ["https://loper.test/", "loper.test", ""])
def test_a_malformed_issuer_is_a_config_error(issuer: str, key_dirs: tuple[Path, Path]) -> None:
    with pytest.raises(ConfigError):
        OidcOpConfig(issuer=issuer, signing_keys=oidc_key_paths(key_dirs[0]),
                     record_delivery=lambda _: None)


def test_a_missing_or_wrong_key_is_a_config_error(tmp_path: Path, store: StateStore,
                                                  key_dirs: tuple[Path, Path]) -> None:
    swapped = {"RS256": oidc_key_paths(key_dirs[0])["ES256"]}
    for keys in ({"RS256": tmp_path / "absent.key"}, swapped, {"HS256": tmp_path / "x"}):
        with pytest.raises(ConfigError):
            OidcOp(OidcOpConfig(issuer=ISSUER, signing_keys=keys, record_delivery=lambda _: None),
                   store, lambda _: None)
