"""A small federation for the SAML IdP tests: Loper's IdP, real SP libraries as suppliers, and
the steps a test repeats (register a supplier, send its request, answer it)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from broker.downstream import DownstreamRequest
from broker.downstream.saml_idp import SamlIdp, SamlIdpConfig
from broker.downstream.saml_kind import SamlSupplier
from broker.downstream.saml_peer import Attach
from broker.identity import AuthnContext, Released
from broker.keys import KeyPair, ensure_saml_keypair, saml_signing
from broker.outgoing import Outgoing
from broker.records import Supplier
from tests.downstream.peers import OneLoginSp, PysamlSp, SentRequest

BASE = "https://loper.example"
RELEASED = {"given_name": ("Jan",), "role": ("student", "member")}
AUTHN_INSTANT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
SESSION = "sid-given-to-this-sp"
"""The session id of every release here: the SessionIndex the SP is given."""


class SamlWorld:
    def __init__(self, folder: Path, attach: Attach | None = None, **config: Any) -> None:
        self.folder = folder
        self.config = SamlIdpConfig(
            entity_id=f"{BASE}/saml/idp/metadata", sso_url=f"{BASE}/saml/idp/sso",
            signing=self.keys("idp"), next_signing=self.keys("idp", "next"),
            scope="loper.example", **config)
        self.idp = SamlIdp(self.config, attach)
        self.suppliers: dict[str, Supplier] = {}

    def keys(self, name: str, which: str = "current") -> KeyPair:
        folder = self.folder / name
        folder.mkdir(parents=True, exist_ok=True)
        ensure_saml_keypair(folder, name, which)
        return saml_signing(folder, which)

    def register(self, entity_id: str, metadata_xml: str) -> Supplier:
        sid = entity_id.split("//")[1].split(".")[0]
        supplier = Supplier(sid, sid.title(), SamlSupplier(metadata_xml, entity_id), sid, 1)
        self.suppliers[entity_id] = supplier
        return supplier

    def pysaml_sp(self, name: str = "sp1", keys: str | None = None,
                  register: bool = True, **options: Any) -> PysamlSp:
        sp = PysamlSp(f"https://{name}.example/metadata", self.keys(keys or name),
                      self.idp.metadata_xml(), **options)
        if register:
            self.register(sp.entity_id, sp.metadata_xml)
        return sp

    def onelogin_sp(self, name: str = "ol1", keys: str | None = None,
                    register: bool = True, **options: Any) -> OneLoginSp:
        sp = OneLoginSp(f"https://{name}.example/metadata", self.keys(keys or name),
                        self.idp.metadata_xml(), host=f"{name}.example", **options)
        if register:
            self.register(sp.entity_id, sp.metadata_xml)
        return sp

    def find(self, entity_id: str) -> Supplier | None:
        return self.suppliers.get(entity_id)

    def parse(self, sent: SentRequest, **extra: str) -> DownstreamRequest:
        return self.idp.parse_request(sent.binding, {**sent.params, **extra}, sent.raw_query,
                                      self.find)

    def released(self, request: DownstreamRequest, subject: str = "v1-4f2a9c",
                 class_ref: str | None = None, **attributes: tuple[str, ...]) -> Released:
        return Released("regenboog", request.supplier.id, subject, attributes or RELEASED,
                        AuthnContext(AUTHN_INSTANT, class_ref), SESSION)

    def login(self, sp: PysamlSp | OneLoginSp, binding: str = "redirect",
              relay_state: str = "", **request_options: Any) -> tuple[SentRequest, Outgoing]:
        """The supplier sends a request, Loper answers it with RELEASED."""
        sent = sp.request(binding, relay_state, **request_options)
        request = self.parse(sent)
        return sent, self.idp.respond(request.supplier, request.request, self.released(request))


def response_xml(outgoing: Outgoing) -> bytes:
    assert outgoing.form is not None
    return base64.b64decode(outgoing.form["SAMLResponse"])
