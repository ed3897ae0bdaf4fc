"""[schools.require]: Google Workspace (`hd`) and Entra ID (`tid`) schools share an issuer with
every other school at the same provider; only the required claims tell them apart.

The shapes follow the providers' documentation: Google's ID token (developers.google.com/
identity/openid-connect: iss, azp, aud, sub, hd, email, email_verified) and Entra ID's v2.0 ID
token (learn.microsoft.com id-token-claims-reference: iss per tenant, tid, oid,
preferred_username, roles, groups, ver "2.0").
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from broker.errors import UpstreamRejected
from broker.upstream.oidc import OidcUpstream
from broker.upstream.oidc_idtoken import Expected, verify_id_token
from broker.upstream.oidc_kind import OidcSchool
from broker.upstream.oidc_login import check_response
from broker.upstream.oidc_provider import ProviderInfo
from broker.upstream.oidc_require import check_required
from tests.upstream.oidc.browser import PUPIL, SchoolBrowser
from tests.upstream.oidc.conftest import CLIENT_ID, ServedOp, school_at

DOMAIN = "kompas.example.nl"
TENANT = "6f1c5b1e-0d7a-4c3e-9a51-2b8f4d3c9e10"
OTHER_TENANT = "9b2e7a44-1c3d-4e5f-8a6b-7c8d9e0f1a2b"
TEMPLATE = "https://login.microsoftonline.com/{tenantid}/v2.0"


def google(**claims: Any) -> dict[str, Any]:
    """A Google Workspace ID token's own claims (iss, aud, sub, exp, iat, nonce come from the
    test OP)."""
    return {"azp": CLIENT_ID, "hd": DOMAIN, "email": "sanne@kompas.example.nl",
            "email_verified": True, **claims}


@pytest.mark.parametrize("claims", [google(hd="another-school.example.nl"), google(hd=None),
                                    google(hd=["kompas.example.nl"][:0])],
                         ids=["another hd", "no hd (a private Google account)", "empty hd"])
def test_a_google_account_of_another_domain_is_refused(op: ServedOp, rp: OidcUpstream,
                                                       browser: SchoolBrowser,
                                                       claims: dict[str, Any]) -> None:
    school = school_at(op.base_url, require={"hd": (DOMAIN,)})
    answer = browser.log_in(rp, school)
    op.tweak(claims=claims)
    with pytest.raises(UpstreamRejected, match="'hd' claim this school requires") as refused:
        answer.finish(rp, school)
    assert DOMAIN in refused.value.message  # the expected domain may be named
    assert "another-school" not in refused.value.message


def test_a_google_account_of_the_school_is_accepted(op: ServedOp, rp: OidcUpstream,
                                                   browser: SchoolBrowser) -> None:
    school = school_at(op.base_url, require={"hd": ("other.example.nl", DOMAIN)})
    op.tweak(claims=google())
    assert browser.log_in(rp, school).finish(rp, school).identity.subject == PUPIL.id


def test_a_tenant_not_on_the_list_is_refused_without_naming_it(op: ServedOp, rp: OidcUpstream,
                                                               browser: SchoolBrowser) -> None:
    school = school_at(op.base_url, require={"tid": (TENANT,)})
    answer = browser.log_in(rp, school)
    op.tweak(claims={"tid": OTHER_TENANT, "ver": "2.0"})
    with pytest.raises(UpstreamRejected, match="'tid' claim") as refused:
        answer.finish(rp, school)
    assert OTHER_TENANT not in refused.value.message
    assert TENANT not in refused.value.message


@pytest.mark.parametrize("value", [None, 7, [DOMAIN.upper()], ["x"] * 10_000, "k" * 100_000],
                         ids=["missing", "a number", "another case", "a huge list", "huge"])
def test_odd_values_never_satisfy_a_requirement(value: object) -> None:
    with pytest.raises(UpstreamRejected, match="'hd' claim"):
        check_required({"hd": (DOMAIN,)}, {"hd": value})


# Entra ID v2.0, multi-tenant: the issuer is a template, the token's own tid fills it in.
KEY = RSAKey.generate_key(2048, parameters={"kid": "entra"})


def _entra(tenant: str, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": f"https://login.microsoftonline.com/{tenant}/v2.0", "aud": CLIENT_ID,
            "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "iat": now, "nbf": now,
            "exp": now + 3600, "nonce": "n", "tid": tenant,
            "oid": "00000000-0000-0000-66f3-3332eca7ea81", "ver": "2.0",
            "preferred_username": "sanne@esdoorn.example.nl", "name": "Sanne de Vries",
            "roles": ["Leerling"], "groups": ["c0ffee00-aaaa-bbbb-cccc-000000000001"], **claims}
    return jwt.encode({"alg": "RS256", "kid": "entra"}, body, KEY)


def _verify_entra(raw: str) -> dict[str, Any]:
    expected = Expected(TEMPLATE, CLIENT_ID, "n", ("RS256",), 60)
    claims = verify_id_token(raw, lambda _kid: KeySet([KEY]), expected, time.time())
    check_required({"tid": (TENANT,)}, claims)
    return claims


def test_an_entra_token_of_the_listed_tenant_is_accepted() -> None:
    assert _verify_entra(_entra(TENANT))["tid"] == TENANT


def test_an_entra_token_of_another_tenant_is_refused() -> None:
    with pytest.raises(UpstreamRejected, match="'tid' claim"):
        _verify_entra(_entra(OTHER_TENANT))


@pytest.mark.parametrize("claims", [
    {"iss": f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"},
    {"iss": "https://login.microsoftonline.com/{tenantid}/v2.0"},
    {"iss": f"https://sts.windows.net/{TENANT}/"},
], ids=["iss of another tenant", "the template itself", "a v1.0 issuer"])
def test_an_entra_issuer_must_be_the_template_with_its_own_tid(claims: dict[str, Any]) -> None:
    with pytest.raises(UpstreamRejected, match=r"\(iss\)"):
        _verify_entra(_entra(TENANT, **claims))


@pytest.mark.parametrize("tid", [None, "../../evil", ""], ids=["none", "a path", "empty"])
def test_an_entra_token_without_a_usable_tid_is_refused(tid: str | None) -> None:
    with pytest.raises(UpstreamRejected, match="names no tenant"):
        _verify_entra(_entra(TENANT, tid=tid))


@pytest.mark.parametrize("tids, discovery", [
    ((TENANT,), f"https://login.microsoftonline.com/{TENANT}/v2.0"),
    ((TENANT, OTHER_TENANT), "https://login.microsoftonline.com/organizations/v2.0"),
], ids=["one tenant", "several tenants"])
def test_discovery_of_a_template_is_read_at_its_tenant(tids: tuple[str, ...],
                                                      discovery: str) -> None:
    school = OidcSchool(issuer=TEMPLATE, client_id=CLIENT_ID, require={"tid": tids})
    assert school.discovery_issuer == discovery


def _discovery(issuer: str) -> dict[str, str]:
    base = "https://login.microsoftonline.com/organizations"
    return {"issuer": issuer, "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "jwks_uri": f"{base}/discovery/v2.0/keys"}


def test_the_organizations_document_may_publish_the_template() -> None:
    at = "https://login.microsoftonline.com/organizations/v2.0"
    assert ProviderInfo.parse(_discovery(TEMPLATE), at, TEMPLATE).issuer == at
    with pytest.raises(UpstreamRejected, match="names another issuer"):
        ProviderInfo.parse(_discovery(f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"),
                           at, TEMPLATE)


def test_an_entra_shaped_answer_is_mapped_into_the_identity(op: ServedOp, rp: OidcUpstream,
                                                            browser: SchoolBrowser) -> None:
    """The test OP sends an Entra ID v2.0 token: roles, groups (GUIDs), preferred_username."""
    school = replace(school_at(op.base_url, require={"tid": (TENANT,)}),
                     claims={"role": "roles", "email": "preferred_username"},
                     roles={"Leerling": "student"}, default_role=None)
    op.tweak(claims={"tid": TENANT, "ver": "2.0", "oid": "00000000-0000-0000-66f3-3332eca7ea81",
                     "preferred_username": "sanne@esdoorn.example.nl",
                     "roles": ["Leerling", "Beheerder"],
                     "groups": ["c0ffee00-aaaa-bbbb-cccc-000000000001"]})
    identity = browser.log_in(rp, school).finish(rp, school).identity
    assert identity.attributes["role"] == ("student",)
    assert identity.attributes["email"] == ("sanne@esdoorn.example.nl",)
    assert "groups" not in identity.attributes


@pytest.mark.parametrize("iss, ok", [
    (f"https://login.microsoftonline.com/{TENANT}/v2.0", True),
    ("https://login.microsoftonline.com/organizations/v2.0", True),
    ("https://login.microsoftonline.com/a/b/v2.0", False),
    ("https://login.microsoftonline.com//v2.0", False),
    (f"https://evil.example/{TENANT}/v2.0", False),
    (f"https://login.microsoftonline.com/{TENANT}/v2.0/x", False),
])
def test_an_authorization_response_may_name_a_tenant_issuer(iss: str, ok: bool) -> None:
    """RFC 9207 `iss` at a template: any tenant of its shape (the ID token binds the tid)."""
    at = "https://login.microsoftonline.com/organizations/v2.0"
    info = ProviderInfo.parse(_discovery(TEMPLATE), at, TEMPLATE)
    if ok:
        assert check_response({"iss": iss, "code": "c"}, info) == "c"
    else:
        with pytest.raises(UpstreamRejected, match="another issuer"):
            check_response({"iss": iss, "code": "c"}, info)
