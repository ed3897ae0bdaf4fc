"""The SAML protocol messages Loper writes itself (an AuthnRequest to a school, LogoutRequest,
LogoutResponse): their common start, built on lxml, and how one is sent signed.

Over HTTP-Redirect the query is signed RSA-SHA256 over the exact encoded string (bindings
3.4.4.1); over HTTP-POST the message carries an enveloped signature after its Issuer (SAML core
5.4.1).
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from broker.keys import KeyPair
from broker.outgoing import Outgoing
from broker.saml.redirect import signed_query, signing_key
from broker.saml.signer import signer
from broker.saml.xmlparse import Element, new_element, to_bytes

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
ENTITY = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"


def new_id() -> str:
    """An xs:ID for a message or assertion: 160 random bits, starting with a letter-like '_'."""
    return "_" + secrets.token_hex(20)


def instant(moment: datetime) -> str:
    """An xs:dateTime in UTC, to the second, as SAML core 1.3.3 asks."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def protocol_message(tag: str, ident: str, issuer: str, destination: str) -> Element:
    """samlp:`tag` with what every request and response Loper sends starts with (SAML core
    3.2.1, 3.2.2): ID, Version, IssueInstant, Destination and the Issuer."""
    root = new_element(f"{{{SAMLP}}}{tag}", {"samlp": SAMLP, "saml": SAML})
    root.set("ID", ident)
    root.set("Version", "2.0")
    root.set("IssueInstant", instant(datetime.now(UTC)))
    root.set("Destination", destination)
    issued = root.makeelement(f"{{{SAML}}}Issuer", {"Format": ENTITY})
    issued.text = issuer
    root.append(issued)
    return root


def send(keys: KeyPair, post: bool, url: str, message: Element, relay_state: str) -> Outgoing:
    """`message`, signed, to `url` over HTTP-POST or HTTP-Redirect (as SAMLResponse when it is
    a response, else SAMLRequest)."""
    param = "SAMLResponse" if message.tag.endswith("Response") else "SAMLRequest"
    if post:
        signing = signer(keys)
        message.insert(1, signing.template_element(message.get("ID", "")))  # after the Issuer
        signing.sign_in_place(message)
        form = {param: base64.b64encode(to_bytes(message)).decode("ascii")}
        if relay_state:
            form["RelayState"] = relay_state
        return Outgoing(url, form)
    query = signed_query(signing_key(keys.key), param, to_bytes(message), relay_state)
    return Outgoing(f"{url}{'&' if '?' in url else '?'}{query}")
