"""The upstream OIDC kind: schools with an OpenID provider (see broker/kinds.py).

The adapter itself is broker/upstream/oidc.py; it is imported when the kind is built.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from broker.attributes import from_oidc
from broker.identity import Attributes
from broker.kinds import FormFields, FormSources, SchoolKind, Unique, form_values, school_scopes
from broker.mapping import map_attributes
from broker.messages import msg
from broker.records import School, SchoolConfig
from broker.registry import parse
from broker.registry.checks import Entry, url_problem
from broker.registry.config_fields import ConfigFields
from broker.upstream import Upstream
from broker.upstream.oidc_require import (
    GOOGLE_DOMAIN,
    TENANT,
    TENANT_CLAIM,
    Require,
    parse_require,
)
from broker.upstream.shapes import Sample

if TYPE_CHECKING:
    from flask import Blueprint

    from broker.context import Broker


@dataclass(frozen=True)
class OidcSchool(SchoolConfig):
    protocol: ClassVar[str] = "oidc"
    issuer: str
    client_id: str
    client_secret: str | None = None
    client_secret_env: str | None = None
    subject: str = "sub"
    algorithms: tuple[str, ...] = ("RS256",)
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    require: Require | None = None
    """Claim -> accepted values: what tells this school's answers from those of other schools
    at the same provider (broker/upstream/oidc_require.py)."""
    hint_parameter: str = "login_hint"
    """A hub with `hint` on: the authorization request parameter naming the school picked
    behind it (OIDC Core 3.1.2.1 login_hint; some hubs read their own, e.g. idp_hint)."""

    @property
    def identity(self) -> str:
        return self.issuer

    @property
    def discovery_issuer(self) -> str:
        """Where discovery is read: a template issuer at its one required tenant, or at
        Microsoft's `organizations` when it lists several (whose document publishes the
        template itself as its issuer)."""
        if TENANT not in self.issuer:
            return self.issuer
        tids = (self.require or {}).get(TENANT_CLAIM, ())
        return self.issuer.replace(TENANT, tids[0] if len(tids) == 1 else "organizations")


_PARAMETER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_OWN_PARAMETERS = frozenset({"response_type", "client_id", "redirect_uri", "scope", "state",
                             "nonce", "code_challenge", "code_challenge_method", "prompt",
                             "max_age", "acr_values", "request", "request_uri"})
"""Parameters Loper's authorization request sets itself."""


def _parse(entry: Entry, _base_dir: Path) -> OidcSchool:
    issuer = entry.text("issuer", msg("problem.expect_issuer"), required=True)
    wrong = url_problem(issuer) if issuer else None
    if wrong:
        entry.problem("issuer", wrong)
    client_id = entry.text("client_id", required=True)
    secret, env = parse.secret(entry)
    algorithms = entry.strings("algorithms") or OidcSchool.algorithms
    for algorithm in algorithms:
        parse.algorithm(entry, "algorithms", algorithm)
    hint_parameter = entry.text("hint_parameter") or OidcSchool.hint_parameter
    if not _PARAMETER.fullmatch(hint_parameter) or hint_parameter in _OWN_PARAMETERS:
        entry.problem("hint_parameter", msg("problem.bad_hint_parameter",
                                            name=hint_parameter[:80]))
    scopes = entry.strings("scopes") or OidcSchool.scopes
    if "openid" not in scopes:
        entry.problem("scopes", msg("problem.no_openid_scope"))
    return OidcSchool(issuer=issuer or "", client_id=client_id or "", client_secret=secret,
                      client_secret_env=env, subject=entry.text("subject") or "sub",
                      algorithms=algorithms, scopes=scopes, hint_parameter=hint_parameter,
                      require=parse_require(entry, issuer))


def _unique(oidc: OidcSchool) -> tuple[Unique, ...]:
    """Schools at one provider must be told apart by `require`: no two may accept the same
    value of the same claim, nor share an issuer when either lacks `require` (an answer for
    the school with `require` would also be accepted as the one without)."""
    issuer = Unique("issuer", msg("problem.what_issuer"), oidc.issuer,
                    shared=bool(oidc.require), expected=msg("problem.expect_unique_issuer"))
    return (issuer, *(Unique("require", msg("problem.what_require"),
                             f"{oidc.issuer} {claim} = {value}")
                      for claim, values in sorted((oidc.require or {}).items())
                      for value in values))


def _edit(oidc: OidcSchool, entry: Entry) -> OidcSchool:
    return replace(oidc, require=parse_require(entry, oidc.issuer))


def _scopes(oidc: OidcSchool) -> tuple[str, ...]:
    """A Google Workspace school's `hd` values are its own domains (Google checked them)."""
    return (oidc.require or {}).get(GOOGLE_DOMAIN, ())


def read_claims(school: School, claims: Mapping[str, object]) -> Attributes:
    """The school's claims (ID token and user info) as Loper reads them."""
    own = school_scopes(school)
    return map_attributes(school, claims, from_oidc(claims, own), own)


def _sample(school: School, sample: Sample) -> tuple[str, dict[str, object]]:
    from broker.upstream.oidc_shapes import sample_claims

    return sample_claims(school, sample)


def _form(form: Mapping[str, str], sources: FormSources) -> FormFields:
    table = form_values(form, "issuer", "client_id", "client_secret", "subject")
    sources.check_host("issuer", table.get("issuer", ""))
    return FormFields(table)


def _build(broker: Broker) -> Upstream:
    from broker.upstream.oidc import OidcRpConfig, OidcUpstream

    s = broker.settings
    return OidcUpstream(OidcRpConfig(redirect_uri=s.url("/oidc/callback"),
                                     clock_skew=s.clock_skew, http_timeout=s.outbound_timeout,
                                     failure_ttl=s.outbound_failure_ttl,
                                     per_host=s.outbound_per_host))


def _blueprints() -> tuple[Blueprint, ...]:
    from broker.web import school_oidc

    return (school_oidc.bp,)


KIND: SchoolKind[OidcSchool] = SchoolKind(
    title="OpenID Connect", form_template="admin/register_oidc_school.html",
    fields=ConfigFields(OidcSchool),
    keys=frozenset({"issuer", "client_id", "client_secret", "client_secret_env", "subject",
                    "algorithms", "scopes", "require", "hint_parameter"}),
    parse=_parse, form=_form, unique=_unique, build=_build, blueprints=_blueprints,
    editable=frozenset({"require"}), edit=_edit, scopes=_scopes, read=read_claims,
    sample=_sample)
