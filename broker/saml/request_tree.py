"""Typed read-only views of a supplier's samlp:AuthnRequest as an lxml tree (see
response_tree for how views read: XML attributes and direct children, on demand)."""

from __future__ import annotations

from broker.saml.response_tree import SAML, SAMLP, Attr, Child, View, text_of

AUTHN_REQUEST = f"{{{SAMLP}}}AuthnRequest"


class NameIDPolicy(View):
    format = Attr("Format")
    sp_name_qualifier = Attr("SPNameQualifier")


class IDPEntry(View):
    provider_id = Attr("ProviderID")


class IDPList(View):
    @property
    def idp_entry(self) -> list[IDPEntry]:
        return [IDPEntry(e) for e in self._children(f"{{{SAMLP}}}IDPEntry")]


class Scoping(View):
    idp_list = Child(f"{{{SAMLP}}}IDPList", IDPList)


class RequestedAuthnContext(View):
    comparison = Attr("Comparison")

    @property
    def authn_context_class_ref(self) -> list[str]:
        return [text_of(e) for e in self._children(f"{{{SAML}}}AuthnContextClassRef")]

    @property
    def authn_context_decl_ref(self) -> list[str]:
        return [text_of(e) for e in self._children(f"{{{SAML}}}AuthnContextDeclRef")]


class AuthnRequest(View):
    id = Attr("ID")
    version = Attr("Version")
    destination = Attr("Destination")
    issue_instant = Attr("IssueInstant")
    assertion_consumer_service_url = Attr("AssertionConsumerServiceURL")
    assertion_consumer_service_index = Attr("AssertionConsumerServiceIndex")
    protocol_binding = Attr("ProtocolBinding")
    force_authn = Attr("ForceAuthn")
    is_passive = Attr("IsPassive")
    name_id_policy = Child(f"{{{SAMLP}}}NameIDPolicy", NameIDPolicy)
    scoping = Child(f"{{{SAMLP}}}Scoping", Scoping)
    requested_authn_context = Child(f"{{{SAMLP}}}RequestedAuthnContext", RequestedAuthnContext)
