"""The AuthnRequest Loper sends a school's IdP (SAML core 3.4.1), built on lxml and sent
signed (broker/saml/sending.py): over HTTP-Redirect when the IdP offers it, else HTTP-POST.

What it asks, beyond who asks and where the answer goes:
- a persistent NameID when the school identifies pupils by their NameID (`subject = "nameid"`);
- ForceAuthn when the supplier demands a fresh login, IsPassive for a passive request;
- the supplier's RequestedAuthnContext when it requires one (an OIDC supplier's acr_values
  are voluntary and stay out: a SAML IdP must refuse what it cannot meet);
- for a hub, Scoping naming the school picked behind it (SAML core 3.4.1.2).
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.identity import PendingLogin
from broker.keys import KeyPair
from broker.outgoing import Outgoing
from broker.saml.compat import BINDING_HTTP_POST, NAMEID_FORMAT_PERSISTENT
from broker.saml.sending import SAML, SAMLP, new_id, protocol_message, send
from broker.saml.xmlparse import Element, child


@dataclass(frozen=True)
class Requester:
    """Loper as the schools' service provider."""

    entity_id: str
    acs_url: str
    name: str
    """ProviderName: who asks, as an IdP's login page may show it."""
    keys: KeyPair


@dataclass(frozen=True)
class Ask:
    """How this login asks the school."""

    forced: bool
    persistent: bool
    """Ask for a persistent NameID (the school identifies pupils by it)."""


def authn_request(requester: Requester, destination: str, post: bool, pending: PendingLogin,
                  ask: Ask, relay_state: str) -> tuple[str, Outgoing]:
    """The request's ID (the answer must be InResponseTo it) and the way to the IdP."""
    ident = new_id()
    root = protocol_message("AuthnRequest", ident, requester.entity_id, destination)
    for name, value in (("ForceAuthn", ask.forced), ("IsPassive", pending.passive)):
        if value:
            root.set(name, "true")
    root.set("ProtocolBinding", BINDING_HTTP_POST)
    root.set("AssertionConsumerServiceURL", requester.acs_url)
    root.set("ProviderName", requester.name)
    if ask.persistent:
        child(root, f"{{{SAMLP}}}NameIDPolicy",
              {"Format": NAMEID_FORMAT_PERSISTENT, "AllowCreate": "true"})
    if pending.acr is not None and pending.acr.required:
        _requested_context(root, pending.acr.classes, pending.acr.comparison)
    if pending.school_hint is not None:
        listed = child(child(root, f"{{{SAMLP}}}Scoping"), f"{{{SAMLP}}}IDPList")
        child(listed, f"{{{SAMLP}}}IDPEntry", {"ProviderID": pending.school_hint})
    return ident, send(requester.keys, post, destination, root, relay_state)


def _requested_context(root: Element, classes: tuple[str, ...], comparison: str) -> None:
    asked = child(root, f"{{{SAMLP}}}RequestedAuthnContext", {"Comparison": comparison})
    for class_ref in classes:
        child(asked, f"{{{SAML}}}AuthnContextClassRef", text=class_ref)
