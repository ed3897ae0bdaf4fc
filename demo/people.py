"""The demo school's people and the SAML attributes a school IdP releases about them."""

from __future__ import annotations

from dataclasses import dataclass

SCHOOL_NAME = "OBS De Regenboog"
SCHOOL_DOMAIN = "regenboog.example"
SCHOOL_BRIN = "12AB"
PASSWORD = "demo"
"""Every demo person's password."""

NAME_FORMAT_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
MACE = "urn:mace:dir:attribute-def:"

SAML_NAMES: dict[str, str] = {
    "eduPersonAffiliation": "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
    "givenName": "urn:oid:2.5.4.42",
    "sn": "urn:oid:2.5.4.4",
    "displayName": "urn:oid:2.16.840.1.113730.3.1.241",
    "mail": "urn:oid:0.9.2342.19200300.100.1.3",
    "schacHomeOrganization": "urn:oid:1.3.6.1.4.1.25178.1.2.9",
    "nlEduPersonHomeOrganizationId": MACE + "nlEduPersonHomeOrganizationId",
    "isMemberOf": "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
    "eckId": "urn:mace:surf.nl:attribute-def:eckid",
    "guardianOf": "guardianOf",
}
"""FriendlyName -> the SAML Name the school sends (NameFormat uri)."""


ROLE_WORDS = {"student": "pupil", "Leerlingen": "pupil", "employee": "teacher",
              "Medewerkers": "teacher", "ouder": "parent"}
"""The demo schools' role values (the standard ones, De Wilg's ADFS ones, the parent's)."""


@dataclass(frozen=True)
class DemoPerson:
    id: str
    """The opaque, persistent subject identifier: the school's persistent NameID."""
    given_name: str
    family_name: str
    affiliation: tuple[str, ...]
    """eduPersonAffiliation values: "student", "employee", or the school's "ouder" (parent)."""
    groups: tuple[str, ...]
    eck_id: str = ""
    school_domain: str = SCHOOL_DOMAIN
    school_id: str = SCHOOL_BRIN
    children: tuple[str, ...] = ()
    """A parent's children, by their ids at the school (guardianOf, for Loper's /me)."""

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def email(self) -> str:
        local = f"{self.given_name}.{self.family_name}".lower().replace(" ", "")
        return f"{local}@{self.school_domain}"

    @property
    def role(self) -> str:
        """What the demo schools' login pages call this person: their role values in words
        (a value no school maps, such as ADFS's "Beheerders", as it is)."""
        return ", ".join(ROLE_WORDS.get(value, value) for value in self.affiliation) or "no role"

    def saml_attributes(self) -> dict[str, list[str]]:
        """FriendlyName -> values, every attribute the school knows about this person."""
        return {
            "givenName": [self.given_name],
            "sn": [self.family_name],
            "displayName": [self.display_name],
            "mail": [self.email],
            "eduPersonAffiliation": list(self.affiliation),
            "schacHomeOrganization": [self.school_domain],
            "nlEduPersonHomeOrganizationId": [self.school_id],
            "isMemberOf": list(self.groups),
            **({"eckId": [self.eck_id]} if self.eck_id else {}),
            **({"guardianOf": list(self.children)} if self.children else {}),
        }


def _eck(hex_id: str) -> str:
    return f"https://ketenid.nl/201703/{hex_id}"


DEFAULT_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("3f9c2a7e5b1d4c08a6e1f0b9d2c47a13", "Sanne", "de Vries", ("student",),
               ("groep-7a",), _eck("9b2e4f6a8c0d1e3f5a7b9c1d3e5f7a9b")),
    DemoPerson("8d41b6f2c9e04a7d93b5e1c8f6a20d54", "Daan", "Jansen", ("student",),
               ("groep-7a",), _eck("c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4")),
    DemoPerson("c7e2a9d4f1b8460e85c3a6d9b2f7e014", "Noor", "El Amrani", ("student",),
               ("groep-8b",), _eck("1a3c5e7f9b2d4f6a8c0e2b4d6f8a0c2e")),
    DemoPerson("51a8e3c6d9f2470b8e4c1a7d3f6b9e20", "Bram", "Visser", ("employee",),
               ("groep-7a", "groep-8b", "leerkrachten"), _eck("e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5")),
    DemoPerson("e4b7d1a9c3f6420b9d8e2a5c7f1b3d60", "Marieke", "de Vries", ("ouder",), (),
               children=("3f9c2a7e5b1d4c08a6e1f0b9d2c47a13",)),
)
"""Three pupils, one teacher and Sanne's mother (her parent account) of OBS De Regenboog."""

