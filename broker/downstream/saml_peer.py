"""What Loper knows about one supplier's SAML SP, read from that supplier's metadata only.

Each supplier gets its own pysaml2 `Server` that knows no other SP (so a request can only be
verified against its own issuer's keys), cached per (supplier id, metadata hash) in a small
LRU: a changed metadata document is picked up at the next request.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeAlias, cast

import xmlsec
from cryptography import x509

from broker.downstream.saml_config import SamlIdpConfig, pysaml2_config
from broker.downstream.saml_kind import saml_of
from broker.errors import BrokerError, RequestRejected, UnknownSupplier
from broker.records import Supplier
from broker.saml.compat import BINDING_HTTP_POST, idp_server
from broker.saml.crypto_keys import certificate_key
from broker.saml.encrypt import EncryptionFailed, Recipient
from broker.saml.frames import release_frames
from broker.saml.views import IdpServer, Metadata, RoleEntry

Attach: TypeAlias = Callable[[object], None]
"""Given each pysaml2 Server / SecurityContext the IdP creates, e.g. to swap its crypto backend."""


@contextmanager
def pysaml2_errors(what: str, error: type[BrokerError] = RequestRejected) -> Iterator[None]:
    """Turn whatever pysaml2 raises (it raises dozens of unrelated types) into `error`."""
    try:
        yield
    except BrokerError:
        raise
    except Exception as exc:  # pysaml2's exceptions share no base class
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        release_frames(exc)
        raise error(f"{what} ({detail})") from exc


@dataclass(frozen=True)
class Acs:
    url: str
    binding: str
    index: str | None
    is_default: bool | None


@dataclass(frozen=True)
class SpPeer:
    entity_id: str
    server: IdpServer
    """pysaml2 Server whose metadata holds this SP alone (verifies its signed requests)."""
    sign_requests: bool
    """AuthnRequestsSigned="true" in the metadata: unsigned requests are refused."""
    signing_certs: tuple[x509.Certificate, ...]
    signing_keys: tuple[xmlsec.Key, ...]
    """The same certificates as xmlsec keys (enveloped signatures, checked on lxml)."""
    encryption: Recipient | None
    """The SP's encryption certificate (KeyDescriptor use="encryption" or without use);
    None: assertions go unencrypted."""
    acs: tuple[Acs, ...]
    name_id_formats: tuple[str, ...] = ()
    """The NameIDFormats of its metadata, in its order (SAML metadata 2.4.4: the formats it
    supports)."""

    def default_acs(self) -> Acs:
        """SAML metadata 2.2.3: isDefault="true", else the first not marked false, else first."""
        post = [acs for acs in self.acs if acs.binding == BINDING_HTTP_POST]
        if not post:
            raise RequestRejected("The learning app's metadata has no HTTP-POST "
                                  "AssertionConsumerService.")
        ranked = sorted(post, key=lambda acs: {True: 0, None: 1, False: 2}[acs.is_default])
        return ranked[0]


def _acs(descriptors: list[RoleEntry]) -> tuple[Acs, ...]:
    def flag(value: str | None) -> bool | None:
        return None if value is None else value.lower() in ("true", "1")

    return tuple(Acs(e["location"], e["binding"], e.get("index"), flag(e.get("is_default")))
                 for d in descriptors for e in d.get("assertion_consumer_service", []))


def _certs(metadata: Metadata, entity_id: str, use: str) -> list[str]:
    pairs = cast(Sequence[tuple[str, str]], metadata.certs(entity_id, "spsso", use))
    return [cert for _name, cert in pairs]


def _x509(cert_b64: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(cert_b64))


def load_peer(config: SamlIdpConfig, supplier: Supplier) -> SpPeer:
    saml = saml_of(supplier)
    if saml is None:
        raise UnknownSupplier(f"{supplier.name} is not registered as a SAML service provider.")
    entity_id = saml.entity_id
    with pysaml2_errors(f"The metadata of {supplier.name} cannot be used"):
        server = idp_server(pysaml2_config(config, saml.metadata_xml))
        found = entity_id in server.metadata.keys()
        descriptors = server.metadata[entity_id].get("spsso_descriptor") if found else None
        if not descriptors:
            raise RequestRejected(f"The metadata of {supplier.name} has no SPSSODescriptor "
                                  f"for {entity_id}.")
        signing_b64 = _certs(server.metadata, entity_id, "signing")
        signing = tuple(_x509(c) for c in signing_b64)
        keys = tuple(certificate_key(c) for c in signing_b64)
        encryption = _certs(server.metadata, entity_id, "encryption")
    try:
        recipient = Recipient(encryption[0]) if encryption else None
    except EncryptionFailed as exc:
        raise RequestRejected(f"The encryption certificate of {supplier.name} cannot be "
                              f"used ({exc}).") from exc
    signed = any(d.get("authn_requests_signed", "false").lower() in ("true", "1")
                 for d in descriptors)
    formats = tuple(f.get("text", "").strip() for d in descriptors
                    for f in d.get("name_id_format", []))
    return SpPeer(entity_id, server, signed, signing, keys, recipient, _acs(descriptors),
                  formats)


class PeerCache:
    """A bounded LRU of SpPeer by (supplier id, metadata hash); safe across threads."""

    def __init__(self, config: SamlIdpConfig, size: int = 256,
                 attach: Attach | None = None) -> None:
        self._config = config
        self._size = size
        self._attach = attach
        self._peers: OrderedDict[tuple[str, str], SpPeer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, supplier: Supplier) -> SpPeer:
        saml = saml_of(supplier)
        metadata = saml.metadata_xml if saml else ""
        key = (supplier.id, hashlib.sha256(metadata.encode()).hexdigest())
        with self._lock:
            if key in self._peers:
                self._peers.move_to_end(key)
                return self._peers[key]
        peer = load_peer(self._config, supplier)
        if self._attach is not None:
            self._attach(peer.server)
        with self._lock:
            self._peers[key] = peer
            while len(self._peers) > self._size:
                self._peers.popitem(last=False)
        return peer
