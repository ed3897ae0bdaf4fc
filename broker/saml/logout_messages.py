"""SAML single logout messages (SAML core 3.7, bindings 3.4 and 3.5), for both of Loper's
SAML roles: building and sending LogoutRequest and LogoutResponse, and reading them.

Loper sends over HTTP-Redirect when the receiver offers it (the query signed RSA-SHA256 over
the exact encoded string, bindings 3.4.4.1), else over HTTP-POST (an enveloped signature).
What comes in is decoded with the size caps of broker.saml.decode and read with the hardened
parser; its signature is checked by the adapter against the sender's metadata (check_signed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509

from broker.errors import BadRequest, LogoutRejected
from broker.keys import KeyPair
from broker.outgoing import Outgoing
from broker.saml import sending
from broker.saml.compat import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from broker.saml.decode import decode_post, decode_redirect
from broker.saml.redirect import SignatureRejected, verify_query
from broker.saml.sending import SAML, SAMLP, instant, new_id, protocol_message
from broker.saml.views import Descriptor, Metadata
from broker.saml.xmlparse import Element, NotXml, parse

DS = "http://www.w3.org/2000/09/xmldsig#"
STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
LIFETIME = 300
MAX_ID = 256
BINDINGS = {BINDING_HTTP_REDIRECT: "redirect", BINDING_HTTP_POST: "post"}
WIRE_BINDING = "loper:binding"
WIRE_QUERY = "loper:query"
"""Keys the SAML blueprint adds to a message's parameters: its binding ("redirect", "post")
and the raw query (the Redirect binding's signature covers it as sent)."""


@dataclass(frozen=True)
class Endpoint:
    binding: str
    """"redirect" or "post"."""
    location: str
    response_location: str

    @classmethod
    def offered(cls, metadata: Metadata, entity_id: str,
                descriptor: Descriptor) -> Endpoint | None:
        """The SingleLogoutService of `entity_id`'s `descriptor` ("spsso_descriptor",
        "idpsso_descriptor") in pysaml2's metadata store: Redirect first, then POST. (Read from
        the entity itself: the store's service() raises, and logs an error, when it has none.)"""
        try:
            entity = metadata[entity_id]
        except KeyError:
            return None
        services = [service for found in entity.get(descriptor) or []
                    for service in found.get("single_logout_service") or []]
        for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
            for service in services:
                if service.get("binding") == binding and service.get("location"):
                    return cls(BINDINGS[binding], service["location"],
                               service.get("response_location") or service["location"])
        return None


@dataclass(frozen=True)
class NameId:
    """A NameID as it was given (its qualifiers and format), to name it again at logout."""

    value: str
    format: str | None = None
    name_qualifier: str | None = None
    sp_name_qualifier: str | None = None


@dataclass(frozen=True)
class SentRequest:
    """Loper's LogoutRequest in flight: its answer must be InResponseTo this ID."""

    id: str


@dataclass(frozen=True)
class AskedLogout:
    """A peer's LogoutRequest, kept to answer it when the logout is over."""

    id: str
    relay_state: str | None


def logout_request(issuer: str, destination: str, name_id: NameId,
                   session_index: str | None) -> tuple[str, Element]:
    ident = new_id()
    root = protocol_message("LogoutRequest", ident, issuer, destination)
    root.set("NotOnOrAfter", instant(datetime.now(UTC) + timedelta(seconds=LIFETIME)))
    named = root.makeelement(f"{{{SAML}}}NameID", {})
    named.text = name_id.value
    for attribute, value in (("Format", name_id.format), ("NameQualifier",
                             name_id.name_qualifier), ("SPNameQualifier",
                             name_id.sp_name_qualifier)):
        if value:
            named.set(attribute, value)
    root.append(named)
    if session_index:
        index = root.makeelement(f"{{{SAMLP}}}SessionIndex", {})
        index.text = session_index
        root.append(index)
    return ident, root


def logout_response(issuer: str, destination: str, in_response_to: str,
                    second: str | None = None, top: str = "Success") -> Element:
    """Success, or with a second-level code: Success/PartialLogout (some sessions remain)."""
    root = protocol_message("LogoutResponse", new_id(), issuer, destination)
    root.set("InResponseTo", in_response_to)
    status = root.makeelement(f"{{{SAMLP}}}Status", {})
    code = status.makeelement(f"{{{SAMLP}}}StatusCode", {"Value": STATUS + top})
    if second:
        code.append(code.makeelement(f"{{{SAMLP}}}StatusCode", {"Value": STATUS + second}))
    status.append(code)
    root.append(status)
    return root


def send(keys: KeyPair, endpoint: Endpoint, url: str, message: Element,
         relay_state: str) -> Outgoing:
    """`message`, signed, to `url` over the endpoint's binding."""
    return sending.send(keys, endpoint.binding == "post", url, message, relay_state)


# -- what comes in -------------------------------------------------------------------------

@dataclass(frozen=True)
class Received:
    """A logout message, read but not yet trusted: check_signed() before acting on it."""

    kind: str
    """"LogoutRequest" or "LogoutResponse"."""
    binding: str
    xml: bytes
    id: str
    issuer: str
    destination: str | None
    issued: datetime
    relay_state: str | None
    in_response_to: str | None = None
    name_id: str | None = None
    session_indexes: tuple[str, ...] = ()
    status: str | None = None
    second_status: str | None = None
    signed_xml: bool = False

    @property
    def success(self) -> bool:
        return self.status == STATUS + "Success"


def _text(root: Element, path: str) -> str | None:
    found = root.find(path)
    return found.text.strip() if found is not None and found.text else None


def _when(value: str | None) -> datetime:
    try:
        issued = datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    except ValueError as exc:
        raise LogoutRejected("The logout message's IssueInstant is not a dateTime.") from exc
    return issued if issued.tzinfo else issued.replace(tzinfo=UTC)


def receive(binding: str, params: Mapping[str, str]) -> Received:
    """Decode and read the SAMLRequest or SAMLResponse of `params`; BadRequest if it is no
    logout message at all."""
    param = "SAMLRequest" if "SAMLRequest" in params else "SAMLResponse"
    value = params.get(param)
    if not value:
        raise BadRequest("This address expects a SAML LogoutRequest or LogoutResponse.")
    xml = decode_redirect(value) if binding == "redirect" else decode_post(value)
    try:
        root = parse(xml)
    except NotXml as exc:
        raise BadRequest("The SAML message is not well-formed XML.") from exc
    kind = root.tag.removeprefix(f"{{{SAMLP}}}")
    if kind not in ("LogoutRequest", "LogoutResponse") or (
            (kind == "LogoutRequest") != (param == "SAMLRequest")):
        raise BadRequest("The SAML message is not a logout message.")
    ident, issuer = root.get("ID") or "", _text(root, f"{{{SAML}}}Issuer") or ""
    if not ident or len(ident) > MAX_ID or not issuer:
        raise LogoutRejected("The logout message has no usable ID or Issuer.")
    code = root.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode")
    second = code.find(f"{{{SAMLP}}}StatusCode") if code is not None else None
    return Received(
        kind, binding, xml, ident, issuer, root.get("Destination"),
        _when(root.get("IssueInstant")), params.get("RelayState"),
        in_response_to=root.get("InResponseTo"), name_id=_text(root, f"{{{SAML}}}NameID"),
        session_indexes=tuple(i.text.strip() for i in root.iterfind(f"{{{SAMLP}}}SessionIndex")
                              if i.text),
        status=code.get("Value") if code is not None else None,
        second_status=second.get("Value") if second is not None else None,
        signed_xml=root.find(f"{{{DS}}}Signature") is not None)


def check_signed(received: Received, params: Mapping[str, str], raw_query: str,
                 certificates: Iterable[x509.Certificate],
                 verify_xml: Callable[[Received], None]) -> None:
    """A logout message must be signed (SAML profiles 4.4.3): over the query for Redirect,
    enveloped for POST (verified by `verify_xml`, pysaml2 with the sender's metadata)."""
    param = "SAMLRequest" if received.kind == "LogoutRequest" else "SAMLResponse"
    try:
        if received.binding == "redirect":
            signed = verify_query(raw_query, param, certificates)
            if any(signed.get(name) != params.get(name) for name in (param, "RelayState")):
                raise SignatureRejected("the signed query differs from the parameters")
            return
        if not received.signed_xml:
            raise SignatureRejected("it is not signed")
    except SignatureRejected as exc:
        raise LogoutRejected(f"The {received.kind} from {received.issuer[:200]} was refused: "
                             f"{exc}.") from exc
    verify_xml(received)


def check_fresh(received: Received, destination: str, skew: int) -> None:
    if received.destination != destination:
        raise LogoutRejected(f"The {received.kind} is addressed to another Destination.")
    age = (datetime.now(UTC) - received.issued).total_seconds()
    if not -skew <= age <= LIFETIME + skew:
        raise LogoutRejected(f"The {received.kind} was issued too long ago or in the future.")
