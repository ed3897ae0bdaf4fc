"""One running piece of supplier software, as the tests (and later ones) drive it.

Each helper module (mellon, shibboleth, openidc, simplesamlphp) yields a `SupplierSoftware`:
its base URL, its protected app page (visiting it starts a login; once logged in it answers
with what the app received, as JSON), its SAML metadata or OIDC client, its logout address,
and `seen`, which reads the app's answer in the software's own terms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from cryptography import x509

from tests.certs import cert_b64


@dataclass(frozen=True)
class Seen:
    """What the app behind the supplier software received about the pupil."""

    subject: str
    """The NameID (SAML) or `sub` (OIDC), as the software passes it on."""
    attributes: dict[str, list[str]]
    """Every attribute the software passes on, under its own names, with all values."""


@dataclass(frozen=True)
class Sent:
    """What Loper sends the supplier about the pupil, in both protocols' terms."""

    pseudonym: str
    saml: dict[str, list[str]]
    """SAML attribute Name -> values, the pairwise-id included."""
    claims: dict[str, list[str]]
    """OIDC claim -> values, `sub` excluded."""


@dataclass(frozen=True)
class OidcClient:
    client_id: str
    client_secret: str
    redirect_uri: str
    backchannel_logout_uri: str | None = None
    """Where the RP takes OIDC Back-Channel Logout tokens."""
    frontchannel_logout_uri: str | None = None
    """Where the RP's logout is loaded in an iframe (OIDC Front-Channel Logout)."""
    post_logout_redirect_uris: tuple[str, ...] = ()
    """Where Loper may send the browser back after the RP's own logout."""
    iss_in_errors: bool = True
    """Loper's registration of the client: its error answers with `iss` (RFC 9207)."""


@dataclass(frozen=True)
class Asks:
    """What a SAML SP's AuthnRequest can ask of the answer besides a login: a NameIDPolicy
    Format, a RequestedAuthnContext (its class and Comparison)."""

    name_id_format: str | None = None
    authn_context: tuple[str, str] | None = None


def asked_by(url: str, name_id_format: str, authn_class: str, comparison: str,
             **fixed: str) -> Callable[[Asks], str]:
    """`url` with what to ask as query parameters, under the software's own names for them."""
    def asking(asks: Asks) -> str:
        params = dict(fixed)
        if asks.name_id_format is not None:
            params[name_id_format] = asks.name_id_format
        if asks.authn_context is not None:
            params[authn_class], params[comparison] = asks.authn_context
        return f"{url}?{urlencode(params)}"
    return asking


@dataclass(frozen=True)
class SupplierSoftware:
    name: str
    """Its supplier id in Loper."""
    title: str
    """The software's name and version, as it reports itself."""
    base_url: str
    app_url: str
    """The app's protected page: starts a login, then answers with the app's environment."""
    logout_url: str
    """Where the software's own logout starts (SAML SLO or the OIDC RP's logout)."""
    folder: Path
    """Its private folder: configuration, keys, logs."""
    seen: Callable[[Mapping[str, Any]], Seen]
    """Reads the app page's answer."""
    expect: Callable[[Sent], Seen]
    """What the app must see when Loper sends `Sent`: the software's own names, after its
    own (stock) mapping and filtering."""
    metadata: str | None = None
    """The SP's SAML metadata (SAML software)."""
    entity_id: str | None = None
    client: OidcClient | None = None
    """The client Loper must know (OIDC software)."""
    logs: tuple[Path, ...] = field(default=())
    """Its log files, for a failing test's report."""
    asking: Callable[[Asks], str] | None = None
    """Where a login starts whose AuthnRequest asks for `Asks`, when the software takes them
    per login (None: from its configuration alone)."""

    @property
    def supplier_name(self) -> str:
        """Its name in Loper, where no two suppliers share one: two instances of the same
        software (its defaults, another logout channel) are told apart by their id."""
        return f"{self.title} ({self.name})"

    @property
    def protocol(self) -> str:
        return "oidc" if self.client is not None else "saml"


def pem_b64(cert_file: Path) -> str:
    """The base64 DER of a PEM certificate file, as metadata carries it."""
    return cert_b64(x509.load_pem_x509_certificate(cert_file.read_bytes()))

