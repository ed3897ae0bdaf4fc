"""Demo supplier "Taalapp": a python3-saml (OneLogin) SP, as a supplier would integrate with Loper.

Sends signed AuthnRequests (RSA-SHA256) over HTTP-POST, strict mode, wants signed
assertions, no encryption. Single logout over HTTP-Redirect with python3-saml's own
OneLogin_Saml2_Auth (logout, process_slo): signed both ways, signatures checked.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, redirect, request
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.logout_request import OneLogin_Saml2_Logout_Request
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from demo.keys import ensure_keypair
from demo.metadata import Lazy, MetadataSource, metadata_documents
from demo.people import NAME_FORMAT_URI, SAML_NAMES
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
from demo.web import post_form

REQUESTED = ("givenName", "eduPersonAffiliation", "isMemberOf")
"""Declared in its metadata; the reasons are in the federation file (demo/federation.py)."""


class OneloginSp:
    def __init__(self, base_url: str, state_dir: Path, idp_metadata: MetadataSource,
                 name: str) -> None:
        self.entity_id = f"{base_url}/metadata"
        self.acs_url = f"{base_url}/acs"
        self.slo_url = f"{base_url}/slo"
        self._name = name
        key_file, cert_file = ensure_keypair(state_dir, f"{name.lower()}-sp")
        self._key, self._cert = key_file.read_text(), cert_file.read_text()
        self._idp_metadata = idp_metadata
        self._settings = Lazy(self._new_settings)
        self._metadata = Lazy(self._new_metadata)
        self._replay = ReplayCache()

    def _settings_dict(self) -> dict[str, Any]:
        return {
            "strict": True,
            "debug": False,
            "sp": {
                "entityId": self.entity_id,
                "assertionConsumerService": {"url": self.acs_url, "binding": C.BINDING_HTTP_POST},
                "singleLogoutService": {"url": self.slo_url,
                                        "binding": C.BINDING_HTTP_REDIRECT},
                "NameIDFormat": C.NAMEID_PERSISTENT,
                "x509cert": self._cert,
                "privateKey": self._key,
                "attributeConsumingService": {
                    "serviceName": self._name,
                    "serviceDescription": f"{self._name} (demo supplier, python3-saml)",
                    "requestedAttributes": [
                        {"name": SAML_NAMES[friendly], "nameFormat": NAME_FORMAT_URI,
                         "friendlyName": friendly, "isRequired": False}
                        for friendly in REQUESTED
                    ],
                },
            },
            "security": {
                "authnRequestsSigned": True,
                "logoutRequestSigned": True,
                "logoutResponseSigned": True,
                "wantAssertionsSigned": True,
                "wantMessagesSigned": False,  # the logout messages' signature: see slo()
                "wantAssertionsEncrypted": False,
                "wantNameIdEncrypted": False,
                "wantNameId": True,
                "wantAttributeStatement": False,  # a supplier with no release gets none
                "requestedAuthnContext": False,
                "signatureAlgorithm": C.RSA_SHA256,
                "digestAlgorithm": C.SHA256,
                "rejectDeprecatedAlgorithm": True,
                # Written to the federation folder: no 2-day validUntil (the library default).
                "metadataValidUntil": "",
                "metadataCacheDuration": "",
            },
        }

    def _new_settings(self) -> tuple[OneLogin_Saml2_Settings, str]:
        idp_xml = metadata_documents(self._idp_metadata)[0]
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(
            idp_xml, required_sso_binding=C.BINDING_HTTP_POST
        )
        merged = OneLogin_Saml2_IdPMetadataParser.merge_settings(self._settings_dict(), parsed)
        settings = OneLogin_Saml2_Settings(merged)
        return settings, str(merged["idp"]["entityId"])

    def _new_metadata(self) -> str:
        settings = OneLogin_Saml2_Settings(self._settings_dict(), sp_validation_only=True)
        xml = settings.get_sp_metadata()
        errors = settings.validate_metadata(xml)
        if errors:
            raise RuntimeError(f"python3-saml made invalid SP metadata: {errors}")
        return xml.decode() if isinstance(xml, bytes) else str(xml)

    def metadata_xml(self) -> str:
        return self._metadata.get()

    def start_login(self, school: str | None, force: bool, passive: bool) -> Outgoing:
        settings, _idp = self._settings.get()
        authn_request = OneLogin_Saml2_Authn_Request(settings, force_authn=force,
                                                     is_passive=passive)
        # python3-saml signs only for HTTP-Redirect; for HTTP-POST the signature is enveloped.
        signed = OneLogin_Saml2_Utils.add_sign(
            authn_request.get_xml(), self._key, self._cert,
            sign_algorithm=C.RSA_SHA256, digest_algorithm=C.SHA256,
        )
        sso = settings.get_idp_sso_url()
        url = with_hint(sso, school)
        fields = {"SAMLRequest": base64.b64encode(_bytes(signed)).decode(), "RelayState": "/"}
        return Outgoing(authn_request.get_id(), post_form(url, fields))

    def finish_login(self, form: Mapping[str, str], pending: list[str]) -> LoginResult:
        require("SAMLResponse" in form, "no SAMLResponse posted")
        settings, idp = self._settings.get()
        try:
            response = OneLogin_Saml2_Response(settings, form["SAMLResponse"])
        except Exception as exc:
            raise LoginFailed(f"unreadable SAMLResponse: {exc}") from exc
        doc = response.document
        # python3-saml accepts a missing Destination and a missing InResponseTo (unsolicited):
        # this supplier never does.
        require(doc.get("Destination") == self.acs_url, "wrong or missing Destination")
        in_response_to = response.get_in_response_to()
        require(in_response_to in pending, "InResponseTo matches no pending request")
        status = _status(doc)
        if status != C.STATUS_SUCCESS:
            return _status_result(response, status, settings, idp)
        if not response.is_valid(_request_data(), request_id=in_response_to):
            raise LoginFailed(response.get_error())
        self._replay.check(response.get_assertion_id())
        statements = OneLogin_Saml2_XML.query(
            response.get_xml_document(), "/samlp:Response/saml:Assertion/saml:AuthnStatement"
        )
        return LoginResult(
            status="ok",
            name_id=response.get_nameid(),
            name_id_format=response.get_nameid_format(),
            attributes={k: list(v) for k, v in response.get_attributes().items()},
            issuer=idp,
            authn_instant=statements[0].get("AuthnInstant") if statements else None,
            in_response_to=in_response_to,
            session_index=response.get_session_index(),
        )

    # -- single logout ---------------------------------------------------------------------
    def _auth(self) -> OneLogin_Saml2_Auth | None:
        settings, _idp = self._settings.get()
        if not settings.get_idp_slo_url():
            return None
        return OneLogin_Saml2_Auth(_request_data(), settings)

    def start_logout(self, result: LoginResult) -> Outgoing | None:
        auth = self._auth()
        if auth is None or not result.name_id:
            return None
        url = auth.logout(return_to="/", name_id=result.name_id,
                          session_index=result.session_index,
                          name_id_format=result.name_id_format)
        return Outgoing(str(auth.get_last_request_id()), redirect(url, code=303))

    def slo(self, query: Mapping[str, str], pending: str | None) -> SloResult:
        auth = self._auth()
        require(auth is not None, "the IdP offers no single logout")
        assert auth is not None
        # python3-saml checks a signature that is there; that it is there is checked here.
        require("Signature" in query and "SigAlg" in query, "the message is not signed")
        answer = auth.process_slo(keep_local_session=True, request_id=pending)
        errors = auth.get_errors()
        if "SAMLResponse" in query:
            require(errors in ([], ["logout_not_success"]),
                    f"the LogoutResponse was refused: {auth.get_last_error_reason()}")
            # python3-saml reads the top-level status only: PartialLogout is below it.
            answered = OneLogin_Saml2_XML.to_etree(auth.get_last_response_xml())
            return SloResult("response", status=_status_codes(answered, "samlp:LogoutResponse"))
        require(not errors, f"the LogoutRequest was refused: {auth.get_last_error_reason()}")
        xml = auth.get_last_request_xml()
        self._replay.check(OneLogin_Saml2_Logout_Request.get_id(xml))
        return SloResult("request", name_id=OneLogin_Saml2_Logout_Request.get_nameid(xml),
                         session_indexes=tuple(
                             OneLogin_Saml2_Logout_Request.get_session_indexes(xml)),
                         answer=redirect(answer, code=303))


def _status_result(response: OneLogin_Saml2_Response, status: str,
                   settings: OneLogin_Saml2_Settings, idp: str) -> LoginResult:
    """An error status answering our request: from our IdP, and correctly signed if signed."""
    doc = response.document
    issuers = [OneLogin_Saml2_XML.element_text(n)
               for n in OneLogin_Saml2_XML.query(doc, "/samlp:Response/saml:Issuer")]
    require(issuers == [idp], "error response from an unexpected issuer")
    if OneLogin_Saml2_XML.query(doc, "/samlp:Response/ds:Signature"):
        valid = OneLogin_Saml2_Utils.validate_sign(
            doc, settings.get_idp_cert(), xpath=OneLogin_Saml2_Utils.RESPONSE_SIGNATURE_XPATH
        )
        require(bool(valid), "bad signature on the error response")
    name = status.rsplit(":", 1)[-1]
    if name != "NoPassive":
        raise LoginFailed(f"the IdP answered {name}")
    return LoginResult(status=name, issuer=idp, in_response_to=response.get_in_response_to())


def _status(doc: Any) -> str:
    """The most specific status code: the second-level one when there is one."""
    codes = _status_codes(doc, "samlp:Response")
    return codes[0] if codes[0] == C.STATUS_SUCCESS or len(codes) == 1 else codes[1]


def _status_codes(doc: Any, message: str) -> tuple[str, ...]:
    """The status codes of the `message` element (e.g. samlp:Response): the one top-level
    code, then the one nested in it, and so on."""
    codes = OneLogin_Saml2_XML.query(doc, f"/{message}/samlp:Status/samlp:StatusCode")
    require(len(codes) == 1, "response without a status")
    found: list[str] = []
    while codes:
        found.append(str(codes[0].get("Value")))
        codes = OneLogin_Saml2_XML.query(doc, "./samlp:StatusCode", codes[0])
    return tuple(found)


def _request_data() -> dict[str, Any]:
    """What python3-saml needs to know about the current request (its URL, the POST)."""
    return {
        "https": "on" if request.scheme == "https" else "off",
        "http_host": request.host,  # with the port: python3-saml deprecates server_port
        "script_name": request.path,
        "get_data": request.args.to_dict(),
        "post_data": request.form.to_dict(),
    }


def _bytes(xml: str | bytes) -> bytes:
    return xml.encode() if isinstance(xml, str) else xml


def create_onelogin_sp(base_url: str, state_dir: Path, broker_idp_metadata: MetadataSource,
                       name: str = "Taalapp") -> Flask:
    """The python3-saml demo supplier at `base_url` (see supplier_web.create_saml_supplier)."""
    return create_saml_supplier(__name__, OneloginSp, base_url, state_dir, broker_idp_metadata,
                                name)
