"""What a supplier's AuthnRequest asks of Loper's answer: the NameID format (NameIDPolicy,
SAML core 3.4.1.1) and the authentication context (RequestedAuthnContext, 3.3.2.2.1).

Read only once the request is trusted (a registered issuer, its signature verified) and the ACS
to answer to is known from the supplier's metadata (saml_request.py). A request that asks for
what Loper cannot give is then answered at that ACS with a SAML error Response
(SamlIdp.refuse), as SAML core 3.4.1.1 requires, not with Loper's own page: top-level Requester
(3.2.2.2: Loper will not honour what the requester asked), second-level InvalidNameIDPolicy or
NoAuthnContext. The supplier's SP shows its own error with these codes.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker import acr
from broker.downstream import NO_AUTHN_CONTEXT
from broker.downstream.saml_config import NAME_ID_FORMATS, PERSISTENT, UNSPECIFIED
from broker.downstream.saml_peer import SpPeer
from broker.errors import RequestRejected
from broker.saml.request_tree import NameIDPolicy, RequestedAuthnContext

INVALID_NAME_ID_POLICY = "InvalidNameIDPolicy"


@dataclass(frozen=True)
class Reply:
    """Where an answer to a request goes: InResponseTo, the ACS (its Destination) and the
    RelayState to pass back."""

    id: str
    acs: str
    relay_state: str | None = None


class Refused(RequestRejected):
    """The request asks for what Loper cannot give. Once saml_request set its `reply`, the SP
    is answered there with a SAML error Response of `second_level` (SamlIdp.refuse); without a
    reply it is Loper's page, like any RequestRejected."""

    def __init__(self, second_level: str, message: str) -> None:
        super().__init__(message)
        self.second_level = second_level
        self.reply: Reply | None = None


def name_id_format(peer: SpPeer, policy: NameIDPolicy | None) -> str:
    """The format the SP asks for; when it names none (or unspecified), the first its metadata
    lists of those Loper offers (NAME_ID_FORMATS, its IdP metadata's), else persistent."""
    if policy is not None and policy.sp_name_qualifier not in (None, peer.entity_id):
        raise Refused(INVALID_NAME_ID_POLICY, "InvalidNameIDPolicy: a learning app can only "
                      "ask for its own identifiers (SPNameQualifier).")
    asked = None if policy is None or policy.format == UNSPECIFIED else policy.format
    if asked is None:
        asked = next((f for f in peer.name_id_formats if f in NAME_ID_FORMATS), PERSISTENT)
    if asked not in NAME_ID_FORMATS:
        raise Refused(INVALID_NAME_ID_POLICY, f"InvalidNameIDPolicy: the NameID format "
                      f"{asked[:200]!r} is not offered; ask for persistent or transient.")
    return asked


def authn_context(asked: RequestedAuthnContext | None) -> acr.AcrRequest | None:
    """Classes only, a known Comparison, capped, and one a school's login can meet."""
    if asked is None:
        return None
    if asked.authn_context_decl_ref:
        raise Refused(NO_AUTHN_CONTEXT, "The RequestedAuthnContext names AuthnContextDeclRefs; "
                      "Loper passes on AuthnContextClassRefs only.")
    classes = tuple(ref.strip() for ref in asked.authn_context_class_ref)
    comparison = "exact" if asked.comparison is None else asked.comparison
    problem = acr.problem(classes, comparison) or _unmet(classes, comparison)
    if problem is not None:
        raise Refused(NO_AUTHN_CONTEXT, f"The RequestedAuthnContext cannot be accepted: "
                      f"{problem}.")
    return acr.AcrRequest(classes, comparison) if classes else None


def _unmet(classes: tuple[str, ...], comparison: str) -> str | None:
    """Why no school's login could ever meet the request (only `better` can ask that: than
    the strongest class Loper ranks, or than classes it does not rank), or None."""
    candidates = (*acr.STRENGTH, *classes)
    if classes and not any(acr.satisfies(c, classes, comparison) for c in candidates):
        return f"no class Loper knows is {comparison} than the classes it names"
    return None
