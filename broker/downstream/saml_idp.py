"""Loper as a SAML IdP towards the suppliers' SPs (Web Browser SSO profile).

parse_request() turns an AuthnRequest (HTTP-Redirect or HTTP-POST) into a DownstreamRequest
whose opaque `request` (an encoded StoredRequest) the flow keeps with the pending login;
respond() and respond_error() turn it plus a Released into the POST back to the SP's ACS.
A trusted request that asks for what Loper cannot give raises saml_asks.Refused, which
refuse() turns into that POST at once (a SAML error Response), with nothing stored.
The parts: saml_peer (one supplier's SP, from its metadata), saml_request (validation),
saml_asks (what a request asks), saml_response (building, signing, encrypting).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence

from broker import codec, profiles
from broker.downstream import DownstreamRequest, LogoutSent
from broker.downstream import saml_logout as logouts
from broker.downstream.saml_asks import Refused, Reply
from broker.downstream.saml_config import TRANSIENT, SamlIdpConfig, pysaml2_config
from broker.downstream.saml_kind import saml_of
from broker.downstream.saml_peer import Attach, PeerCache, SpPeer
from broker.downstream.saml_request import DS, StoredRequest, parse_authn_request
from broker.downstream.saml_response import Failure, ResponseBuilder
from broker.errors import LogoutRejected, RequestRejected, UnknownSupplier
from broker.identity import Released
from broker.outgoing import Outgoing
from broker.records import Supplier
from broker.saml.compat import MDUI, idp_metadata, scope_elements, ui_info
from broker.saml.encrypt import CIPHERS
from broker.saml.logout_messages import WIRE_BINDING, AskedLogout, Received, receive
from broker.saml.published import Renderings
from broker.saml.scopes import SHIBMD
from broker.saml.sending import new_id
from broker.saml.signer import Signer, signer
from broker.saml.xmlparse import parse, to_text

__all__ = ["SamlIdp", "SamlIdpConfig"]

MD = "urn:oasis:names:tc:SAML:2.0:metadata"

log = logging.getLogger("loper.saml_idp")


def _metadata(config: SamlIdpConfig, metadata_signer: Signer | None, scopes: Sequence[str],
              now: dt.datetime) -> str:
    """Loper's IdP metadata with the pysaml2 SPs' reading of it: SSO endpoints and keys from
    pysaml2, then shibmd:Scope and mdui:UIInfo in the IDPSSODescriptor, validity and contacts
    on the entity; signed when the operator configured a metadata signing key."""
    shown = config.presentation
    ident = new_id() if metadata_signer is not None else ""
    text = idp_metadata(
        pysaml2_config(config), [*scope_elements((config.scope, *scopes)), ui_info(shown)],
        shown, now, (ident, metadata_signer.template(ident)) if metadata_signer else None,
        {"md": MD, "ds": DS, "shibmd": SHIBMD, "mdui": MDUI})
    if metadata_signer is None:
        return text
    signed = parse(text)
    metadata_signer.sign_in_place(signed)  # the template pysaml2 put in, for `ident`
    return to_text(signed)


class SamlIdp:
    def __init__(self, config: SamlIdpConfig, attach: Attach | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """`attach` is called with each supplier's pysaml2 Server, which verifies: pass
        broker.saml.crypto.attach to do that in-process instead of forking xmlsec1 (Loper's
        own signatures are made in process by broker/saml/signer.py)."""
        if config.encryption not in CIPHERS:
            raise ValueError(f"encryption={config.encryption!r}; expected one of "
                             f"{sorted(CIPHERS)}")
        self.config = config
        self._peers = PeerCache(config, attach=attach)
        self._answers = ResponseBuilder(config)
        metadata_signer = signer(config.metadata_signing) if config.metadata_signing else None
        self._metadata = Renderings(
            lambda scopes, now: _metadata(config, metadata_signer, scopes, now), clock)
        self._metadata.get(())  # a broken key or setting fails at start, not on a request

    def metadata_xml(self, scopes: Sequence[str] | None = ()) -> str:
        """IDPSSODescriptor: SSO over Redirect and POST, the current and the next signing key,
        shibmd:Scope for the pairwise-id's scope and `scopes` (the schools' domains; None:
        those of the last rendering, when the registry cannot be read), mdui:UIInfo; on the
        entity validUntil, cacheDuration and the contacts."""
        return self._metadata.get(scopes)

    def parse_request(self, binding: str, params: Mapping[str, str], raw_query: str,
                      find_supplier: Callable[[str], Supplier | None]) -> DownstreamRequest:
        """`binding` is "redirect" (params from the query; `raw_query` as received, for the
        signature) or "post" (params from the form). Raises BadRequest, UnknownSupplier or
        RequestRejected (Loper's page), or Refused (answered with refuse()); never a pysaml2
        exception."""
        return parse_authn_request(self.config, self._peers, binding, params, raw_query,
                                   find_supplier)

    def respond(self, supplier: Supplier, request: bytes, released: Released) -> Outgoing:
        if released.supplier_id != supplier.id:
            raise ValueError("released for another supplier")
        stored, peer = self._stored(supplier, request)
        profile = profiles.of(supplier.config.profile)
        return _post(stored.reply, self._answers.success(peer, stored, released, profile))

    def name_for(self, supplier: Supplier, request: bytes) -> str | None:
        """A fresh transient NameID for an SP that asked for one (SAML core 8.3.8); the SSO
        session keeps it, so that a logout either way names the pupil by it."""
        return new_id() if StoredRequest.read(request).name_id_format == TRANSIENT else None

    def respond_error(self, supplier: Supplier, request: bytes, status: str) -> Outgoing:
        """A signed Response without assertion; `status` is a second-level code: "NoPassive",
        "AuthnFailed", "RequestDenied"... (or its full URN)."""
        stored, _peer = self._stored(supplier, request)
        return _post(stored.reply, self._answers.failure(stored.reply, Failure(status)))

    def refuse(self, refused: Refused) -> Outgoing:
        """The answer to a trusted request that asks for what Loper cannot give: a signed
        Response without assertion to its ACS, InResponseTo its ID, with its RelayState, status
        Requester with the refusal's second-level code (SAML core 3.2.2.2, 3.4.1.1). Logged
        with an error id, which its StatusMessage names. Raises `refused` itself (Loper's page)
        when its ACS is not known."""
        if refused.reply is None:
            raise refused
        error_id = secrets.token_hex(6)
        log.warning("request refused with a SAML error response", extra={
            "error_id": error_id, "code": refused.code, "saml_status": refused.second_level,
            "supplier_name": refused.supplier_name, "detail": refused.message})
        message = (f"Loper refused this request ({refused.second_level}); error id {error_id} "
                   "names the reason in its log.")  # fixed words: the request may be forged
        failure = Failure(refused.second_level, "Requester", message)
        return _post(refused.reply, self._answers.failure(refused.reply, failure))

    # -- single logout (saml_logout.py) ------------------------------------------------------
    def logout(self, supplier: Supplier, subject: str, sid: str, relay_state: str,
               name: str = "") -> LogoutSent | None:
        return logouts.ask(self.config, self._peers.get(supplier), subject, sid, relay_state,
                           name)

    def logout_answered(self, supplier: Supplier, params: Mapping[str, str],
                        state: bytes) -> bool:
        return logouts.answered(self.config, self._peers.get(supplier), params, state)

    def answer_logout(self, supplier: Supplier, request: bytes,
                      complete: bool) -> Outgoing | None:
        return logouts.answer(self.config, self._peers.get(supplier), request, complete)

    def parse_logout_request(self, params: Mapping[str, str],
                             find_supplier: Callable[[str], Supplier | None]
                             ) -> tuple[Supplier, Received, bytes]:
        """A supplier's LogoutRequest, checked (`params` with the wire keys of saml_logout):
        the supplier, the message, and what answer_logout needs to answer it."""
        issuer = receive(params.get(WIRE_BINDING, ""), params).issuer
        supplier = find_supplier(issuer)
        saml = saml_of(supplier) if supplier else None
        if supplier is None or saml is None or saml.entity_id != issuer:
            raise UnknownSupplier(f"No learning app is registered as {issuer[:200]!r}.")
        received = logouts.read(self.config, self._peers.get(supplier), params, "LogoutRequest")
        if not received.name_id:
            raise LogoutRejected("The LogoutRequest names nobody (no NameID).")
        kept = AskedLogout(received.id, received.relay_state)
        return supplier, received, codec.encode(kept)

    def _stored(self, supplier: Supplier, request: bytes) -> tuple[StoredRequest, SpPeer]:
        stored = StoredRequest.read(request)
        peer = self._peers.get(supplier)
        if not any(acs.url == stored.acs for acs in peer.acs):
            raise RequestRejected(f"{stored.acs} is no longer an ACS of {supplier.name}.",
                                  supplier_name=supplier.name)
        return stored, peer


def _post(reply: Reply, message: str) -> Outgoing:
    form = {"SAMLResponse": message}
    if reply.relay_state is not None:
        form["RelayState"] = reply.relay_state
    return Outgoing(reply.acs, form)
