"""The downstream OIDC kind: suppliers with an OIDC relying party (see broker/kinds.py).

The adapter itself is broker/downstream/oidc_op.py; it is imported when the kind is built.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from broker import attributes, profiles
from broker.downstream import Downstream
from broker.downstream.oidc_keys import ID_TOKEN_ALGS
from broker.identity import Released
from broker.jsonvalue import loads_object
from broker.kinds import (
    DownstreamKind,
    FormFields,
    FormSources,
    PreviewContext,
    Rendered,
    Unique,
    form_values,
)
from broker.messages import msg
from broker.records import Supplier, SupplierConfig
from broker.registry import parse
from broker.registry.checks import BOOL, Entry, url_problem
from broker.registry.config_fields import ConfigFields

if TYPE_CHECKING:
    from flask import Blueprint

    from broker.context import Broker

PREVIEW_SCOPES = ("openid", "profile", "email")
"""An RP asking these receives exactly the released attributes (DESIGN.md)."""


@dataclass(frozen=True)
class OidcSupplier(SupplierConfig):
    protocol: ClassVar[str] = "oidc"
    client_id: str
    client_secret: str | None = None
    client_secret_env: str | None = None
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    """Where RP-initiated logout may send the browser afterwards (exact match)."""
    backchannel_logout_uri: str | None = None
    """Back-Channel Logout 1.0: logout tokens are POSTed here."""
    frontchannel_logout_uri: str | None = None
    """Front-Channel Logout 1.0: loaded in an iframe, with iss and sid."""
    jwks: str | None = None
    pkce_required: bool = True
    offline_access: bool = False
    id_token_alg: str = "RS256"
    iss_in_errors: bool = True
    """RFC 9207 names the issuer in every authorization response, errors too. False for an RP
    that takes an `iss` without a code for a login its provider starts (OIDC Core 4: what
    mod_auth_openidc 2.4 does, before it looks for `error`): its error answers then go without
    `iss`; an answer with a code always carries it (the mix-up defence is about codes)."""

    @property
    def identity(self) -> str:
        return self.client_id


def oidc_of(supplier: Supplier) -> OidcSupplier | None:
    """The supplier's OIDC fields, or None if it is not an OIDC supplier."""
    return supplier.config if isinstance(supplier.config, OidcSupplier) else None


def _jwks(entry: Entry) -> str | None:
    """A JWKS URL or an inline JWKS document (JSON with "keys")."""
    jwks = entry.text("jwks", msg("problem.expect_jwks"))
    if jwks is None:
        return None
    if not jwks.lstrip().startswith("{"):
        wrong = url_problem(jwks)
        if wrong:
            entry.problem("jwks", wrong)
        return jwks
    try:
        doc = loads_object(jwks)
    except ValueError:
        doc = None
    if doc is None or not isinstance(doc.get("keys"), list):
        entry.problem("jwks", msg("problem.not_jwks"))
    return jwks


def _logout_uri(entry: Entry, key: str) -> str | None:
    """An absolute https URL (http on loopback) without a fragment (Logout 1.0, 2.2)."""
    uri = entry.text(key, msg("problem.expect_url"))
    wrong = url_problem(uri, fragment_ok=False) if uri is not None else None
    if wrong:
        entry.problem(key, wrong)
    return uri


def _parse(entry: Entry, _base_dir: Path) -> OidcSupplier:
    client_id = entry.text("client_id", required=True)
    secret, env = parse.secret(entry)
    jwks = _jwks(entry)
    if not (secret or env or jwks):  # no public clients: each of Loper's methods needs one
        entry.problem("client_secret", msg("problem.no_client_auth"))
    alg = entry.text("id_token_alg") or OidcSupplier.id_token_alg
    if alg not in ID_TOKEN_ALGS:  # what Loper signs with, not all a school may use
        entry.problem("id_token_alg", msg("problem.bad_algorithm", algorithm=alg[:80],
                                          known=ID_TOKEN_ALGS))
    pkce = entry.get("pkce_required", bool, BOOL)
    iss_in_errors = entry.get("iss_in_errors", bool, BOOL)
    return OidcSupplier(
        client_id=client_id or "", client_secret=secret, client_secret_env=env,
        redirect_uris=entry.urls("redirect_uris", required=True),
        post_logout_redirect_uris=entry.urls("post_logout_redirect_uris"), jwks=jwks,
        backchannel_logout_uri=_logout_uri(entry, "backchannel_logout_uri"),
        frontchannel_logout_uri=_logout_uri(entry, "frontchannel_logout_uri"),
        pkce_required=True if pkce is None else pkce,
        offline_access=entry.get("offline_access", bool, BOOL) or False,
        id_token_alg=alg, iss_in_errors=True if iss_in_errors is None else iss_in_errors)


def _form(form: Mapping[str, str], _sources: FormSources) -> FormFields:
    """A new client: its client id (by default the supplier's id) and a generated secret."""
    secret = secrets.token_urlsafe(32)
    client_id = form_values(form, "client_id", "id")
    redirect_uris = [line.strip() for line in form.get("redirect_uris", "").splitlines()
                     if line.strip()]
    return FormFields({"client_id": client_id.get("client_id", client_id.get("id", "")),
                       "client_secret": secret, "redirect_uris": redirect_uris},
                      shown_once=secret)


def _unique(config: OidcSupplier) -> tuple[Unique, ...]:
    return (Unique("client_id", msg("problem.what_client_id"), config.client_id),)


def _render(released: Released, config: OidcSupplier, context: PreviewContext) -> Rendered:
    """The claims under the names of the supplier's profile, and the ID token and userinfo an
    RP asking PREVIEW_SCOPES receives (as oidc_op serves its snapshot)."""
    profile = profiles.of(config.profile)
    label = {profile.claim(a): a.name for a in attributes.VOCABULARY}
    if profile.subject_claim is not None:
        label[profile.subject_claim] = "pseudonym"
    claims = profiles.claims(profile, released.attributes, PREVIEW_SCOPES, released.subject,
                             context.scope)
    lines = {claim: (label[claim], tuple(v) if isinstance(v, list) else (v,))
             for claim, v in claims.items()}
    id_token = {"iss": context.issuer, "sub": released.subject, "aud": config.client_id,
                "auth_time": context.auth_time, **claims}
    return Rendered(lines, {"id_token": id_token,
                            "userinfo": {"sub": released.subject, **claims}})


def _build(broker: Broker) -> Downstream:
    from broker.downstream.oidc_config import OidcOpConfig
    from broker.downstream.oidc_op import OidcOp
    from broker.flow import record_delivery, still_open
    from broker.keys import oidc_key_paths, published_oidc_keys

    s = broker.settings
    op = OidcOp(OidcOpConfig(issuer=s.base_url, signing_keys=oidc_key_paths(s.keys_dir),
                             next_signing_keys=published_oidc_keys(s.keys_dir),
                             still_open=functools.partial(still_open, broker),
                             logout_timeout=float(s.logout_timeout),
                             record_delivery=functools.partial(record_delivery, broker)),
                broker.store, broker.registry.supplier_by_client_id)
    return op


def _blueprints() -> tuple[Blueprint, ...]:
    from broker.web import oidc

    return (oidc.bp,)


KIND: DownstreamKind[OidcSupplier] = DownstreamKind(
    title="OpenID Connect", form_template="admin/register_oidc_supplier.html",
    fields=ConfigFields(OidcSupplier, columns=("client_id",)),
    keys=frozenset({"client_id", "client_secret", "client_secret_env", "redirect_uris",
                    "post_logout_redirect_uris", "backchannel_logout_uri",
                    "frontchannel_logout_uri", "jwks", "pkce_required", "offline_access",
                    "id_token_alg", "iss_in_errors"}),
    parse=_parse, form=_form, unique=_unique, build=_build, blueprints=_blueprints,
    render=_render, template="admin/preview_oidc.html")
