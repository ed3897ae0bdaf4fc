"""Where Loper reaches past pysaml2's public API: three couplings, all in this module, written
against the pysaml2 versions in SUPPORTED and checked at start-up (check_version). (A school's
Response is not read by pysaml2 at all: broker/upstream/saml_verify.py.)

1. CryptoBackend and swap_crypto(): a crypto backend of Loper's own inside pysaml2's
   SecurityContext (its `crypto` attribute and the calls it makes on it).
2. XmlSec1: pysaml2's xmlsec1 backend without `xmlsec1 --version` before every call.
3. install_schema_validator(): pysaml2's XML Schema check replaced, by rebinding the names
   pysaml2 looks it up under (saml2.sigver.validate_doc_with_schema, saml2.xml.schema.validate).

A new pysaml2 release can move any of these; move SUPPORTED only after the tests in tests/saml
and tests/upstream pass against it.
"""

from __future__ import annotations

import functools
import re
import shutil
import sys
import threading
from collections.abc import Callable
from importlib import metadata

import saml2.sigver
import saml2.xml.schema
from saml2.sigver import CryptoBackend as _CryptoBackend
from saml2.sigver import CryptoBackendXmlSec1, SecurityContext

from broker.errors import ConfigError

__all__ = ["SUPPORTED", "CryptoBackend", "XmlSec1", "check_version", "install_schema_validator",
           "schema_validator_installed", "swap_crypto", "xmlsec1_backend"]

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


def swap_crypto(entity: object, make: Callable[[object], CryptoBackend]) -> None:
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
