"""pysaml2 plumbing for Loper's SAML SP: its configuration, its metadata, and one pysaml2
client per school, built from that school's metadata only and cached.

Costs paid once, not per login: Loper's private key is parsed once per process (pysaml2
would parse it twice per client), and `xmlsec1 --version` runs once per process (pysaml2's
backend runs it before every signature operation).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import xmlsec

from broker.errors import ConfigError
from broker.keys import KeyPair
from broker.saml.compat import (
    BINDING_HTTP_POST,
    BINDING_HTTP_REDIRECT,
    DIGEST_SHA256,
    DS_CLASSES,
    MD_CLASSES,
    MDUI,
    NAMEID_FORMAT_PERSISTENT,
    NAMESPACE_DS,
    NAMESPACE_MD,
    NAMESPACE_SAMLP,
    SIG_RSA_SHA256,
    add_extensions,
    read_pem_cert,
    rsa_signer,
    sp_client,
    sp_security,
    stamp,
    ui_info,
    xmlsec1_backend,
)
from broker.saml.crypto_keys import KEYS, certificate_key
from broker.saml.crypto_policy import Policy
from broker.saml.published import Presentation
from broker.saml.views import Metadata, MetadataElement, Security, SpClient
from broker.upstream.saml_kind import SamlSchool
from broker.upstream.saml_verify import Trust

IDP_DESCRIPTOR = "idpsso"
POST = BINDING_HTTP_POST
REDIRECT = BINDING_HTTP_REDIRECT
PERSISTENT = NAMEID_FORMAT_PERSISTENT
NAMESPACES: dict[str, str] = {"md": NAMESPACE_MD, "ds": NAMESPACE_DS, "mdui": MDUI}
# Advertised to schools' IdPs in the encryption KeyDescriptors (SAML metadata 2.4.1.1).
ENCRYPTION_METHODS = (
    "http://www.w3.org/2009/xmlenc11#aes256-gcm",
    "http://www.w3.org/2009/xmlenc11#aes128-gcm",
    "http://www.w3.org/2009/xmlenc11#rsa-oaep",
    "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
)


MD = MD_CLASSES
DS = DS_CLASSES
PROTOCOL = NAMESPACE_SAMLP
SIGNING_ALGORITHM = SIG_RSA_SHA256
DIGEST_ALGORITHM = DIGEST_SHA256


@dataclass(frozen=True)
class SamlSpConfig:
    entity_id: str
    """f"{base_url}/saml/sp/metadata"."""
    acs_url: str
    """f"{base_url}/saml/sp/acs" (HTTP-POST)."""
    signing: KeyPair
    """Signs AuthnRequests and decrypts encrypted assertions."""
    next_signing: KeyPair | None = None
    """Published in the metadata before it is used (key rollover)."""
    clock_skew: int = 60
    organization: str = "Loper"
    presentation: Presentation = Presentation()
    """Name, links, logo, contacts and validity published in the metadata."""

    @property
    def slo_url(self) -> str:
        """f"{base_url}/saml/sp/slo": SingleLogoutService over HTTP-Redirect and HTTP-POST."""
        return self.acs_url.rsplit("/", 1)[0] + "/slo"

    @property
    def key_pairs(self) -> tuple[KeyPair, ...]:
        return tuple(pair for pair in (self.signing, self.next_signing) if pair is not None)


@functools.cache
def _redirect_signer(key_file: str) -> object:
    """Loper's private key for signing HTTP-Redirect query strings, parsed once."""
    try:
        return rsa_signer(key_file)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{key_file}: the SAML signing key cannot be read ({exc})") from exc


def _cert_body(pair: KeyPair) -> str:
    try:
        return read_pem_cert(str(pair.cert))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{pair.cert}: the SAML certificate cannot be read ({exc})") from exc


def _key_descriptor(cert: str, use: str) -> MetadataElement:
    methods = ([MD.EncryptionMethod(algorithm=alg) for alg in ENCRYPTION_METHODS]
               if use == "encryption" else [])
    key_info = DS.KeyInfo(x509_data=[DS.X509Data(x509_certificate=DS.X509Certificate(
        text=cert))])
    return MD.KeyDescriptor(key_info=key_info, use=use, encryption_method=methods)


def _organization(config: SamlSpConfig) -> MetadataElement:
    parts = urlsplit(config.entity_id)
    return MD.Organization(
        organization_name=[MD.OrganizationName(text=config.organization, lang="en")],
        organization_display_name=[MD.OrganizationDisplayName(text=config.organization,
                                                              lang="en")],
        organization_url=[MD.OrganizationURL(text=f"{parts.scheme}://{parts.netloc}/",
                                             lang="en")])


def sp_metadata_xml(config: SamlSpConfig, now: dt.datetime | None = None) -> str:
    """Loper's SP metadata, for the schools' IdPs: mdui:UIInfo in the SPSSODescriptor (what
    a school's login page may show about who asks), validity and contacts on the entity."""
    certs = [_cert_body(pair) for pair in config.key_pairs]
    spsso = MD.SPSSODescriptor(
        protocol_support_enumeration=PROTOCOL,
        authn_requests_signed="true",
        want_assertions_signed="true",
        key_descriptor=[_key_descriptor(cert, use)
                        for use in ("signing", "encryption") for cert in certs],
        single_logout_service=[MD.SingleLogoutService(binding=binding, location=config.slo_url)
                               for binding in (REDIRECT, POST)],
        name_id_format=[MD.NameIDFormat(text=PERSISTENT)],
        assertion_consumer_service=[MD.AssertionConsumerService(
            binding=POST, location=config.acs_url, index="0", is_default="true")])
    add_extensions(spsso, ui_info(config.presentation))
    descriptor = MD.EntityDescriptor(entity_id=config.entity_id, spsso_descriptor=[spsso],
                                     organization=_organization(config))
    stamp(descriptor, config.presentation, now or dt.datetime.now(dt.UTC))
    return descriptor.to_string(NAMESPACES).decode("utf-8")


def _pysaml2_config(config: SamlSpConfig, metadata_xml: str) -> dict[str, object]:
    # No key_file / cert_file here: pysaml2 would parse the private key twice per client.
    # The keys go into the SecurityContext built in build_client().
    return {
        "entityid": config.entity_id,
        "name": config.organization,
        "xmlsec_binary": xmlsec1_backend().xmlsec,
        "accepted_time_diff": config.clock_skew,
        "only_use_keys_in_metadata": True,
        "metadata": {"inline": [metadata_xml]},
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(config.acs_url, POST)]},
            "authn_requests_signed": True,
            "want_assertions_signed": False,
            "want_response_signed": False,
            "want_assertions_or_response_signed": True,
            "allow_unsolicited": False,
            "name_id_format_allow_create": True,
            # Inside service.sp: at the top level pysaml2 ignores them and signs RSA-SHA1.
            "signing_algorithm": SIGNING_ALGORITHM,
            "digest_algorithm": DIGEST_ALGORITHM,
        }},
    }


def _security_context(config: SamlSpConfig, metadata: Metadata) -> Security:
    return sp_security(xmlsec1_backend(), str(config.signing.key), str(config.signing.cert),
                       metadata, [(str(p.key), str(p.cert)) for p in config.key_pairs],
                       _redirect_signer(str(config.signing.key)))


def _load_client(config: SamlSpConfig, saml: SamlSchool) -> SpClient:
    client = sp_client(_pysaml2_config(config, saml.metadata_xml))
    client.sec = _security_context(config, client.metadata)
    try:
        signing = client.metadata.certs(saml.entity_id, IDP_DESCRIPTOR, "signing")
    except KeyError:  # no such entity
        signing = []
    if not signing:
        raise ConfigError(f"The SAML metadata for {saml.entity_id} holds no IdP with that "
                          "entity id and a signing certificate (or its validUntil has passed)")
    return client


def build_client(config: SamlSpConfig, saml: SamlSchool) -> SpClient:
    """A pysaml2 SP client that knows exactly one school's IdP metadata."""
    try:
        return _load_client(config, saml)
    except ConfigError:
        raise
    except Exception as exc:  # pysaml2 raises bare Exception subclasses of all kinds
        raise ConfigError(f"The SAML metadata of {saml.entity_id} cannot be loaded "
                          f"({type(exc).__name__})") from exc


def _signing_keys(client: SpClient, saml: SamlSchool) -> tuple[xmlsec.Key, ...]:
    certs = cast(Sequence[tuple[str, str]],
                 client.metadata.certs(saml.entity_id, IDP_DESCRIPTOR, "signing"))
    try:
        return tuple(certificate_key(str(cert)) for _name, cert in certs)
    except ValueError as exc:
        raise ConfigError(f"The SAML metadata of {saml.entity_id} holds an unusable signing "
                          f"certificate ({exc})") from exc


@dataclass(frozen=True)
class _School:
    client: SpClient
    signing: tuple[xmlsec.Key, ...]
    policy: Policy


Attach = Callable[..., None]
"""Swaps a client's crypto backend: called as attach(client, allow_sha1=...), like
broker.saml.crypto.attach."""


class SchoolClients:
    """Clients by school and a hash of its SAML settings: a bounded, thread-safe LRU."""

    def __init__(self, config: SamlSpConfig, attach: Attach | None = None,
                 maxsize: int = 256) -> None:
        self._config = config
        self._attach = attach
        self._maxsize = maxsize
        self._clients: OrderedDict[tuple[str, str], _School] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, school_id: str, saml: SamlSchool) -> SpClient:
        return self._get(school_id, saml).client

    def trust(self, school_id: str, saml: SamlSchool) -> Trust:
        """The keys the school's answers are checked with (its metadata's, Loper's own)."""
        school = self._get(school_id, saml)
        decryption = tuple(KEYS.private_key(str(pair.key)) for pair in self._config.key_pairs)
        return Trust(school.signing, decryption, school.policy)

    def _get(self, school_id: str, saml: SamlSchool) -> _School:
        digest = hashlib.sha256(saml.metadata_xml.encode("utf-8")).hexdigest()
        key = (school_id, f"{saml.entity_id}|{saml.legacy_sha1}|{digest}")
        with self._lock:
            school = self._clients.get(key)
            if school is not None:
                self._clients.move_to_end(key)
                return school
        client = build_client(self._config, saml)  # outside the lock: parsing takes a while
        if self._attach is not None:
            self._attach(client, allow_sha1=saml.legacy_sha1)
        school = _School(client, _signing_keys(client, saml), Policy(saml.legacy_sha1))
        with self._lock:
            self._clients[key] = school
            while len(self._clients) > self._maxsize:
                self._clients.popitem(last=False)
        return school
