"""Demo school "De Wilg" on ADFS: a SAML IdP (the demo school IdP, demo/school_idp.py) that
sends what an ADFS relying party trust with the usual LDAP-attribute rules sends: Microsoft's
claim URIs without a NameFormat (upn, givenname, surname, emailaddress, role, groups), the
school's own role values ("Leerlingen", "Medewerkers") and group names.

Loper reads them through the school's `[schools.claims]` (the UPN as e-mail) and
`[schools.roles]`. Two accounts show what must never pass: Noah's only role is "Beheerders",
which maps to nothing (he gets no role, never the raw value), and Eva's account sends her
given name twice, as urn:oid and as Microsoft's claim, with different values (the urn:oid name
wins; the log names the claim, never a value).
"""

from __future__ import annotations

from typing import Any

from demo.people import DemoPerson

WILG_NAME = "De Wilg (ADFS)"
WILG_DOMAIN = "wilg.example"
MS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
MS_2008 = "http://schemas.microsoft.com/ws/2008/06/identity/claims/"

WILG_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("c2a8f4e6b0d1437a9e5c3b7d1f9a2e48", "Lotte", "Vos", ("Leerlingen",),
               ("Groep 5b",), school_domain=WILG_DOMAIN),
    DemoPerson("7d3b9f1e5a2c4086b4e8d2a6c0f3b951", "Kees", "Smit", ("Medewerkers",),
               ("Groep 5b", "Team onderbouw"), school_domain=WILG_DOMAIN),
    DemoPerson("a5e1c9d3f7b2460c8d4a6e0b2c8f1d37", "Noah", "Bakker", ("Beheerders",), (),
               school_domain=WILG_DOMAIN),
    DemoPerson("3f8b2d6a0c4e41e7a9d5b1f3c7e9a064", "Eva", "Mulder", ("Leerlingen",),
               ("Groep 8a",), school_domain=WILG_DOMAIN),
)
"""A pupil, a teacher, an administrator (a role Loper does not know) and a pupil whose
account sends two different given names."""
CONFLICTED = WILG_PEOPLE[3]
OTHER_GIVEN_NAME = "Evelien"
"""What Eva's account sends under Microsoft's givenname claim (the urn:oid name says Eva)."""


def adfs_attributes(person: DemoPerson) -> dict[str, list[str]]:
    """The claims ADFS issues for `person` (Name -> values; no NameFormat)."""
    claims = {MS + "upn": [person.email], MS + "givenname": [person.given_name],
              MS + "surname": [person.family_name], MS + "emailaddress": [person.email],
              MS_2008 + "role": list(person.affiliation), MS_2008 + "groups": list(person.groups)}
    if person is CONFLICTED:
        claims[MS + "givenname"] = [OTHER_GIVEN_NAME]
        claims["givenName"] = [person.given_name]  # sent as urn:oid:2.5.4.42 (NameFormat uri)
    return {k: v for k, v in claims.items() if v}


WILG_SCHOOL: dict[str, Any] = {
    "id": "wilg", "name": "De Wilg", "protocol": "saml", "metadata": "wilg-adfs.xml",
    "subject": "nameid", "place": "Hoorn", "domains": [WILG_DOMAIN],
    "claims": {"email": MS + "upn"},
    "roles": {"Leerlingen": "student", "Medewerkers": "employee"},
}
"""ADFS: Microsoft's role claim is read as the role by default; the school's values mapped."""
