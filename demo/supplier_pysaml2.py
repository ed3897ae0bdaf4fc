"""Demo supplier "Rekenwonders": a pysaml2 SP, as a supplier would integrate with Loper.

Asks for a persistent NameID over HTTP-Redirect, wants signed assertions, and publishes an
encryption key, so Loper encrypts the assertion to it (pysaml2 decrypts it).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, redirect
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.response import AuthnResponse, StatusError
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from demo.keys import ensure_keypair
from demo.metadata import Lazy, MetadataSource, entity_id, metadata_documents
from demo.saml_errors import describe_and_release
from demo.supplier_web import (
    LoginFailed,
    LoginResult,
    Outgoing,
    ReplayCache,
    create_saml_supplier,
    require,
    with_hint,
)

SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"


class Pysaml2Sp:
    def __init__(self, base_url: str, state_dir: Path, idp_metadata: MetadataSource,
                 name: str) -> None:
        slug = name.lower()
        self.entity_id = f"{base_url}/metadata"
        self.acs_url = f"{base_url}/acs"
        self._name = name
        self._signing = ensure_keypair(state_dir, f"{slug}-sp-signing")
        self._encryption = ensure_keypair(state_dir, f"{slug}-sp-encryption")
        self._idp_metadata = idp_metadata
        self._client = Lazy(self._new_client)
        self._metadata = Lazy(self._new_metadata)
        self._replay = ReplayCache()

    def _config(self, idp_metadata: list[str] | None) -> SPConfig:
        acs = [(self.acs_url, BINDING_HTTP_POST)]
        conf: dict[str, Any] = {
            "entityid": self.entity_id,
            "name": self._name,
            "description": f"{self._name} (demo supplier, pysaml2)",
            "key_file": str(self._signing[0]),
            "cert_file": str(self._signing[1]),
            "encryption_keypairs": [
                {"key_file": str(self._encryption[0]), "cert_file": str(self._encryption[1])},
            ],
            "xmlsec_binary": shutil.which("xmlsec1") or "/usr/bin/xmlsec1",
            "accepted_time_diff": 60,
            "allow_unknown_attributes": True,
            "service": {
                "sp": {
                    "name": self._name,
                    "endpoints": {"assertion_consumer_service": acs},
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "name_id_policy_format": NAMEID_FORMAT_PERSISTENT,
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                    "allow_unsolicited": False,
                    "authn_requests_signed": False,
                    "optional_attributes": ["givenName"],  # in the metadata
                    # pysaml2 reads these two only here, inside service.sp (FACTS.md).
                    "signing_algorithm": SIG_RSA_SHA256,
                    "digest_algorithm": DIGEST_SHA256,
                },
            },
        }
        if idp_metadata is not None:
            conf["metadata"] = {"inline": idp_metadata}
        return SPConfig().load(conf)

    def _new_client(self) -> tuple[Saml2Client, str]:
        docs = metadata_documents(self._idp_metadata)
        return Saml2Client(config=self._config(docs)), entity_id(docs[0])

    def metadata_xml(self) -> str:
        return self._metadata.get()

    def _new_metadata(self) -> str:
        xml = create_metadata_string(None, config=self._config(None), sign=False)
        return xml.decode() if isinstance(xml, bytes) else str(xml)

    def start_login(self, school: str | None, force: bool, passive: bool) -> Outgoing:
        client, idp = self._client.get()
        sso = client.metadata.single_sign_on_service(idp, BINDING_HTTP_REDIRECT)[0]["location"]
        extra = {"force_authn": "true"} if force else {}
        if passive:
            extra["is_passive"] = "true"
        request_id, authn_request = client.create_authn_request(
            sso, binding=BINDING_HTTP_POST, nameid_format=NAMEID_FORMAT_PERSISTENT, **extra
        )
        # The hint travels in the URL only; the Destination inside stays the SSO URL.
        url = with_hint(sso, school)
        info = client.apply_binding(BINDING_HTTP_REDIRECT, str(authn_request), destination=url,
                                    relay_state="/")
        location = dict(info["headers"])["Location"]
        return Outgoing(request_id, redirect(location, code=303))

    def finish_login(self, form: Mapping[str, str], pending: list[str]) -> LoginResult:
        require("SAMLResponse" in form, "no SAMLResponse posted")
        client, idp = self._client.get()
        try:
            resp = client.parse_authn_request_response(
                form["SAMLResponse"], BINDING_HTTP_POST, outstanding=dict.fromkeys(pending, "/")
            )
        except StatusError as exc:
            # pysaml2 raises a status only for an answer to a pending request (it checks first)
            status, problem = type(exc).__name__.removeprefix("Status"), describe_and_release(exc)
        except Exception as exc:  # pysaml2 raises many unrelated types on bad input
            raise LoginFailed(describe_and_release(exc)) from None
        else:
            return self._checked(resp, idp, pending)
        if status != "NoPassive":
            raise LoginFailed(f"the IdP answered {status}: {problem}")
        return LoginResult(status=status, issuer=idp)

    def _checked(self, resp: AuthnResponse | None, idp: str, pending: list[str]) -> LoginResult:
        # pysaml2 returns a response without assertion when its own checks (Destination,
        # InResponseTo, IssueInstant) fail, and leaves a missing Destination, Recipient,
        # AudienceRestriction and replays to its caller.
        require(resp is not None and resp.assertion is not None, "response rejected by pysaml2")
        assert resp is not None
        message, assertion = resp.response, resp.assertion
        require(message.destination == self.acs_url, "wrong or missing Destination")
        require(message.in_response_to in pending, "InResponseTo matches no pending request")
        # SAML core 3.2.2: the Response's Issuer is optional; the Assertion's is not.
        require(message.issuer is None or message.issuer.text == idp, "unexpected issuer")
        require(assertion.issuer is not None and assertion.issuer.text == idp,
                "unexpected issuer")
        require(assertion.conditions is not None, "no Conditions (audience) in the assertion")
        audiences = [a.text for r in assertion.conditions.audience_restriction for a in r.audience]
        require(audiences == [self.entity_id], "not meant for this supplier (audience)")
        for confirmation in assertion.subject.subject_confirmation:
            data = confirmation.subject_confirmation_data
            require(data.recipient == self.acs_url, "wrong Recipient")
            require(data.in_response_to == message.in_response_to, "wrong InResponseTo")
        self._replay.check(assertion.id)
        statements = assertion.authn_statement
        return LoginResult(
            status="ok",
            name_id=resp.name_id.text if resp.name_id else None,
            name_id_format=resp.name_id.format if resp.name_id else None,
            attributes={
                attr.name: [v.text or "" for v in attr.attribute_value]
                for statement in assertion.attribute_statement
                for attr in statement.attribute
            },
            issuer=assertion.issuer.text,
            authn_instant=statements[0].authn_instant if statements else None,
            in_response_to=message.in_response_to,
        )


def create_pysaml2_sp(base_url: str, state_dir: Path, broker_idp_metadata: MetadataSource,
                      name: str = "Rekenwonders") -> Flask:
    """The pysaml2 demo supplier at `base_url` (see supplier_web.create_saml_supplier)."""
    return create_saml_supplier(__name__, Pysaml2Sp, base_url, state_dir, broker_idp_metadata, name)
