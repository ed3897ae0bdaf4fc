"""Single logout at a SAML school (SAML profiles 4.4), Loper as the SP: its LogoutRequest to
the school's IdP and the school's answer, and the school's own LogoutRequest and Loper's answer.

The messages are handled as at Loper's IdP (broker/saml/logout_exchange.py). What logging
out needs from the login (the NameID as the school gave it, and its SessionIndex)
is kept with the SSO session as the upstream's Callback.session (a SchoolSession).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from cryptography import x509

from broker import codec
from broker.errors import LogoutRejected
from broker.outgoing import Outgoing
from broker.saml import logout_exchange as exchange
from broker.saml import views
from broker.saml.logout_messages import (
    Endpoint,
    NameId,
    Received,
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
    return exchange.ask(config, found, kept.name_id, kept.session_index, relay_state)


def _certificates(client: views.SpClient, saml: SamlSchool) -> list[x509.Certificate]:
    pairs = cast(Sequence[tuple[str, str]],
                 client.metadata.certs(saml.entity_id, "idpsso", "signing"))
    return [x509.load_der_x509_certificate(base64.b64decode(cert)) for _name, cert in pairs]


def read(config: SamlSpConfig, client: views.SpClient, saml: SamlSchool,
         params: Mapping[str, str], kind: str) -> Received:
    """A message from the school's IdP, checked: signed by it, to Loper, fresh."""
    return exchange.read(config, params, kind, saml.entity_id, _certificates(client, saml),
                         client.sec, "school's")


def answered(config: SamlSpConfig, client: views.SpClient, saml: SamlSchool,
             params: Mapping[str, str], state: bytes) -> bool:
    return exchange.answers_ours(read(config, client, saml, params, "LogoutResponse"), state)


def names(session: bytes, received: Received) -> bool:
    """Does the school's LogoutRequest name this school session (NameID, SessionIndex)?"""
    kept = codec.decode(session, SchoolSession)
    return kept is not None and kept.name_id.value == received.name_id and (
        not received.session_indexes or kept.session_index in received.session_indexes)


def answer(config: SamlSpConfig, client: views.SpClient, saml: SamlSchool, request: bytes,
           complete: bool) -> Outgoing:
    found = endpoint(client, saml)
    answered = None if found is None else exchange.answer(config, found, request, complete)
    if answered is None:
        raise LogoutRejected("The school's logout cannot be answered: its metadata offers no "
                             "SingleLogoutService.")
    return answered
