"""Single logout at Loper's SAML IdP (SAML profiles 4.4): LogoutRequests to the suppliers'
SPs, their LogoutResponses, and a supplier's own LogoutRequest and Loper's answer to it.

Every message is signed (RSA-SHA256) and goes over a binding the SP's metadata offers for its
SingleLogoutService; what comes in must be signed with a key of the sender's metadata, name
Loper's SLO URL as its Destination and be fresh (broker/saml/logout_exchange.py, which the
school side shares). An SP checks the freshness of Loper's LogoutRequest too, so `ask` makes
one for the moment the browser is sent: a logout asks again when it sends the browser there
(broker/logout/apps.py), and each answer is read against the request it answers (`state`).
"""

from __future__ import annotations

from collections.abc import Mapping

from broker.downstream import LogoutSent
from broker.downstream.saml_config import PERSISTENT, TRANSIENT, SamlIdpConfig
from broker.downstream.saml_peer import SpPeer
from broker.errors import LogoutRejected
from broker.outgoing import Outgoing
from broker.saml import logout_exchange as exchange
from broker.saml.logout_messages import Endpoint, NameId, Received


def endpoint(peer: SpPeer) -> Endpoint | None:
    return Endpoint.offered(peer.server.metadata, peer.entity_id, "spsso_descriptor")


def ask(config: SamlIdpConfig, peer: SpPeer, subject: str, sid: str, relay_state: str,
        transient: str = "") -> LogoutSent | None:
    """A LogoutRequest naming the pupil as the SP knows them: by the `transient` NameID it was
    given at its login, else by the persistent pseudonym."""
    found = endpoint(peer)
    if found is None:
        return None
    named = (NameId(transient, TRANSIENT, config.entity_id, peer.entity_id) if transient
             else NameId(subject, PERSISTENT, config.entity_id, peer.entity_id))
    outgoing, state = exchange.ask(config, found, named, sid, relay_state)
    return LogoutSent(outgoing=outgoing, state=state)


def read(config: SamlIdpConfig, peer: SpPeer, params: Mapping[str, str],
         kind: str) -> Received:
    """A message from this supplier's SP, checked: signed by it, to Loper, fresh."""
    received = exchange.read(config, params, kind, peer.entity_id, peer.signing_certs,
                             peer.server.sec, "supplier's")
    if received.relay_state and len(received.relay_state.encode()) > config.relay_state_max:
        raise LogoutRejected(f"The RelayState is longer than {config.relay_state_max} bytes.")
    return received


def answered(config: SamlIdpConfig, peer: SpPeer, params: Mapping[str, str],
             state: bytes) -> bool:
    return exchange.answers_ours(read(config, peer, params, "LogoutResponse"), state)


def answer(config: SamlIdpConfig, peer: SpPeer, request: bytes,
           complete: bool) -> Outgoing | None:
    found = endpoint(peer)
    return None if found is None else exchange.answer(config, found, request, complete)
