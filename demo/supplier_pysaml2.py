"""Demo supplier "Rekenwonders": a pysaml2 SP, as a supplier would integrate with Loper.

Asks for a persistent NameID over HTTP-Redirect, wants signed assertions, and publishes an
encryption key, so Loper encrypts the assertion to it (pysaml2 decrypts it). Single logout over
HTTP-Redirect, both ways: its LogoutRequests and LogoutResponses are signed, and it checks the
IdP's signature on what comes in (pysaml2's verify_redirect_signature) before pysaml2 reads it.
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
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from demo.keys import ensure_keypair
from demo.metadata import Lazy, MetadataSource, entity_id, metadata_documents
from demo.saml_errors import describe_and_release
from demo.saml_status import codes_of
from demo.supplier_web import (
    LoginFailed,
    LoginResult,
    Outgoing,
    ReplayCache,
    SloResult,
    create_saml_supplier,
    require,
    with_hint,
)


class Pysaml2Sp:
    def __init__(self, base_url: str, state_dir: Path, idp_metadata: MetadataSource,
                 name: str) -> None:
        slug = name.lower()
        self.entity_id = f"{base_url}/metadata"
        self.acs_url = f"{base_url}/acs"
        self.slo_url = f"{base_url}/slo"
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
                    "endpoints": {"assertion_consumer_service": acs,
                                  "single_logout_service": [
                                      (self.slo_url, BINDING_HTTP_REDIRECT)]},
                    "logout_requests_signed": True,
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
            session_index=statements[0].session_index if statements else None,
        )

    # -- single logout ---------------------------------------------------------------------
    def _idp_slo(self) -> tuple[Saml2Client, str, str | None]:
        client, idp = self._client.get()
        # Asked, pysaml2 raises UnsupportedBinding (and logs an error) when the IdP has none.
        services = [service for descriptor in client.metadata[idp].get("idpsso_descriptor", [])
                    for service in descriptor.get("single_logout_service", [])
                    if service["binding"] == BINDING_HTTP_REDIRECT]
        return client, idp, services[0]["location"] if services else None

    def start_logout(self, result: LoginResult) -> Outgoing | None:
        client, idp, destination = self._idp_slo()
        if destination is None or not result.name_id:
            return None
        name_id = NameID(text=result.name_id, format=result.name_id_format)
        request_id, logout_request = client.create_logout_request(
            destination, idp, name_id=name_id, sign=False,
            session_indexes=[result.session_index] if result.session_index else None)
        info = client.apply_binding(BINDING_HTTP_REDIRECT, str(logout_request), destination,
                                    relay_state="/", sign=True, sigalg=SIG_RSA_SHA256)
        return Outgoing(request_id, redirect(dict(info["headers"])["Location"], code=303))

    def slo(self, query: Mapping[str, str], pending: str | None) -> SloResult:
        client, idp, destination = self._idp_slo()
        require(destination is not None, "the IdP offers no single logout")
        assert destination is not None
        certs = [cert for _, cert in client.metadata.certs(idp, "idpsso", "signing")]
        message = {k: query[k] for k in ("SAMLRequest", "SAMLResponse", "RelayState", "SigAlg",
                                         "Signature") if k in query}
        require("Signature" in message and "SigAlg" in message, "the message is not signed")
        require(any(_verified(message, client, cert) for cert in certs),
                "the message's signature does not verify")
        try:
            if "SAMLRequest" in message:
                return self._logout_request(client, idp, destination, message)
            answer = client.parse_logout_request_response(message.get("SAMLResponse", ""),
                                                          BINDING_HTTP_REDIRECT)
        except LoginFailed:
            raise
        except Exception as exc:  # pysaml2 raises many unrelated types on bad input
            raise LoginFailed(describe_and_release(exc)) from None
        require(answer is not None and answer.response.in_response_to == pending,
                "the LogoutResponse answers no LogoutRequest sent from here")
        return SloResult("response", status=codes_of(answer.response.status))

    def _logout_request(self, client: Saml2Client, idp: str, destination: str,
                        message: Mapping[str, str]) -> SloResult:
        parsed = client.parse_logout_request(message["SAMLRequest"], BINDING_HTTP_REDIRECT)
        require(parsed is not None and parsed.message.issuer.text == idp,
                "the LogoutRequest is not from the IdP")
        request = parsed.message
        self._replay.check(request.id)
        answer = client.create_logout_response(request, [BINDING_HTTP_REDIRECT], sign=False)
        info = client.apply_binding(BINDING_HTTP_REDIRECT, str(answer), destination,
                                    relay_state=message.get("RelayState", ""), response=True,
                                    sign=True, sigalg=SIG_RSA_SHA256)
        return SloResult("request", name_id=request.name_id.text,
                         session_indexes=tuple(i.text for i in request.session_index),
                         answer=redirect(dict(info["headers"])["Location"], code=303))


def _verified(message: Mapping[str, str], client: Saml2Client, cert: str) -> bool:
    try:
        return bool(verify_redirect_signature(dict(message), client.sec.sec_backend, cert=cert))
    except Exception:  # an unsupported SigAlg, a malformed signature
        return False


def create_pysaml2_sp(base_url: str, state_dir: Path, broker_idp_metadata: MetadataSource,
                      name: str = "Rekenwonders") -> Flask:
    """The pysaml2 demo supplier at `base_url` (see supplier_web.create_saml_supplier)."""
    return create_saml_supplier(__name__, Pysaml2Sp, base_url, state_dir, broker_idp_metadata, name)
