"""The demo school's SAML IdP engine (pysaml2): reads AuthnRequests, writes signed Responses.

`SchoolIdpTool` is used by the school IdP web app and, directly, by the broker's hostile-input
tests: `build_response` takes options that make a response valid or subtly wrong.
"""

from __future__ import annotations

import base64
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.assertion import Policy
from saml2.attribute_converter import AttributeConverter
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.samlp import STATUS_NO_PASSIVE
from saml2.server import Server
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from demo.metadata import Lazy, MetadataSource, metadata_documents
from demo.people import NAME_FORMAT_URI, SAML_NAMES, SCHOOL_NAME, DemoPerson
from demo.saml_errors import describe_and_release

PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
LIFETIME = timedelta(minutes=5)


class SchoolRequestError(Exception):
    """An AuthnRequest the school refuses to answer (unknown SP, bad signature, ...)."""


@dataclass(frozen=True)
class AuthnRequestInfo:
    id: str
    sp_entity_id: str
    acs_url: str
    force_authn: bool
    is_passive: bool
    scoping: tuple[str, ...] = ()
    """The IDPEntry ProviderIDs of the request's Scoping/IDPList (a hub's hint)."""


class _SchoolPolicy(Policy):  # type: ignore[misc]
    """The school sends all it knows to its one SP (Loper, which decides the release).

    pysaml2's own Policy would cut the attributes down to the SP metadata's RequestedAttributes
    and can set neither a past expiry nor a foreign audience; the hostile tests need both.
    """

    def __init__(self, audience: str | None, lifetime: timedelta) -> None:
        super().__init__(restrictions=None, mds=None)
        self._audience = audience
        self._lifetime = lifetime

    def restrict(self, ava: dict[str, Any], sp_entity_id: str, metadata: Any = None) -> Any:
        return dict(ava)

    def _end(self) -> datetime:
        return datetime.now(UTC) + self._lifetime

    def not_on_or_after(self, sp_entity_id: str) -> str:
        return _instant(self._end())

    def conditions(self, sp_entity_id: str) -> saml.Conditions:
        end = self._end()
        start = min(datetime.now(UTC), end - LIFETIME)
        audience = saml.Audience(text=self._audience or sp_entity_id)
        return saml.Conditions(
            not_before=_instant(start),
            not_on_or_after=_instant(end),
            audience_restriction=[saml.AudienceRestriction(audience=[audience])],
        )


def _instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _attribute_converter() -> AttributeConverter:
    """FriendlyName <-> the school's SAML names, all with NameFormat uri."""
    conv = AttributeConverter(NAME_FORMAT_URI)
    conv.from_dict({"identifier": NAME_FORMAT_URI, "to": dict(SAML_NAMES)})
    return conv


class SchoolIdpTool:
    """pysaml2's Server for the demo school, with SHA-256 signatures.

    `sp_metadata` is the metadata of the SP(s) the school serves (Loper's SP metadata), read on
    first use. The school's own metadata never needs it.
    """

    def __init__(
        self,
        entity_id: str,
        key_file: Path,
        cert_file: Path,
        sp_metadata: MetadataSource,
        *,
        sso_redirect_url: str | None = None,
        sso_post_url: str | None = None,
        name: str = SCHOOL_NAME,
    ) -> None:
        self.entity_id = entity_id
        self._key_file, self._cert_file = key_file, cert_file
        self._sp_metadata = sp_metadata
        base = entity_id.rsplit("/", 1)[0]
        self._sso = {
            BINDING_HTTP_REDIRECT: sso_redirect_url or f"{base}/sso/redirect",
            BINDING_HTTP_POST: sso_post_url or f"{base}/sso/post",
        }
        self.slo_url = f"{base}/slo"
        self._name = name
        self._server = Lazy(self._new_server)
        self._metadata = Lazy(self._new_metadata)

    def _config(self, with_metadata: bool) -> IdPConfig:
        conf: dict[str, Any] = {
            "entityid": self.entity_id,
            "name": self._name,
            "organization": {"name": [(self._name, "nl")], "display_name": [(self._name, "nl")],
                             "url": [(self.entity_id, "nl")]},
            "key_file": str(self._key_file),
            "cert_file": str(self._cert_file),
            "xmlsec_binary": shutil.which("xmlsec1") or "/usr/bin/xmlsec1",
            "accepted_time_diff": 60,
            "service": {
                "idp": {
                    "name": self._name,
                    "endpoints": {
                        "single_sign_on_service": [(u, b) for b, u in self._sso.items()],
                        "single_logout_service": [(self.slo_url, BINDING_HTTP_REDIRECT)],
                    },
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    # pysaml2 reads these two only here, inside service.idp (FACTS.md).
                    "signing_algorithm": SIG_RSA_SHA256,
                    "digest_algorithm": DIGEST_SHA256,
                    "sign_assertion": True,
                    "sign_response": False,
                    "want_authn_requests_signed": False,  # checked per SP below
                },
            },
        }
        if with_metadata:
            conf["metadata"] = {"inline": metadata_documents(self._sp_metadata)}
        config = IdPConfig().load(conf)
        config.attribute_converters = [_attribute_converter()]
        return config

    def _new_server(self) -> Server:
        return Server(config=self._config(with_metadata=True))

    @property
    def server(self) -> Server:
        return self._server.get()

    def metadata_xml(self) -> str:
        return self._metadata.get()

    def _new_metadata(self) -> str:
        xml = create_metadata_string(None, config=self._config(with_metadata=False), sign=False)
        return xml.decode() if isinstance(xml, bytes) else str(xml)

    # -- requests ---------------------------------------------------------------------------

    def parse_request(
        self,
        saml_request: str,
        binding: str,
        relay_state: str | None = None,
        sig_alg: str | None = None,
        signature: str | None = None,
    ) -> AuthnRequestInfo:
        """Read and check an AuthnRequest: known SP, our Destination, its ACS, its signature."""
        server = self.server
        try:
            req = server.parse_authn_request(saml_request, binding)
            message = req.message
            args = server.response_args(message, [BINDING_HTTP_POST])
        except Exception as exc:  # pysaml2 raises many unrelated types
            problem = describe_and_release(exc)
            raise SchoolRequestError(f"unusable AuthnRequest: {problem}") from None
        sp = args["sp_entity_id"]
        if binding == BINDING_HTTP_REDIRECT and (signature or self._wants_signed(sp)):
            self._check_redirect_signature(sp, saml_request, relay_state, sig_alg, signature)
        elif binding == BINDING_HTTP_POST and message.signature is None and self._wants_signed(sp):
            raise SchoolRequestError("the SP signs its AuthnRequests, this one is unsigned")
        return AuthnRequestInfo(
            id=message.id,
            sp_entity_id=sp,
            acs_url=args["destination"],
            force_authn=str(message.force_authn).lower() in ("true", "1"),
            is_passive=str(message.is_passive).lower() in ("true", "1"),
            scoping=_scoping(message),
        )

    def _wants_signed(self, sp_entity_id: str) -> bool:
        descriptors = self.server.metadata[sp_entity_id].get("spsso_descriptor", [])
        return any(str(d.get("authn_requests_signed")).lower() == "true" for d in descriptors)

    def _check_redirect_signature(
        self, sp: str, saml_request: str, relay_state: str | None, sig_alg: str | None,
        signature: str | None,
    ) -> None:
        if not sig_alg or not signature:
            raise SchoolRequestError("the SP signs its AuthnRequests, this one is unsigned")
        msg = {"SAMLRequest": saml_request, "SigAlg": sig_alg, "Signature": signature}
        if relay_state is not None:
            msg["RelayState"] = relay_state
        certs = self.server.metadata.certs(sp, "spsso", "signing")
        backend = self.server.sec.sec_backend
        try:
            ok = any(verify_redirect_signature(msg, backend, cert) for _, cert in certs)
        except Exception as exc:
            problem = describe_and_release(exc)
            raise SchoolRequestError(f"bad AuthnRequest signature: {problem}") from None
        if not ok:
            raise SchoolRequestError("bad AuthnRequest signature")

    # -- responses --------------------------------------------------------------------------

    def build_response(
        self,
        *,
        in_response_to: str | None,
        destination: str | None,
        audience: str,
        person: DemoPerson,
        recipient: str | None = None,
        sign_response: bool = False,
        sign_assertion: bool = True,
        encrypt_assertion: bool = False,
        not_on_or_after: timedelta = LIFETIME,
        issuer: str | None = None,
        sign_alg: str = SIG_RSA_SHA256,
        digest_alg: str = DIGEST_SHA256,
        authn_instant: float | None = None,
        attributes: Mapping[str, list[str]] | None = None,
        sp_entity_id: str | None = None,
    ) -> str:
        """A base64 SAMLResponse for `person`, as the school would send it, or subtly wrong.

        - `destination`: the Response's Destination (None: left out); `recipient`: the
          SubjectConfirmationData's Recipient (default: `destination`);
        - `audience`: the one Audience; `in_response_to`: on Response and confirmation;
        - `not_on_or_after`: the assertion's lifetime from now (Conditions and
          SubjectConfirmationData); negative for an expired assertion;
        - `issuer`: replaces the school's entity id on Response and Assertion;
        - `sign_alg` / `digest_alg`: e.g. saml2.xmldsig.SIG_RSA_SHA1 / DIGEST_SHA1;
        - `encrypt_assertion`: to the encryption certificate in the SP's metadata (pysaml2
          uses 3DES-CBC + RSA-OAEP, sign-then-encrypt, self-contained namespaces);
        - `attributes`: FriendlyName -> values instead of the person's;
        - `sp_entity_id`: the SP in the metadata (default: the one whose ACS is the recipient,
          else `audience`); it decides the encryption certificate and SPNameQualifier.
        """
        recipient = recipient or destination
        sp = sp_entity_id or self._sp_with_acs(recipient or "") or audience
        name_id = saml.NameID(format=NAMEID_FORMAT_PERSISTENT, text=person.id,
                              name_qualifier=self.entity_id, sp_name_qualifier=sp)
        response = self.server.create_authn_response(
            dict(attributes if attributes is not None else person.saml_attributes()),
            in_response_to,
            destination,
            sp,
            name_id=name_id,
            authn={"class_ref": PASSWORD_PROTECTED,
                   "authn_instant": int(authn_instant or time.time())},
            farg=_bearer(in_response_to, recipient),
            issuer=issuer,
            sign_response=sign_response,
            sign_assertion=sign_assertion,
            encrypt_assertion=encrypt_assertion,
            encrypt_assertion_self_contained=True,
            sign_alg=sign_alg,
            digest_alg=digest_alg,
            release_policy=_SchoolPolicy(audience, not_on_or_after),
        )
        return _b64(response)

    def build_status(
        self, *, in_response_to: str | None, destination: str, status: str = STATUS_NO_PASSIVE,
        message: str = "", sign_response: bool = False,
    ) -> str:
        """A base64 error SAMLResponse (Responder + `status`), e.g. NoPassive."""
        response = self.server.create_error_response(
            in_response_to, destination, (status, message or None), sign=sign_response,
        )
        return _b64(response)

    def _sp_with_acs(self, url: str) -> str | None:
        md = self.server.metadata
        for entity in md.keys():
            for acs in md.assertion_consumer_service(entity, BINDING_HTTP_POST):
                if acs.get("location") == url:
                    return str(entity)
        return None


def _scoping(message: Any) -> tuple[str, ...]:
    idp_list = message.scoping.idp_list if message.scoping is not None else None
    return tuple(str(e.provider_id) for e in (idp_list.idp_entry if idp_list else ())
                 if e.provider_id)


def _bearer(in_response_to: str | None, recipient: str | None) -> dict[str, Any]:
    """The SubjectConfirmation, set here so that it need not follow the Destination."""
    data = {"in_response_to": in_response_to, "recipient": recipient}
    confirmation = {"method": saml.SCM_BEARER,
                    "subject_confirmation_data": {k: v for k, v in data.items() if v}}
    return {"assertion": {"subject": {"subject_confirmation": confirmation}}}


def _b64(message: object) -> str:
    return base64.b64encode(str(message).encode("utf-8")).decode("ascii")


def build_response(
    *,
    key_file: Path,
    cert_file: Path,
    sp_metadata: MetadataSource,
    idp_entity_id: str,
    in_response_to: str | None,
    destination: str | None,
    audience: str,
    person: DemoPerson,
    **options: Any,
) -> str:
    """One-shot `SchoolIdpTool(...).build_response(...)`; options as that method's keywords.

    Building a tool loads its key (about 50 ms); keep a `SchoolIdpTool` for many responses.
    """
    tool = SchoolIdpTool(idp_entity_id, key_file, cert_file, sp_metadata)
    return tool.build_response(in_response_to=in_response_to, destination=destination,
                               audience=audience, person=person, **options)
