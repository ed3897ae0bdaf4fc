"""[[metadata_sources]] with `trust = "tls"`: one entity's own metadata at its own https URL.

    [[metadata_sources]]
    id = "regenboog-idp"
    url = "https://adfs.regenboog.nl/FederationMetadata/2007-06/FederationMetadata.xml"
    trust = "tls"                        # instead of certificate / certificate_pem

A school that runs its own IdP (ADFS, Entra ID) publishes one EntityDescriptor at an https URL,
signed by no federation key, and rolls its signing certificate over at that URL by itself.

Trust model: TLS authenticates the school's server. The document counts as the entity's
because it came, without a redirect, from the https URL the operator named, over a connection
whose certificate verified for that host against the CA bundle (REQUESTS_CA_BUNDLE,
SSL_CERT_FILE, certifi). Whoever can change what that server answers can already log in as the
school's pupils (it is the IdP, or sits beside it), so nothing more is to be had. A signature in
the document is neither required nor checked: ADFS and Entra sign with a key that the document
itself publishes (whoever can change the document can sign it again), and checking it against
the last good copy's keys would refuse exactly the rollover such a source is for (ADFS moves the
signature to its new token-signing key when it promotes it). Plain http is refused, loopback
too: without TLS nothing vouches for the document.

Where the document may come from: a source in the operator's federation file may be at any
address, as every URL there. A source registered from the admin portal's form keeps the
rule it was registered under: unless the operator allowed private addresses for that
registration, it is `public_only`, and every refresh resolves the host once, refuses it if
any address is not public (loopback, private, link-local...: the cloud's metadata service, an
internal host) and connects to the address checked (broker/outbound/addresses.py), so a name
that later points inside Loper's network (DNS changed, or rebinding) is never fetched from.

Checks, as for an uploaded document (metadata.py) and an aggregate: at most 5 MB, well-formed
XML without a DTD, one EntityDescriptor with an entityID at the root (an EntitiesDescriptor is
refused: a federation's aggregate needs its pinned certificate), validUntil not passed,
cacheDuration an xs:duration (both bring the next fetch forward, as for an aggregate), and at a
refresh: the entity that the source's schools and suppliers name, playing their role (an IdP for
a school, an SP for a supplier). Anything else raises MetadataError; the caller keeps the last
good copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from broker.messages import msg
from broker.registry import aggregate, metadata
from broker.registry.metadata import MetadataError, Role

TRUST = "tls"
"""The value of `trust` that names such a source."""
Named = Iterable[tuple[str, Role]]
"""(entity id, role) of each school and supplier that names the source."""


def verify(xml: bytes, now: datetime, named: Named = ()) -> aggregate.Aggregate:
    """The document as a one-entity aggregate if it passes the checks; else MetadataError."""
    root, found = metadata.entity(xml)
    for wanted, role in named:
        if wanted != found:
            raise MetadataError(msg("problem.about_other", found=found[:200],
                                    wanted=wanted[:200]))
        metadata.plays(root, found, role)
    valid_until = aggregate.valid_until(root.get("validUntil"), now)
    cache = root.get("cacheDuration")
    text = metadata.as_text(xml)
    return aggregate.Aggregate(text, {found: text}, valid_until,
                               aggregate.duration(cache) if cache else None)


def fetch(url: str, now: datetime, named: Named = (), *,
          public_only: bool = False) -> aggregate.Aggregate:
    """Fetch (the one outbound fetcher: TLS verified, size cap, deadline, no redirect; public
    addresses only if `public_only`) and check the document at `url`; MetadataError says why
    it cannot be used."""
    xml = metadata.fetch(url, public_only=public_only)
    try:
        return verify(xml, now, named)
    except MetadataError as exc:
        raise MetadataError(msg("problem.document_at", url=url, problem=exc.message)) from exc
