"""What Loper's two SAML roles do alike in single logout (SAML profiles 4.4): the IdP towards
the suppliers' SPs (downstream/saml_logout.py) and the SP towards the schools' IdPs
(upstream/saml_logout.py). Each asks its peer to log a person out, reads the peer's messages
(signed by the peer, addressed to Loper, fresh), checks that an answer answers Loper's own
request, and answers the peer's request. The adapters supply the peer: its endpoint, its keys
and pysaml2's security context that verifies an enveloped signature against its metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from cryptography import x509

from broker import codec
from broker.errors import LogoutRejected
from broker.keys import KeyPair
from broker.outgoing import Outgoing
from broker.saml import logout_messages as slo
from broker.saml.frames import release_frames
from broker.saml.logout_messages import (
    WIRE_BINDING,
    WIRE_QUERY,
    AskedLogout,
    Endpoint,
    NameId,
    Received,
    SentRequest,
)
from broker.saml.views import Security


class Role(Protocol):
    """Loper's side of the exchange: its IdP's or SP's configuration."""

    @property
    def entity_id(self) -> str: ...

    @property
    def signing(self) -> KeyPair: ...

    @property
    def slo_url(self) -> str: ...

    @property
    def clock_skew(self) -> int: ...


def ask(role: Role, found: Endpoint, name_id: NameId, session_index: str | None,
        relay_state: str) -> tuple[Outgoing, bytes]:
    """A signed LogoutRequest to the peer's endpoint, and what to keep to read its answer."""
    ident, message = slo.logout_request(role.entity_id, found.location, name_id, session_index)
    outgoing = slo.send(role.signing, found, found.location, message, relay_state)
    return outgoing, codec.encode(SentRequest(ident))


def _verifier(security: Security, kind: str, whose: str) -> Callable[[Received], None]:
    """An enveloped signature, checked by pysaml2 against the peer's metadata."""
    def verify(received: Received) -> None:
        check = (security.correctly_signed_logout_request if kind == "LogoutRequest"
                 else security.correctly_signed_logout_response)
        failed = False
        try:
            check(received.xml.decode("utf-8"), must=True)
        except Exception as exc:  # pysaml2's exceptions share no base class
            release_frames(exc)
            failed = True
        if failed:
            raise LogoutRejected(f"The {kind}'s signature does not verify with the {whose} "
                                 "metadata.")
    return verify


def read(role: Role, params: Mapping[str, str], kind: str, peer: str,
         certificates: Sequence[x509.Certificate], security: Security, whose: str) -> Received:
    """A `kind` message from the peer `peer` (its entity id), checked: signed with a key of
    its metadata, addressed to Loper's SLO URL, fresh."""
    received = slo.receive(params.get(WIRE_BINDING, ""), params)
    if received.kind != kind or received.issuer != peer:
        raise LogoutRejected(f"This is not a {kind} from {peer[:200]}.")
    slo.check_signed(received, params, params.get(WIRE_QUERY, ""), certificates,
                     _verifier(security, kind, whose))
    slo.check_fresh(received, role.slo_url, role.clock_skew)
    return received


def answers_ours(received: Received, state: bytes) -> bool:
    """Does this LogoutResponse answer the LogoutRequest kept in `state`? Its success."""
    sent = codec.decode(state, SentRequest)
    if sent is None or received.in_response_to != sent.id:
        raise LogoutRejected("This LogoutResponse answers no LogoutRequest Loper sent.")
    return received.success


def answer(role: Role, found: Endpoint, request: bytes, complete: bool) -> Outgoing | None:
    """The signed LogoutResponse to the peer's own LogoutRequest (kept in `request`):
    Success, or Success with PartialLogout unless `complete`; None if nothing was kept."""
    kept = codec.decode(request, AskedLogout)
    if kept is None:
        return None
    message = slo.logout_response(role.entity_id, found.response_location, kept.id,
                                  None if complete else "PartialLogout")
    return slo.send(role.signing, found, found.response_location, message,
                    kept.relay_state or "")
