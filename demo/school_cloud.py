"""Demo schools on the two clouds Dutch schools use most: "Het Kompas" (Google Workspace for
Education) and "De Esdoorn" (Microsoft Entra ID), each played by the demo OP (demo/school_op.py)
with that provider's claim shapes.

On loopback neither can have its provider's real issuer (https://accounts.google.com,
https://login.microsoftonline.com/{tenantid}/v2.0); each OP is its own issuer and emits the
claims that tell the school apart there: Google's `hd` (the Workspace domain) and Entra ID's
`tid` (the tenant). Each school has a pupil, a teacher and a third account that is not the
school's (another Workspace domain, another tenant): Loper must refuse it by
`[schools.require]`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from demo.people import DemoPerson
from demo.school_op import OpProfile

KOMPAS_DOMAIN, KOMPAS_PUPILS = "kompas.example", "leerling.kompas.example"
"""Het Kompas gives its pupils accounts in a domain of their own, as many Google schools do;
the domain (`hd`) is then what tells a pupil from a teacher."""
ESDOORN_TENANT = "6f1c5b1e-0d7a-4c3e-9a51-2b8f4d3c9e10"
OTHER_TENANT = "0b7e3c2a-9d4f-4e1b-8a6c-5f2d1e0c9b8a"
ENTRA_ROLES = {"student": "Leerling", "employee": "Docent"}
"""Esdoorn's app roles (the `roles` claim), by Loper's role."""

KOMPAS_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("108374652910387465821", "Julia", "Smit", ("student",), (),
               school_domain=KOMPAS_PUPILS),
    DemoPerson("108374652910387465822", "Thomas", "Mulder", ("employee",), (),
               school_domain=KOMPAS_DOMAIN),
    DemoPerson("108374652910387465823", "Sem", "Bos", ("student",), (),
               school_domain="andereschool.example"),
)
"""A pupil and a teacher of Het Kompas, and a pupil of another Google school (other `hd`)."""

ESDOORN_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("2d9f1a6c-3b7e-4f08-9c21-5a8d6e4b3f17", "Emma", "Meijer", ("student",),
               ("8c3a1f5e-2b6d-4a9c-8e7f-1d0b3c5a7e92",), school_domain="esdoorn.example",
               school_id=ESDOORN_TENANT),
    DemoPerson("4b1e8c3d-6a2f-4d95-8b07-2c9e5f1a6d38", "Pieter", "de Groot", ("employee",),
               ("8c3a1f5e-2b6d-4a9c-8e7f-1d0b3c5a7e92", "e5d2b8a1-7c4f-4e3a-9b6d-0f1c2a3e4b5d"),
               school_domain="esdoorn.example", school_id=ESDOORN_TENANT),
    DemoPerson("7e3a9c1f-5d8b-4c26-a0e4-9b1f3d7c5a82", "Lucas", "Vermeulen", ("student",), (),
               school_domain="anderetenant.example", school_id=OTHER_TENANT),
)
"""A pupil and a teacher of De Esdoorn (groups are Entra object ids), and a pupil of another
tenant (other `tid`) who would be a guest if the app were multi-tenant."""


def google_claims(person: DemoPerson, scopes: Sequence[str]) -> dict[str, Any]:
    """Google's ID token: `hd` always (a Workspace account), email with email_verified."""
    claims: dict[str, Any] = {"hd": person.school_domain}
    if "profile" in scopes:
        claims.update(given_name=person.given_name, family_name=person.family_name,
                      name=person.display_name)
    if "email" in scopes:
        claims.update(email=person.email, email_verified=True)
    return claims


def entra_claims(person: DemoPerson, scopes: Sequence[str]) -> dict[str, Any]:
    """Entra ID v2: `tid` and `oid` always, app `roles`, `groups` as object ids,
    `preferred_username` (the UPN); given and family name only as optional claims."""
    claims: dict[str, Any] = {
        "tid": person.school_id, "oid": person.id, "ver": "2.0",
        "roles": [ENTRA_ROLES[a] for a in person.affiliation if a in ENTRA_ROLES],
        "groups": list(person.groups)}
    if "profile" in scopes:
        claims.update(name=person.display_name, preferred_username=person.email,
                      given_name=person.given_name, family_name=person.family_name)
    if "email" in scopes:
        claims["email"] = person.email
    return claims


def _entra_sub(person: DemoPerson) -> str:
    """Entra's `sub` is pairwise per app; `oid` is the person's id in the tenant."""
    return hashlib.sha256(f"loper-demo:{person.id}".encode()).hexdigest()[:43]


GOOGLE = OpProfile(
    name="Het Kompas (Google Workspace)", key_name="kompas-op", cookie="kompas-op",
    claims=google_claims,
    id_token_claims=("hd", "email", "email_verified", "given_name", "family_name", "name"),
    supported=("hd", "email_verified"))
ENTRA = OpProfile(
    name="De Esdoorn (Entra ID)", key_name="esdoorn-op", cookie="esdoorn-op",
    claims=entra_claims,
    id_token_claims=("tid", "oid", "ver", "roles", "groups", "name", "preferred_username",
                     "given_name", "family_name", "email"),
    supported=("tid", "oid", "roles", "groups", "preferred_username"), subject=_entra_sub)

KOMPAS_SCHOOL: dict[str, Any] = {
    "id": "kompas", "name": "Het Kompas", "protocol": "oidc", "place": "Zwolle",
    "client_id": "loper",
    "require": {"hd": [KOMPAS_PUPILS, KOMPAS_DOMAIN]},
    "claims": {"role": "hd"},
    "roles": {KOMPAS_PUPILS: "student", KOMPAS_DOMAIN: "employee"},
}
"""Google Workspace: `hd` required; the pupils' domain makes the role."""
ESDOORN_SCHOOL: dict[str, Any] = {
    "id": "esdoorn", "name": "De Esdoorn", "protocol": "oidc", "place": "Deventer",
    "client_id": "loper", "subject": "oid",
    "require": {"tid": [ESDOORN_TENANT]},
    "claims": {"role": "roles", "email": "preferred_username"},
    "roles": {"Leerling": "student", "Docent": "employee"},
}
"""Entra ID: `tid` required, the person by `oid`, app roles mapped, group ids never passed on."""
