"""A SAML entity's scopes: the literal shibmd:Scope domains in its metadata.

One reader for both uses: a school's scoped attributes (value@scope, eduPersonScopedAffiliation)
are believed only under its own scopes (broker/attributes.py), and Loper's IdP metadata
publishes the schools' scopes for the schacHomeOrganization values it passes on
(broker/saml/published.py). Regular-expression scopes (regexp="true") are not used: a literal
domain is what schools and hubs publish, and a pattern is easily too wide.

A supplier's scopes are never used (Loper vouches for what suppliers receive); `unowned`
finds the ones a supplier's metadata claims beyond its own domain, which the import refuses.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from broker.saml.xmlparse import Element, NotXml, parse

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
SHIBMD = "urn:mace:shibboleth:metadata:1.0"
_PLACES = (f"{{{MD}}}Extensions/{{{SHIBMD}}}Scope",
           f"{{{MD}}}IDPSSODescriptor/{{{MD}}}Extensions/{{{SHIBMD}}}Scope")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")


def _entity(root: Element, entity_id: str) -> Element | None:
    if root.tag == f"{{{MD}}}EntityDescriptor":
        return root if root.get("entityID") == entity_id else None
    return next((e for e in root.iter(f"{{{MD}}}EntityDescriptor")
                 if e.get("entityID") == entity_id), None)


def _read(metadata_xml: str, entity_id: str) -> Element | None:
    """entity_id's EntityDescriptor; None for unreadable metadata or one without it."""
    try:
        return _entity(parse(metadata_xml), entity_id)
    except NotXml:
        return None


def _host(url: str) -> str:
    """The lower-case host of an absolute URL; "" for anything else (a malformed one too)."""
    try:
        return (urlsplit(url).hostname or "").lower() if "://" in url else ""
    except ValueError:
        return ""


@lru_cache(maxsize=256)
def scopes(metadata_xml: str, entity_id: str) -> tuple[str, ...]:
    """The literal scopes (lower case, domain names only, in document order) of entity_id;
    () for unreadable metadata or an entity it does not hold."""
    entity = _read(metadata_xml, entity_id)
    if entity is None:
        return ()
    found = (scope for place in _PLACES for scope in entity.iterfind(place)
             if (scope.get("regexp") or "false").strip().lower() in ("false", "0"))
    values = ((scope.text or "").strip().lower() for scope in found)
    return tuple(dict.fromkeys(v for v in values if DOMAIN.fullmatch(v)))


def _owned(scope: str, hosts: set[str]) -> bool:
    """A domain of the entity's own hosts: one of them, or a parent of one with a dot in it."""
    return "." in scope and any(h == scope or h.endswith("." + scope) for h in hosts)


def unowned(metadata_xml: str, entity_id: str) -> tuple[str, ...]:
    """The shibmd:Scope values anywhere in entity_id's metadata (the entity's or any role's
    Extensions) outside the hosts of its entity id and its endpoints' Locations. A regexp
    scope is never owned (a pattern cannot be checked); () for unreadable metadata."""
    entity = _read(metadata_xml, entity_id)
    if entity is None:
        return ()
    urls = [entity_id, *(e.get("Location") or "" for e in entity.iter() if e.get("Location"))]
    hosts = {_host(u) for u in urls} - {""}
    found = []
    for scope in entity.iter(f"{{{SHIBMD}}}Scope"):
        value = (scope.text or "").strip().lower()
        regexp = (scope.get("regexp") or "false").strip().lower() not in ("false", "0")
        if regexp or not _owned(value, hosts):
            found.append(value[:100] or "(empty)")
    return tuple(dict.fromkeys(found))
