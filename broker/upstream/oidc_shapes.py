"""A test person as an OpenID Connect school's provider would describe them, for the admin's
preview (broker/upstream/shapes.py): the claims of its ID token and user info.

- Google Workspace (a school requiring `hd`): Google's ID token (developers.google.com/identity/
  openid-connect/openid-connect, "An ID token's payload"): sub, hd, email, email_verified and,
  with the profile scope, name, given_name, family_name. Google sends no role.
- Microsoft Entra ID (a school requiring `tid`, or at login.microsoftonline.com): the v2.0 ID
  token (learn.microsoft.com, "ID token claims reference"): ver, tid, oid, sub, name,
  preferred_username, app `roles`, and `groups` as object ids.
- Any other provider: the OIDC standard claims and the education claims Loper reads.
"""

from __future__ import annotations

import hashlib

from broker.records import School
from broker.upstream.oidc_kind import OidcSchool
from broker.upstream.oidc_require import GOOGLE_DOMAIN, TENANT, TENANT_CLAIM
from broker.upstream.shapes import Sample, domain, guid, put, role_value

CLAIMS = {"school_id": "nl_edu_person_home_organization_id", "school_domain":
          "schac_home_organization", "branch_id": "nl_edu_person_home_organization_branch_id"}
"""The OIDC claims of the vocabulary names a hub's `match` uses most."""


def _google(oidc: OidcSchool, school: School, sample: Sample) -> dict[str, object]:
    """The domain (`hd`) and the address in it: the role's own domain where the school tells
    pupils from teachers by it, else the first it requires."""
    domains = (oidc.require or {}).get(GOOGLE_DOMAIN, (domain(school),))
    by_role = (school.claims or {}).get("role") == GOOGLE_DOMAIN
    hd = role_value(school, sample.role) if by_role else domains[0]
    digits = str(int(hashlib.sha256(sample.subject.encode()).hexdigest(), 16))[:21]
    return {"iss": "https://accounts.google.com", "sub": digits, GOOGLE_DOMAIN: hd,
            "email": sample.email(hd), "email_verified": True, "name": sample.display_name,
            "given_name": sample.given_name, "family_name": sample.family_name}


def _entra(oidc: OidcSchool, school: School, sample: Sample) -> dict[str, object]:
    tenant = ((oidc.require or {}).get(TENANT_CLAIM) or (guid(school.id),))[0]
    upn = sample.email(domain(school, f"{school.id}.onmicrosoft.com"))
    return {"iss": oidc.issuer.replace(TENANT, tenant), "ver": "2.0", TENANT_CLAIM: tenant,
            "oid": guid(school.id, sample.subject), "sub": hashlib.sha256(
                sample.subject.encode()).hexdigest()[:43], "name": sample.display_name,
            "preferred_username": upn, "groups": [guid(school.id, g) for g in sample.groups]}


def _standard(oidc: OidcSchool, school: School, sample: Sample) -> dict[str, object]:
    mail = domain(school)
    return {"iss": oidc.issuer, "sub": sample.subject, "name": sample.display_name,
            "given_name": sample.given_name, "family_name": sample.family_name,
            "email": sample.email(mail), "groups": list(sample.groups),
            **({"schac_home_organization": mail, "eduperson_scoped_affiliation":
                [f"{sample.role}@{mail}"]} if school.domains else {})}


def sample_claims(school: School, sample: Sample) -> tuple[str, dict[str, object]]:
    """The shape's name and the claims (ID token and user info together)."""
    oidc = school.config
    assert isinstance(oidc, OidcSchool)
    require = oidc.require or {}
    if GOOGLE_DOMAIN in require:
        return "Google Workspace", put(_google(oidc, school, sample), school, sample, None,
                                       CLAIMS, False)
    if TENANT_CLAIM in require or "login.microsoftonline.com" in oidc.issuer:
        # Entra's app roles: a list, under `roles` unless the school maps its role elsewhere
        return "Microsoft Entra ID", put(_entra(oidc, school, sample), school, sample, "roles",
                                         CLAIMS, True)
    return "OpenID Connect", put(_standard(oidc, school, sample), school, sample,
                                 "eduperson_affiliation", CLAIMS, True)
