"""Where Loper reaches past pysaml2's public API: three couplings, all in this module, written
against the pysaml2 versions in SUPPORTED and checked at start-up (check_version). (A school's
Response is not read by pysaml2 at all: broker/upstream/saml_verify.py.)

1. CryptoBackend and swap_crypto(): a crypto backend of Loper's own inside pysaml2's
   SecurityContext (its `crypto` attribute and the calls it makes on it).
2. XmlSec1: pysaml2's xmlsec1 backend without `xmlsec1 --version` before every call.
3. install_schema_validator(): pysaml2's XML Schema check replaced, by rebinding the names
   pysaml2 looks it up under (saml2.sigver.validate_doc_with_schema, saml2.xml.schema.validate).

Beside them, section 4 hands out pysaml2's public objects typed (broker/saml/views.py) and
section 5 writes the Presentation (broker/saml/published.py) into pysaml2's metadata objects,
so that the untyped (Any to mypy) calls into pysaml2 sit here rather than in the adapters.

A new pysaml2 release can move any of these; move SUPPORTED only after the tests in tests/saml
and tests/upstream pass against it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import shutil
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import Final

import saml2
import saml2.data.schemas
import saml2.saml
import saml2.samlp
import saml2.sigver
import saml2.xml.schema
import saml2.xmldsig
from cryptography.utils import CryptographyDeprecationWarning
from saml2 import md
from saml2.client import Saml2Client
from saml2.config import IdPConfig, SPConfig
from saml2.extension import mdui, shibmd
from saml2.metadata import entity_descriptor, metadata_tostring_fix
from saml2.sigver import CryptoBackend as _CryptoBackend
from saml2.sigver import (
    CryptoBackendXmlSec1,
    RSACrypto,
    SecurityContext,
    import_rsa_key_from_file,
    pre_signature_part,
    read_cert_from_file,
)
from saml2.xml.schema import XMLSchemaError as _XMLSchemaError

from broker.errors import ConfigError
from broker.saml.published import Presentation, duration
from broker.saml.views import (
    Encrypter,
    IdpServer,
    Metadata,
    MetadataClasses,
    Security,
    SignatureClasses,
    SpClient,
)

with warnings.catch_warnings():
    # pysaml2 7.5 touches cryptography's deprecated CFB mode when saml2.server is imported.
    warnings.filterwarnings("ignore", "CFB has been moved", CryptographyDeprecationWarning)
    from saml2.server import Server

__all__ = ["BINDING_HTTP_POST", "BINDING_HTTP_REDIRECT", "DIGEST_SHA256", "DS_CLASSES", "MDUI",
           "MD_CLASSES", "NAMEID_FORMAT_ENTITY", "NAMEID_FORMAT_PERSISTENT",
           "NAMEID_FORMAT_TRANSIENT", "NAMEID_FORMAT_UNSPECIFIED", "NAMESPACE_DS", "NAMESPACE_MD",
           "NAMESPACE_SAMLP", "SCM_BEARER", "SIG_RSA_SHA256", "SUPPORTED", "CryptoBackend",
           "DecryptError", "SignatureError", "XMLSchemaError", "XmlSec1", "add_extensions",
           "check_version", "idp_config", "idp_metadata", "idp_server", "install_schema_validator",
           "read_pem_cert", "rsa_signer", "schema_folder",
           "schema_validator_installed", "scope_elements", "signature_template",
           "sp_client", "sp_security", "stamp", "swap_crypto", "ui_info",
           "xmlsec1_backend"]

SUPPORTED = ((7, 5), (7, 6))
"""pysaml2 releases these couplings are written for: at least 7.5, below 7.6."""
_RANGE = ">={}.{},<{}.{}".format(*SUPPORTED[0], *SUPPORTED[1])
_lock = threading.Lock()


def check_version(installed: str | None = None) -> None:
    """Raise ConfigError unless the installed pysaml2 (or `installed`) is in SUPPORTED."""
    version = installed if installed is not None else metadata.version("pysaml2")
    match = re.match(r"(\d+)\.(\d+)", version)
    release = (int(match[1]), int(match[2])) if match else None
    if release is None or not SUPPORTED[0] <= release < SUPPORTED[1]:
        raise ConfigError(f"pysaml2 {version} is installed, but Loper reaches into pysaml2's "
                          f"internals (broker/saml/compat.py) and supports only pysaml2 "
                          f"{_RANGE}; install a version in that range")


# -- 1. a crypto backend of Loper's own --------------------------------------------------------
class CryptoBackend(_CryptoBackend):  # type: ignore[misc]  # pysaml2 is untyped
    """The base of a backend that SecurityContext calls as sign_statement(statement, node_name,
    key_file, node_id), validate_signature(signedtext, cert_file, cert_type, node_name,
    node_id), decrypt(enctext, key_file), encrypt(...) and encrypt_assertion(...)."""


def swap_crypto(entity: object, make: Callable[[Encrypter], CryptoBackend]) -> None:
    """Give a pysaml2 Server or Saml2Client (or a SecurityContext itself) the backend
    make(current backend), and check signatures only against keys from the peer's metadata."""
    sec = getattr(entity, "sec", entity)
    if not isinstance(sec, SecurityContext):
        raise TypeError(f"{type(entity).__name__} has no pysaml2 SecurityContext")
    sec.crypto = make(sec.crypto)
    sec.only_use_keys_in_metadata = True


# -- 2. pysaml2's xmlsec1 backend, asked its version once ----------------------------------------
class XmlSec1(CryptoBackendXmlSec1):  # type: ignore[misc]  # pysaml2 is untyped
    """pysaml2's xmlsec1 backend without `xmlsec1 --version` before every call."""

    @functools.cached_property
    def version(self) -> str:
        return str(super().version)


@functools.cache
def xmlsec1_backend() -> XmlSec1:
    """The process-wide xmlsec1 backend (forks xmlsec1 per signature or decryption)."""
    binary = shutil.which("xmlsec1")
    if binary is None:
        raise ConfigError("xmlsec1 is not installed (Debian: apt-get install xmlsec1)")
    return XmlSec1(binary)


# -- 3. pysaml2's schema check -------------------------------------------------------------------
Validator = Callable[..., None]
original_schema_validator: Validator = saml2.xml.schema.validate
"""pysaml2's own validator (the xmlschema package)."""


def schema_validator_installed(validate: Validator) -> bool:
    return (saml2.sigver.validate_doc_with_schema is validate
            and saml2.xml.schema.validate is validate)


def install_schema_validator(validate: Validator) -> None:
    """Make pysaml2 check schemas with `validate`, idempotently: wherever a loaded saml2.*
    module bound pysaml2's validator (saml2.sigver imports it as validate_doc_with_schema)."""
    if schema_validator_installed(validate):
        return
    with _lock:
        for name, module in list(sys.modules.items()):
            if name != "saml2" and not name.startswith("saml2.") or module is None:
                continue
            for attribute, value in list(vars(module).items()):
                if value is original_schema_validator:
                    setattr(module, attribute, validate)
        saml2.sigver.validate_doc_with_schema = validate
        saml2.xml.schema.validate = validate


# -- 4. pysaml2's public objects, typed ----------------------------------------------------------
BINDING_HTTP_POST: Final[str] = saml2.BINDING_HTTP_POST
BINDING_HTTP_REDIRECT: Final[str] = saml2.BINDING_HTTP_REDIRECT
NAMEID_FORMAT_PERSISTENT: Final[str] = saml2.saml.NAMEID_FORMAT_PERSISTENT
NAMEID_FORMAT_TRANSIENT: Final[str] = saml2.saml.NAMEID_FORMAT_TRANSIENT
NAMEID_FORMAT_UNSPECIFIED: Final[str] = saml2.saml.NAMEID_FORMAT_UNSPECIFIED
SIG_RSA_SHA256: Final[str] = saml2.xmldsig.SIG_RSA_SHA256
DIGEST_SHA256: Final[str] = saml2.xmldsig.DIGEST_SHA256
MDUI: Final[str] = mdui.NAMESPACE
SignatureError: Final[type[Exception]] = saml2.sigver.SignatureError
DecryptError: Final[type[Exception]] = saml2.sigver.DecryptError
XMLSchemaError: Final[type[Exception]] = _XMLSchemaError
NAMEID_FORMAT_ENTITY: Final[str] = saml2.saml.NAMEID_FORMAT_ENTITY
SCM_BEARER: Final[str] = saml2.saml.SCM_BEARER
NAMESPACE_MD: Final[str] = md.NAMESPACE
NAMESPACE_DS: Final[str] = saml2.xmldsig.NAMESPACE
NAMESPACE_SAMLP: Final[str] = saml2.samlp.NAMESPACE
MD_CLASSES: Final[MetadataClasses] = md
DS_CLASSES: Final[SignatureClasses] = saml2.xmldsig


def schema_folder() -> Path:
    """The folder of the XSD files pysaml2 bundles."""
    return Path(str(resources.files(saml2.data.schemas)))


def idp_config(conf: dict[str, object]) -> object:
    """saml2.config.IdPConfig loaded from `conf`."""
    loaded: object = IdPConfig().load(conf)
    return loaded


def idp_server(config: object) -> IdpServer:
    """saml2.server.Server for `config` (a saml2.config.IdPConfig)."""
    server: IdpServer = Server(config=config)
    return server


def sp_client(conf: dict[str, object]) -> SpClient:
    """saml2.client.Saml2Client configured by `conf` (an SPConfig's dict)."""
    client: SpClient = Saml2Client(config=SPConfig().load(conf))
    return client


def sp_security(crypto: object, key_file: str, cert_file: str, metadata: Metadata,
                key_pairs: Sequence[tuple[str, str]], sec_backend: object) -> Security:
    """saml2.sigver.SecurityContext of Loper's SP: signs with key_file (cert_file), decrypts
    with each (key file, certificate file) of key_pairs, trusts the keys in `metadata` only."""
    context: Security = SecurityContext(
        crypto, key_file, cert_file=cert_file, metadata=metadata,
        only_use_keys_in_metadata=True, enc_key_files=[key for key, _cert in key_pairs],
        encryption_keypairs=[{"key_file": key, "cert_file": cert} for key, cert in key_pairs],
        sec_backend=sec_backend)
    return context


def rsa_signer(key_file: str) -> object:
    """pysaml2's RSACrypto for the private key in key_file (PEM): signs Redirect queries."""
    signer: object = RSACrypto(import_rsa_key_from_file(key_file))
    return signer


def read_pem_cert(cert_file: str) -> str:
    """The certificate in a PEM file as pysaml2 puts it in KeyInfo (base64 DER, one line)."""
    return str(read_cert_from_file(cert_file))


def signature_template(ident: str, cert: str) -> object:
    """pysaml2's ds:Signature template (RSA-SHA256, SHA-256) for the element `ident`, with
    `cert` in its KeyInfo."""
    template: object = pre_signature_part(ident, cert, digest_alg=DIGEST_SHA256,
                                          sign_alg=SIG_RSA_SHA256)
    return template


# -- 5. the Presentation in pysaml2's metadata objects -------------------------------------------
def ui_info(p: Presentation) -> object:
    """mdui:UIInfo: name, description, links and logo."""
    info: object = mdui.UIInfo(
        display_name=[mdui.DisplayName(text=text, lang=lang) for lang, text in p.display_name],
        description=[mdui.Description(text=text, lang=lang) for lang, text in p.description],
        information_url=[mdui.InformationURL(text=url, lang=lang)
                         for lang, url in p.information_url],
        privacy_statement_url=[mdui.PrivacyStatementURL(text=url, lang=lang)
                               for lang, url in p.privacy_url],
        logo=[mdui.Logo(text=p.logo.url, width=str(p.logo.width), height=str(p.logo.height))]
        if p.logo else [])
    return info


def scope_elements(scopes: Iterable[str]) -> list[object]:
    """shibmd:Scope for each scope, once each, in order."""
    return [shibmd.Scope(text=scope, regexp="false") for scope in dict.fromkeys(scopes)]


def add_extensions(descriptor: object, *elements: object) -> None:
    """Put `elements` into a pysaml2 role descriptor's md:Extensions (made if it has none)."""
    role: md.RoleDescriptorType_ = descriptor
    if role.extensions is None:
        role.extensions = md.Extensions()
    for element in elements:
        role.extensions.add_extension_element(element)


def stamp(entity: object, p: Presentation, now: dt.datetime) -> None:
    """validUntil (now + valid_for), cacheDuration and the contacts, on Loper's own pysaml2
    EntityDescriptor."""
    descriptor: md.EntityDescriptor = entity
    descriptor.valid_until = (now + dt.timedelta(seconds=p.valid_for)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    descriptor.cache_duration = duration(p.cache_duration)
    descriptor.contact_person = [md.ContactPerson(
        contact_type=c.kind, email_address=[md.EmailAddress(text=f"mailto:{c.email}")])
        for c in p.contacts]


def idp_metadata(config: object, extensions: Sequence[object], p: Presentation,
                 now: dt.datetime, signature: tuple[str, object] | None,
                 namespaces: Mapping[str, str]) -> str:
    """The EntityDescriptor pysaml2 writes for the IdPConfig `config`, with `extensions` in its
    IDPSSODescriptor, stamped with `p`, and (signature: its ID and a signature template) ready
    to be signed."""
    descriptor = entity_descriptor(config)
    add_extensions(descriptor.idpsso_descriptor, *extensions)
    stamp(descriptor, p, now)
    if signature is not None:
        descriptor.id, descriptor.signature = signature
    xml = metadata_tostring_fix(descriptor, dict(namespaces))
    return xml.decode() if isinstance(xml, bytes) else str(xml)
