"""Single logout at a SAML school (SAML profiles 4.4), Loper as the SP: its LogoutRequest to
the school's IdP and the school's answer, and the school's own LogoutRequest and Loper's answer.

What logging out needs from the login (the NameID as the school gave it, and its SessionIndex)
is kept with the SSO session as the upstream's Callback.session (a SchoolSession).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from cryptography import x509

from broker import codec
from broker.errors import LogoutRejected
from broker.outgoing import Outgoing
from broker.saml import logout_messages as slo
from broker.saml import views
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
from broker.saml.response_tree import Assertion
from broker.upstream.saml_config import SamlSpConfig
from broker.upstream.saml_kind import SamlSchool


@dataclass(frozen=True)
class SchoolSession:
    name_id: NameId
    session_index: str | None


def school_session(assertion: Assertion) -> bytes:
    name_id = assertion.subject.name_id if assertion.subject else None
    if name_id is None or not name_id.text.strip():
        return b""  # (a school that identifies people by an attribute may send none)
    statements = assertion.authn_statement
    return codec.encode(SchoolSession(
        NameId(name_id.text.strip(), name_id.format, name_id.name_qualifier,
               name_id.sp_name_qualifier),
        statements[0].session_index if statements else None))


def endpoint(client: views.SpClient, saml: SamlSchool) -> Endpoint | None:
    return Endpoint.offered(client.metadata, saml.entity_id, "idpsso_descriptor")


def ask(config: SamlSpConfig, client: views.SpClient, saml: SamlSchool, session: bytes,
        relay_state: str) -> tuple[Outgoing, bytes] | None:
    kept = codec.decode(session, SchoolSession)
    found = endpoint(client, saml)
    if kept is None or found is None:
        return None
    ident, message = slo.logout_request(config.entity_id, found.location, kept.name_id,
                                        kept.session_index)
    outgoing = slo.send(config.signing, found, found.location, message, relay_state)
    return outgoing, codec.encode(SentRequest(ident))


def _certificates(client: views.SpClient, saml: SamlSchool) -> list[x509.Certificate]:
    pairs = cast(Sequence[tuple[str, str]],
                 client.metadata.certs(saml.entity_id, "idpsso", "signing"))
    return [x509.load_der_x509_certificate(base64.b64decode(cert)) for _name, cert in pairs]


def _verify_xml(client: views.SpClient, kind: str) -> Callable[[Received], None]:
    def verify(received: Received) -> None:
        check = (client.sec.correctly_signed_logout_request if kind == "LogoutRequest"
                 else client.sec.correctly_signed_logout_response)
        failed = False
        try:
            check(received.xml.decode("utf-8"), must=True)
        except Exception as exc:  # pysaml2's exceptions share no base class
            release_frames(exc)
            failed = True
        if failed:
            raise LogoutRejected(f"The {kind}'s signature does not verify with the school's "
                                 "metadata.")
    return verify


def read(config: SamlSpConfig, client: views.SpClient, saml: SamlSchool,
         params: Mapping[str, str], kind: str) -> Received:
    """A message from the school's IdP, checked: signed by it, to Loper, fresh."""
    received = slo.receive(params.get(WIRE_BINDING, ""), params)
    if received.kind != kind or received.issuer != saml.entity_id:
        raise LogoutRejected(f"This is not a {kind} from {saml.entity_id[:200]}.")
    slo.check_signed(received, params, params.get(WIRE_QUERY, ""),
                     _certificates(client, saml), _verify_xml(client, kind))
    slo.check_fresh(received, config.slo_url, config.clock_skew)
    return received


def answered(config: SamlSpConfig, client: views.SpClient, saml: SamlSchool,
             params: Mapping[str, str], state: bytes) -> bool:
    received = read(config, client, saml, params, "LogoutResponse")
    sent = codec.decode(state, SentRequest)
    if sent is None or received.in_response_to != sent.id:
        raise LogoutRejected("This LogoutResponse answers no LogoutRequest Loper sent.")
    return received.success


def names(session: bytes, received: Received) -> bool:
    """Does the school's LogoutRequest name this school session (NameID, SessionIndex)?"""
    kept = codec.decode(session, SchoolSession)
    return kept is not None and kept.name_id.value == received.name_id and (
        not received.session_indexes or kept.session_index in received.session_indexes)


def answer(config: SamlSpConfig, client: views.SpClient, saml: SamlSchool, request: bytes,
           complete: bool) -> Outgoing:
    kept = codec.decode(request, AskedLogout)
    found = endpoint(client, saml)
    if kept is None or found is None:
        raise LogoutRejected("The school's logout cannot be answered: its metadata offers no "
                             "SingleLogoutService.")
    message = slo.logout_response(config.entity_id, found.response_location, kept.id,
                                  None if complete else "PartialLogout")
    return slo.send(config.signing, found, found.response_location, message,
                    kept.relay_state or "")
