"""`[schools.require]`: claims a school's answer must carry before Loper believes it is the
school's (Google's `hd`, Entra ID's `tid`).

Several schools may share one OpenID provider (every Google Workspace school has the issuer
https://accounts.google.com); the issuer alone then says nothing about which school vouches
for the user. Each required claim must be present in the ID token or the user info with one of
the listed values. Messages name the claim, never the value the school sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from broker.errors import AccountOfAnotherSchool, UpstreamRejected
from broker.messages import msg
from broker.registry.checks import Entry

Require = Mapping[str, tuple[str, ...]]
TENANT = "{tenantid}"
"""The placeholder of a multi-tenant issuer (Microsoft's /common/v2.0 discovery publishes
https://login.microsoftonline.com/{tenantid}/v2.0); the token's own `tid` fills it in."""
TENANT_CLAIM = "tid"
GOOGLE_DOMAIN = "hd"
"""Google's claim naming the Workspace domain of the account."""
SHARED = {"https://accounts.google.com": GOOGLE_DOMAIN, "accounts.google.com": GOOGLE_DOMAIN}
"""Issuers that answer for every account of the provider: the claim that names the school's
own part of it must be required (Google: `hd`, the Workspace domain)."""
SHOWN = frozenset({"hd"})
"""Claims whose expected values a rejection may name (a school's domain is public)."""
MAX_CLAIMS = 8
MAX_VALUES = 64
MAX_VALUE = 256
_CLAIM = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$")
_TID = re.compile(r"^[0-9A-Za-z-]{1,64}$")


def parse_require(entry: Entry, issuer: str | None) -> Require | None:
    """The `require` table: claim name -> an array of accepted values."""
    expected = msg("problem.expect_require")
    table = entry.get("require", dict, expected)
    require: dict[str, tuple[str, ...]] = {}
    if table is not None and (not table or len(table) > MAX_CLAIMS):
        entry.problem("require", msg("problem.claims_count", n=len(table), max=MAX_CLAIMS))
        table = None
    for claim, values in (table or {}).items():
        where = f"require.{claim}"
        if not _CLAIM.match(claim):
            entry.problem(where, msg("problem.not_a_claim"))
            continue
        ok = (isinstance(values, list) and 0 < len(values) <= MAX_VALUES
              and all(isinstance(v, str) and v.strip() and len(v) <= MAX_VALUE for v in values))
        if not ok:
            entry.problem(where, msg("problem.expect_claim_values", n=MAX_VALUES,
                                     max=MAX_VALUE))
            continue
        require[claim] = tuple(values)
    shared = SHARED.get(issuer or "")
    if shared is not None and shared not in require:
        entry.problem("require", msg("problem.require_shared", claim=shared,
                                     issuer=issuer or ""))
    if issuer is not None and TENANT in issuer:
        tids = require.get(TENANT_CLAIM, ())
        if not tids:
            entry.problem("require", msg("problem.require_tenant", claim=TENANT_CLAIM,
                                         template=TENANT))
        for tid in tids:
            if not _TID.match(tid):
                entry.problem(f"require.{TENANT_CLAIM}", msg("problem.not_a_tenant",
                                                             tid=tid[:80]))
    return require or None


def issuer_for(issuer: str, claims: Mapping[str, object]) -> str:
    """The issuer this token must name: a template's {tenantid} filled with its own `tid`."""
    if TENANT not in issuer:
        return issuer
    tid = claims.get(TENANT_CLAIM)
    if not isinstance(tid, str) or not _TID.match(tid):
        raise UpstreamRejected("The ID token from your school's login server names no tenant "
                               f"({TENANT_CLAIM}), so Loper cannot tell which school it is from.")
    return issuer.replace(TENANT, tid)


def fits(template: str | None, issuer: str) -> bool:
    """Whether `issuer` is the multi-tenant `template` with some tenant id filled in."""
    if template is None or TENANT not in template:
        return False
    head, _, tail = template.partition(TENANT)
    tid = issuer[len(head):len(issuer) - len(tail)]
    return issuer == head + tid + tail and _TID.fullmatch(tid) is not None


def check_required(require: Require | None, claims: Mapping[str, object]) -> None:
    """Refuse an answer that lacks a required claim or carries another value."""
    for claim, accepted in (require or {}).items():
        value = claims.get(claim)
        found = [value] if isinstance(value, str) else (
            [v for v in value if isinstance(v, str)] if isinstance(value, list) else [])
        if any(v in accepted for v in found[:MAX_VALUES]):
            continue
        state = "has another value than" if found else "lacks"
        shown = f" ({', '.join(accepted)})" if claim in SHOWN else ""
        raise AccountOfAnotherSchool(
            f"Your school's login server answered for an account that does not belong to this "
            f"school: the answer {state} the '{claim}' claim this school requires{shown}.")
