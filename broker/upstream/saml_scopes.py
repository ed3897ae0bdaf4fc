"""A school's scopes from its SAML metadata: the shibmd:Scope elements of its entity.

A scoped attribute (value@scope, eduPersonScopedAffiliation) is believed only under one of
these (broker/attributes.py). Regular-expression scopes (regexp="true") are not used: a
literal domain is what schools and hubs publish, and a pattern is easily too wide.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import lru_cache

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
SHIBMD = "urn:mace:shibboleth:metadata:1.0"
_PLACES = (f"{{{MD}}}Extensions/{{{SHIBMD}}}Scope",
           f"{{{MD}}}IDPSSODescriptor/{{{MD}}}Extensions/{{{SHIBMD}}}Scope")


def _entity(root: ET.Element, entity_id: str) -> ET.Element | None:
    if root.tag == f"{{{MD}}}EntityDescriptor":
        return root if root.get("entityID") == entity_id else None
    return next((e for e in root.iter(f"{{{MD}}}EntityDescriptor")
                 if e.get("entityID") == entity_id), None)


@lru_cache(maxsize=64)
def scopes(metadata_xml: str, entity_id: str) -> frozenset[str]:
    """The literal scopes (lower case) of entity_id in metadata the registry has checked."""
    try:
        entity = _entity(ET.fromstring(metadata_xml), entity_id)
    except ET.ParseError:
        return frozenset()
    if entity is None:
        return frozenset()
    found = (scope for place in _PLACES for scope in entity.iterfind(place)
             if scope.get("regexp", "false").strip().lower() not in ("true", "1"))
    return frozenset(text for scope in found if (text := (scope.text or "").strip().lower()))
