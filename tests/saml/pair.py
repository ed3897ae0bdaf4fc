"""A pysaml2 IdP (Server) and SP (Saml2Client) that trust each other, built from config dicts.

Keys are self-signed and generated with `cryptography`; each side's metadata is loaded into the
other inline. Used by the crypto tests and by bench/saml_crypto.py.
"""

from __future__ import annotations

import base64
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.utils import CryptographyDeprecationWarning
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import IdPConfig, SPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from tests.certs import new_key, write_pair

with warnings.catch_warnings():
    # saml2.server imports saml2.cryptography.symmetric, whose module-level table touches
    # cryptography's deprecated CFB mode (CryptographyDeprecationWarning). Nothing here uses it.
    warnings.filterwarnings("ignore", "CFB has been moved", CryptographyDeprecationWarning)
    from saml2.server import Server

IDP_ID = "https://idp.example.org/idp"
SP_ID = "https://sp.example.org/sp"
SSO_URL = "https://idp.example.org/sso"
ACS_URL = "https://sp.example.org/acs"
XMLSEC1 = "/usr/bin/xmlsec1"
IDENTITY = {"uid": ["pupil1"], "mail": ["pupil1@school.example"], "givenName": ["Zoë"]}


@dataclass(frozen=True)
class KeyFiles:
    key: Path
    cert: Path

    def cert_b64(self) -> str:
        """The certificate's DER in base64, as it appears in KeyInfo / metadata."""
        pem = x509.load_pem_x509_certificate(self.cert.read_bytes())
        return base64.b64encode(pem.public_bytes(serialization.Encoding.DER)).decode()


def make_keys(folder: Path, name: str, curve: ec.EllipticCurve | None = None) -> KeyFiles:
    """A fresh RSA-2048 (or EC on curve) key and a self-signed certificate, written into folder."""
    return KeyFiles(*write_pair(folder, name, new_key(curve)))


def idp_config(keys: KeyFiles, **service: Any) -> dict[str, Any]:
    """An IdP signing responses and assertions with RSA-SHA256; service overrides service.idp."""
    return {
        "entityid": IDP_ID,
        "key_file": str(keys.key),
        "cert_file": str(keys.cert),
        "xmlsec_binary": XMLSEC1,
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [(SSO_URL, BINDING_HTTP_REDIRECT),
                                                     (SSO_URL, BINDING_HTTP_POST)]},
            "name_id_format": [NAMEID_FORMAT_PERSISTENT],
            "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}},
            "sign_response": True,
            "sign_assertion": True,
            "want_authn_requests_signed": True,
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
            **service,
        }},
    }


def sp_config(keys: KeyFiles, encryption: KeyFiles | None = None, **service: Any,
              ) -> dict[str, Any]:
    """An SP wanting signed responses and assertions; service overrides service.sp."""
    config: dict[str, Any] = {
        "entityid": SP_ID,
        "key_file": str(keys.key),
        "cert_file": str(keys.cert),
        "xmlsec_binary": XMLSEC1,
        "allow_unknown_attributes": True,
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(ACS_URL, BINDING_HTTP_POST)]},
            "name_id_format": [NAMEID_FORMAT_PERSISTENT],
            "want_response_signed": True,
            "want_assertions_signed": True,
            "authn_requests_signed": True,
            "allow_unsolicited": False,
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
            **service,
        }},
    }
    if encryption:
        config["encryption_keypairs"] = [{"key_file": str(encryption.key),
                                          "cert_file": str(encryption.cert)}]
    return config


def metadata_xml(config: IdPConfig | SPConfig) -> str:
    return str(entity_descriptor(config))


@dataclass
class Pair:
    idp: Server
    sp: Saml2Client


def make_pair(idp_keys: KeyFiles, sp_keys: KeyFiles, *, idp: dict[str, Any] | None = None,
              sp: dict[str, Any] | None = None, sp_encryption: KeyFiles | None = None,
              idp_signs_with: KeyFiles | None = None) -> Pair:
    """An IdP and an SP that know each other's metadata, both on the default xmlsec1 backend.

    idp_signs_with: the IdP signs with these keys while its metadata shows idp_keys (a rogue).
    """
    idp_conf = idp_config(idp_keys, **(idp or {}))
    sp_conf = sp_config(sp_keys, sp_encryption, **(sp or {}))
    idp_md = metadata_xml(IdPConfig().load(idp_conf))
    sp_md = metadata_xml(SPConfig().load(sp_conf))
    if idp_signs_with:
        idp_conf = idp_config(idp_signs_with, **(idp or {}))
    return Pair(Server(config=IdPConfig().load({**idp_conf, "metadata": {"inline": [sp_md]}})),
                Saml2Client(config=SPConfig().load({**sp_conf,
                                                    "metadata": {"inline": [idp_md]}})))


def authn_request(pair: Pair) -> str:
    """The SP sends a signed AuthnRequest (HTTP-POST); the IdP checks it. Returns its ID."""
    req_id, xml = pair.sp.create_authn_request(SSO_URL, binding=BINDING_HTTP_POST, sign=True)
    encoded = base64.b64encode(str(xml).encode()).decode()
    request = pair.idp.parse_authn_request(encoded, BINDING_HTTP_POST)
    assert request.message.id == req_id
    return str(req_id)


def signed_response(pair: Pair, in_response_to: str, **kwargs: Any) -> str:
    """A Response from the IdP to the SP (signed response and assertion unless kwargs say)."""
    name_id = NameID(format=NAMEID_FORMAT_PERSISTENT, text="pupil1-pseudonym",
                     sp_name_qualifier=SP_ID, name_qualifier=IDP_ID)
    args: dict[str, Any] = {"sign_response": True, "sign_assertion": True, **kwargs}
    response = pair.idp.create_authn_response(
        IDENTITY, in_response_to, ACS_URL, SP_ID, name_id=name_id,
        authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"}, **args)
    return str(response)


def parse(pair: Pair, xml: str, request_id: str) -> Any:
    """The SP parses a Response (HTTP-POST) to its outstanding request."""
    encoded = base64.b64encode(xml.encode()).decode()
    return pair.sp.parse_authn_request_response(encoded, BINDING_HTTP_POST,
                                                outstanding={request_id: "/"})
