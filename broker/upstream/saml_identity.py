"""The person a school's SAML assertion vouches for: its attributes (from the assertion's own
AttributeStatements, read under the school's names) and its subject (the persistent NameID or
the attribute the school identifies people by)."""

from __future__ import annotations

from collections.abc import Mapping

from broker.attributes import BY_NAME, by_saml_name
from broker.identity import Attributes, AuthnContext, Identity
from broker.records import School
from broker.saml.compat import (
    NAMEID_FORMAT_PERSISTENT,
    NAMEID_FORMAT_TRANSIENT,
    NAMEID_FORMAT_UNSPECIFIED,
)
from broker.saml.response_tree import Assertion
from broker.upstream.saml_kind import SamlSchool, read_attributes
from broker.upstream.saml_times import instant, reject


def _nameid_subject(assertion: Assertion) -> str:
    name_id = assertion.subject.name_id if assertion.subject else None
    text = name_id.text.strip() if name_id is not None else ""
    if name_id is None or not text:
        reject("The assertion has no NameID, and this school identifies people by NameID.")
    name_format = name_id.format or NAMEID_FORMAT_UNSPECIFIED
    if name_format == NAMEID_FORMAT_TRANSIENT:
        reject("The school sends a transient NameID, which changes at every login; configure "
               "a persistent NameID for Loper (or identify people by an attribute).")
    if name_format not in (NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_UNSPECIFIED):
        reject(f"The school sends a NameID of format {name_format}; Loper needs a persistent "
               "NameID (or identify people by an attribute).")
    return text


def _attribute_subject(name: str, raw: Mapping[str, list[str]], attributes: Attributes) -> str:
    found = by_saml_name(name)
    internal = name if name in BY_NAME else found.name if found is not None else None
    if internal is not None:
        values = list(attributes.get(internal, ()))
    else:  # an attribute outside Loper's vocabulary, named exactly
        values = [v for key, vs in raw.items() if key.lower() == name.lower() for v in vs]
    if len(values) != 1:
        reject(f"The assertion carries {len(values)} values of {name}, the attribute this "
               "school identifies people by; Loper needs exactly one.")
    return values[0]


def identity_of(school: School, saml: SamlSchool, assertion: Assertion) -> Identity:
    raw = assertion.attributes()
    attributes = read_attributes(school, raw)
    subject = (_nameid_subject(assertion) if saml.subject == "nameid"
               else _attribute_subject(saml.subject, raw, attributes))
    statement = assertion.authn_statement[0]
    authn = AuthnContext(instant(statement.authn_instant, "The AuthnInstant"),
                         statement.class_ref)
    return Identity(school.id, subject, attributes, authn)
