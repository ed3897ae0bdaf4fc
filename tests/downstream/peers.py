"""Real SAML SP libraries playing a supplier: a pysaml2 `Saml2Client` and a python3-saml SP.

Each peer has its own generated keys, reads Loper's IdP metadata, builds AuthnRequests the way
the library sends them, and accepts (or refuses) Loper's answer exactly as it would in production.
"""

from __future__ import annotations

import base64
import html
import re
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants as OL
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from broker.keys import KeyPair

_FORM_FIELD = re.compile(r'name="(SAMLRequest|RelayState)" value="([^"]*)"')


@dataclass(frozen=True)
class SentRequest:
    """An AuthnRequest as it reaches Loper's SSO URL."""

    binding: str
    params: dict[str, str]
    raw_query: str = ""
    request_id: str = ""


def redirect_request(url: str, request_id: str) -> SentRequest:
    query = urlsplit(url).query
    return SentRequest("redirect", dict(parse_qsl(query)), query, request_id)


def encoded(binding: str, xml: bytes) -> str:
    """The SAMLRequest of `xml`: raw DEFLATE then base64 (redirect), or base64 (post)."""
    if binding == "redirect":
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        xml = packer.compress(xml) + packer.flush()
    return base64.b64encode(xml).decode()


def sent_as(binding: str, message: str, relay_state: str | None = None) -> SentRequest:
    """A SAMLRequest as sent by hand (unsigned)."""
    params = {"SAMLRequest": message}
    if relay_state is not None:
        params["RelayState"] = relay_state
    raw = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    return SentRequest(binding, params, raw if binding == "redirect" else "")


def xml_of(sent: SentRequest) -> bytes:
    raw = base64.b64decode(sent.params["SAMLRequest"])
    return zlib.decompress(raw, -15) if sent.binding == "redirect" else raw


def forged(sent: SentRequest, attribute: str, value: str) -> SentRequest:
    """`sent` with one attribute of the AuthnRequest changed (its signature, if any, broken),
    sent by HTTP-POST."""
    xml = re.sub(rf' {attribute}="[^"]*"'.encode(), f' {attribute}="{value}"'.encode(),
                 xml_of(sent))
    return sent_as("post", encoded("post", xml))


@dataclass
class PysamlSp:
    """pysaml2's own SP (with an encryption key: Loper must encrypt for it)."""

    entity_id: str
    keys: KeyPair
    idp_metadata: str
    sign_requests: bool = False
    encrypt: bool = True
    acs_url: str = ""
    sign_alg: str = SIG_RSA_SHA256
    digest_alg: str = DIGEST_SHA256
    name_id_formats: tuple[str, ...] = (NAMEID_FORMAT_PERSISTENT,)
    """The NameIDFormats its metadata lists."""
    client: Saml2Client = field(init=False)

    def __post_init__(self) -> None:
        self.acs_url = self.acs_url or self.entity_id.rsplit("/", 1)[0] + "/acs"
        self.client = Saml2Client(SPConfig().load(self._config()))

    def _config(self) -> dict[str, Any]:
        keypair = {"key_file": str(self.keys.key), "cert_file": str(self.keys.cert)}
        return {
            "entityid": self.entity_id, **keypair,
            "encryption_keypairs": [keypair] if self.encrypt else None,
            "metadata": {"inline": [self.idp_metadata]},
            "accepted_time_diff": 60,
            "service": {"sp": {
                "endpoints": {"assertion_consumer_service": [(self.acs_url, BINDING_HTTP_POST)]},
                "authn_requests_signed": self.sign_requests,
                "want_assertions_signed": True, "want_response_signed": True,
                "name_id_format": list(self.name_id_formats), "allow_unsolicited": False,
                "signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256,
            }},
        }

    @property
    def metadata_xml(self) -> str:
        conf = SPConfig().load({k: v for k, v in self._config().items() if k != "metadata"})
        xml = create_metadata_string(None, config=conf)
        return xml.decode() if isinstance(xml, bytes) else str(xml)

    def request(self, binding: str = "redirect", relay_state: str = "",
                **kwargs: Any) -> SentRequest:
        saml_binding = BINDING_HTTP_REDIRECT if binding == "redirect" else BINDING_HTTP_POST
        request_id, info = self.client.prepare_for_authenticate(
            relay_state=relay_state, binding=saml_binding, sign=self.sign_requests,
            sigalg=self.sign_alg if self.sign_requests else None,
            digest_alg=self.digest_alg, **kwargs)
        if binding == "redirect":
            return redirect_request(dict(info["headers"])["Location"], request_id)
        fields = {name: html.unescape(value)
                  for name, value in _FORM_FIELD.findall(info["data"])}
        return SentRequest("post", fields, request_id=request_id)

    def accept(self, form: dict[str, str], request_id: str) -> Any:
        """The pysaml2 SP's verdict on Loper's Response; raises when it refuses."""
        return self.client.parse_authn_request_response(
            form["SAMLResponse"], BINDING_HTTP_POST, outstanding={request_id: "/"})


@dataclass
class OneLoginSp:
    """python3-saml (onelogin) in strict mode."""

    entity_id: str
    keys: KeyPair
    idp_metadata: str
    sign_requests: bool = False
    encrypt: bool = False
    host: str = "sp2.example"
    settings: OneLogin_Saml2_Settings = field(init=False)

    def __post_init__(self) -> None:
        self.settings = OneLogin_Saml2_Settings(self._settings(), sp_validation_only=True)

    @property
    def acs_url(self) -> str:
        return f"https://{self.host}/acs"

    def _settings(self) -> dict[str, Any]:
        idp = OneLogin_Saml2_IdPMetadataParser.parse(self.idp_metadata)
        sp = {
            "entityId": self.entity_id, "NameIDFormat": NAMEID_FORMAT_PERSISTENT,
            "assertionConsumerService": {"url": self.acs_url, "binding": OL.BINDING_HTTP_POST},
            "x509cert": self.keys.cert.read_text(), "privateKey": self.keys.key.read_text(),
        }
        security = {
            "authnRequestsSigned": self.sign_requests, "wantAssertionsSigned": True,
            "wantMessagesSigned": True, "wantAssertionsEncrypted": self.encrypt,
            "signatureAlgorithm": OL.RSA_SHA256, "digestAlgorithm": OL.SHA256,
            "rejectDeprecatedAlgorithm": True, "requestedAuthnContext": False,
        }
        base = {"strict": True, "debug": False, "sp": sp, "security": security}
        return OneLogin_Saml2_IdPMetadataParser.merge_settings(base, idp)

    @property
    def metadata_xml(self) -> str:
        return str(self.settings.get_sp_metadata().decode())

    def _auth(self, post: dict[str, str] | None = None) -> OneLogin_Saml2_Auth:
        request = {"https": "on", "http_host": self.host, "script_name": "/acs",
                   "get_data": {}, "post_data": post or {}}
        return OneLogin_Saml2_Auth(request, old_settings=self.settings)

    def request(self, binding: str = "redirect", relay_state: str = "",
                **kwargs: Any) -> SentRequest:
        if binding == "redirect":
            auth = self._auth()
            url = auth.login(return_to=relay_state or None, **kwargs)
            return redirect_request(url, auth.get_last_request_id())
        authn = OneLogin_Saml2_Authn_Request(self.settings, **kwargs)
        xml = authn.get_xml()
        if self.sign_requests:
            xml = OneLogin_Saml2_Utils.add_sign(
                xml, self.keys.key.read_text(), self.keys.cert.read_text(),
                sign_algorithm=OL.RSA_SHA256, digest_algorithm=OL.SHA256)
        raw = xml if isinstance(xml, bytes) else xml.encode()
        fields = {"SAMLRequest": base64.b64encode(raw).decode()}
        if relay_state:
            fields["RelayState"] = relay_state
        return SentRequest("post", fields, request_id=authn.get_id())

    def accept(self, form: dict[str, str], request_id: str) -> OneLogin_Saml2_Auth:
        """python3-saml's verdict; raises AssertionError with its reason when it refuses."""
        auth = self._auth(dict(form))
        auth.process_response(request_id=request_id)
        errors = auth.get_errors()
        assert not errors, (errors, auth.get_last_error_reason())
        return auth
