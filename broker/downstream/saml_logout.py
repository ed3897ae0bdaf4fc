"""Single logout at Loper's SAML IdP (SAML profiles 4.4): LogoutRequests to the suppliers'
SPs, their LogoutResponses, and a supplier's own LogoutRequest and Loper's answer to it.

Every message is signed (RSA-SHA256) and goes over a binding the SP's metadata offers for its
SingleLogoutService; what comes in must be signed with a key of the sender's metadata, name
Loper's SLO URL as its Destination and be fresh (broker/saml/logout_messages.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from broker import codec
from broker.downstream import LogoutSent
from broker.downstream.saml_config import PERSISTENT, SamlIdpConfig
from broker.downstream.saml_peer import SpPeer, pysaml2_errors
from broker.errors import LogoutRejected
from broker.outgoing import Outgoing
from broker.saml import logout_messages as slo
from broker.saml.logout_messages import (
    WIRE_BINDING,
    WIRE_QUERY,
    AskedLogout,
    Endpoint,
    NameId,
    Received,
    SentRequest,
)


def endpoint(peer: SpPeer) -> Endpoint | None:
    return Endpoint.offered(peer.server.metadata, peer.entity_id, "spsso_descriptor")


def ask(config: SamlIdpConfig, peer: SpPeer, subject: str, sid: str,
        relay_state: str) -> LogoutSent | None:
    found = endpoint(peer)
    if found is None:
        return None
    ident, message = slo.logout_request(
        config.entity_id, found.location,
        NameId(subject, PERSISTENT, config.entity_id, peer.entity_id), sid)
    return LogoutSent(outgoing=slo.send(config.signing, found, found.location, message,
                                        relay_state), state=codec.encode(SentRequest(ident)))


def _verify_xml(peer: SpPeer, kind: str) -> Callable[[Received], None]:
    def verify(received: Received) -> None:
        check = (peer.server.sec.correctly_signed_logout_request if kind == "LogoutRequest"
                 else peer.server.sec.correctly_signed_logout_response)
        with pysaml2_errors(f"The {kind}'s signature does not verify", LogoutRejected):
            check(received.xml.decode("utf-8"), must=True)
    return verify


def read(config: SamlIdpConfig, peer: SpPeer, params: Mapping[str, str],
         kind: str) -> Received:
    """A message from this supplier's SP, checked: signed by it, to Loper, fresh."""
    received = slo.receive(params.get(WIRE_BINDING, ""), params)
    if received.kind != kind or received.issuer != peer.entity_id:
        raise LogoutRejected(f"This is not a {kind} from {peer.entity_id[:200]}.")
    slo.check_signed(received, params, params.get(WIRE_QUERY, ""), peer.signing_certs,
                     _verify_xml(peer, kind))
    slo.check_fresh(received, config.slo_url, config.clock_skew)
    if received.relay_state and len(received.relay_state.encode()) > config.relay_state_max:
        raise LogoutRejected(f"The RelayState is longer than {config.relay_state_max} bytes.")
    return received


def answered(config: SamlIdpConfig, peer: SpPeer, params: Mapping[str, str],
             state: bytes) -> bool:
    received = read(config, peer, params, "LogoutResponse")
    sent = codec.decode(state, SentRequest)
    if sent is None or received.in_response_to != sent.id:
        raise LogoutRejected("This LogoutResponse answers no LogoutRequest Loper sent.")
    return received.success


def answer(config: SamlIdpConfig, peer: SpPeer, request: bytes,
           complete: bool) -> Outgoing | None:
    kept = codec.decode(request, AskedLogout)
    found = endpoint(peer)
    if kept is None or found is None:
        return None
    message = slo.logout_response(config.entity_id, found.response_location, kept.id,
                                  None if complete else "PartialLogout")
    return slo.send(config.signing, found, found.response_location, message,
                    kept.relay_state or "")
