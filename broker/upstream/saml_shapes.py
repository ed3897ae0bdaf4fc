"""A test person as a SAML school's identity provider would describe them, for the admin's
preview (broker/upstream/shapes.py): the attributes of its assertion, by Name.

- Microsoft Entra ID (entity id https://sts.windows.net/<tenant>/): the claims of Microsoft's
  "SAML token claims reference": tenantid, objectidentifier, name (the UPN), givenname,
  surname, emailaddress, displayname, groups as object ids, roles under .../claims/role.
- ADFS (a school mapping Microsoft's claim URIs, or an entity id with /adfs/): a relying party
  trust with the usual LDAP-attribute rules: upn, givenname, surname, emailaddress, role and
  groups by name.
- Any other IdP: the urn:oid names (NameFormat uri) and the nlEduPerson names Entree uses.
"""

from __future__ import annotations

from broker.attributes import BY_NAME, MS_2008, MS_CLAIMS, MS_IDENTITY
from broker.records import School
from broker.upstream.saml_kind import SamlSchool
from broker.upstream.shapes import Sample, domain, guid, put

ENTRA = "https://sts.windows.net/"
OWN_NAMES = {name: attr.saml_name for name, attr in BY_NAME.items()}


def _microsoft(school: School, sample: Sample, entra: bool) -> dict[str, object]:
    mail = domain(school)
    upn = sample.email(domain(school, f"{school.id}.onmicrosoft.com"))
    common = {MS_CLAIMS + "givenname": [sample.given_name],
              MS_CLAIMS + "surname": [sample.family_name],
              MS_CLAIMS + "emailaddress": [sample.email(mail)]}
    if not entra:
        return {MS_CLAIMS + "upn": [upn], **common,
                MS_2008 + "groups": list(sample.groups)}
    return {MS_IDENTITY + "tenantid": [guid(school.id)],
            MS_IDENTITY + "objectidentifier": [guid(school.id, sample.subject)],
            MS_CLAIMS + "name": [upn], **common,
            MS_IDENTITY + "displayname": [sample.display_name],
            MS_2008 + "groups": [guid(school.id, g) for g in sample.groups]}


def _standard(school: School, sample: Sample) -> dict[str, object]:
    mail = domain(school)
    values = {"given_name": sample.given_name, "family_name": sample.family_name,
              "display_name": sample.display_name, "email": sample.email(mail)}
    answer: dict[str, object] = {OWN_NAMES[k]: [v] for k, v in values.items()}
    answer[OWN_NAMES["groups"]] = list(sample.groups)
    if school.domains:
        answer[OWN_NAMES["school_domain"]] = [mail]
        answer[OWN_NAMES["scoped_affiliation"]] = [f"{sample.role}@{mail}"]
    return answer


def _is_microsoft(school: School, saml: SamlSchool) -> bool:
    sources = (*(school.claims or {}).values(), saml.subject)
    return (saml.entity_id.startswith(ENTRA) or "/adfs/" in saml.entity_id.lower()
            or any(s.lower().startswith("http://schemas.") for s in sources))


def sample_attributes(school: School, sample: Sample) -> tuple[str, dict[str, object]]:
    """The shape's name and the assertion's attributes (Name -> values)."""
    saml = school.config
    assert isinstance(saml, SamlSchool)
    if _is_microsoft(school, saml):
        entra = saml.entity_id.startswith(ENTRA)
        return ("Microsoft Entra ID (SAML)" if entra else "ADFS",
                put(_microsoft(school, sample, entra), school, sample, MS_2008 + "role",
                    OWN_NAMES, True))
    return "SAML", put(_standard(school, sample), school, sample, OWN_NAMES["role"], OWN_NAMES,
                       True)
