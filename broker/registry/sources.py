"""[[metadata_sources]]: signed aggregates that schools and suppliers take their metadata from.

    [[metadata_sources]]
    id = "entree"
    url = "https://metadata.example/entree.xml"
    certificate = "entree-signing.pem"   # relative to the federation file; or certificate_pem
    refresh = 3600                       # seconds; validUntil and cacheDuration also apply

or, for a federation too large for one document, `mdq = "https://mdq.example"` instead of
`url`: each entity is then fetched on its own from {mdq}/entities/{url-encoded entityID}
(the Metadata Query Protocol), each answer a signed EntityDescriptor.

Or one entity's own document (a school's ADFS or Entra ID metadata URL), trusted because TLS
authenticates the school's server: `url = "https://..."` with `trust = "tls"` instead of a
certificate (entity_source.py says why that is enough, and what is checked). A source names
exactly one of certificate, certificate_pem and trust.

`public_only = true` (optional; absent: false, the operator's file is trusted as every URL in
it is): the source is fetched from public addresses only, the host resolved once and the call
made to the address checked (broker/outbound/addresses.py). The admin portal's form registers
its sources so unless the operator allowed private addresses, and an export keeps the field,
so the rule survives an export and import.

Reading a federation file fetches and verifies each aggregate once (aggregate.py), and each
entity it names from an MDQ source, so that its schools and suppliers can be checked against
what the source holds; the server then refreshes them in the background
(broker/metadata_refresh.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cryptography import x509

from broker.messages import Message, msg
from broker.registry import aggregate, entity_source, metadata
from broker.registry.checks import BOOL, Entry, url_problem

FIELDS = frozenset({"id", "url", "mdq", "certificate", "certificate_pem", "trust", "refresh",
                    "public_only"})
DEFAULT_REFRESH = 3600
MIN_REFRESH = 60
"""No source is fetched more often than this, whatever its cacheDuration or validUntil say."""


@dataclass(frozen=True)
class MetadataSource:
    id: str
    url: str
    certificate_pem: str
    """The certificate the aggregate's signature must verify with ("" for tls trust)."""
    refresh: int = DEFAULT_REFRESH
    """Seconds between fetches at most."""
    mdq: bool = False
    """`url` is the base of a Metadata Query service, not an aggregate."""
    tls: bool = False
    """`url` is one entity's own document, trusted through TLS (entity_source.py)."""
    public_only: bool = False
    """Fetched from public addresses only (registered from the form without the operator
    allowing private ones); False: any address, as the operator's federation file says."""

    def entity_url(self, entity_id: str) -> str:
        """Where an MDQ source answers for one entity."""
        return f"{self.url.rstrip('/')}/entities/{quote(entity_id, safe='')}"

    def next_fetch(self, fetched: aggregate.Aggregate, now: datetime) -> datetime:
        """When to fetch again: the earliest of refresh, cacheDuration and validUntil."""
        wait = timedelta(seconds=self.refresh)
        if fetched.cache_duration is not None:
            wait = min(wait, fetched.cache_duration)
        if fetched.valid_until is not None:
            wait = min(wait, fetched.valid_until - now)
        return now + max(wait, timedelta(seconds=MIN_REFRESH))


@dataclass(frozen=True)
class Loaded:
    """A source read from a federation file, and its aggregate if it could be fetched."""

    source: MetadataSource
    aggregate: aggregate.Aggregate | None


def check_certificate(pem: str) -> str | None:
    """None if `pem` is a PEM certificate, else what is wrong."""
    try:
        x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        return f"is not a PEM certificate ({exc})"
    return None


def _one_of(entry: Entry, first: tuple[str, Message],
            second: tuple[str, Message]) -> tuple[str, str] | None:
    """(field, value) of the one of two (field, what it is) fields that is set."""
    values = [(field, entry.text(field, what)) for field, what in (first, second)]
    found = [(field, value) for field, value in values if value is not None]
    if len(found) == 1:
        return found[0]
    if found or not any(field in entry.table for field, _ in values):
        entry.problem(first[0], msg("problem.exactly_one", first=first[0], first_is=first[1],
                                    second=second[0], second_is=second[1]))
    return None


def _certificate(entry: Entry, base_dir: Path) -> str | None:
    found = _one_of(entry, ("certificate", msg("problem.expect_pem_file")),
                    ("certificate_pem", msg("problem.expect_pem")))
    if found is None:
        return None
    field, value = found
    path = base_dir / value
    try:
        pem = value if field == "certificate_pem" else path.read_text("ascii")
    except (OSError, UnicodeDecodeError) as exc:
        entry.problem(field, msg("problem.unreadable_pem", path=str(path), detail=str(exc)))
        return None
    wrong = check_certificate(pem)
    if wrong:
        entry.problem(field, msg("problem.detail", detail=wrong))
        return None
    return pem


def _trust(entry: Entry, base_dir: Path) -> str | None:
    """The pinned certificate's PEM, or entity_source.TRUST for `trust = "tls"`; None (a
    problem on the entry) if the source does not say exactly one of them."""
    pinned = "certificate" in entry.table or "certificate_pem" in entry.table
    if "trust" not in entry.table:
        if pinned:
            return _certificate(entry, base_dir)
        entry.problem("certificate", msg("problem.no_trust"))
        return None
    trust = entry.text("trust", msg("problem.expect_trust"))
    if pinned:
        entry.problem("trust", msg("problem.trust_and_certificate"))
    elif trust is not None and trust != entity_source.TRUST:
        entry.problem("trust", msg("problem.too_small", value=f'"{trust[:40]}"',
                                   expected=msg("problem.expect_trust")))
    return trust if trust == entity_source.TRUST and not pinned else None


def _tls_url(entry: Entry, found: tuple[str, str] | None) -> None:
    """A source trusted through TLS is one entity's document at an https URL."""
    if found is not None and found[0] == "mdq":
        entry.problem("mdq", msg("problem.tls_not_mdq"))
    elif found is not None and not found[1].lower().startswith("https://"):
        entry.problem("url", msg("problem.tls_needs_https", url=found[1][:200]))


def parse(entry: Entry, base_dir: Path) -> MetadataSource | None:
    """One [[metadata_sources]] table; problems go on the entry."""
    entry.allow(FIELDS)
    ident = entry.text("id", msg("problem.expect_source_id"), required=True)
    found = _one_of(entry, ("url", msg("problem.expect_aggregate_url")),
                    ("mdq", msg("problem.expect_mdq_url")))
    url = found[1] if found else None
    wrong = url_problem(found[1]) if found is not None else None
    if found is not None and wrong:
        entry.problem(found[0], wrong)
    pem = _trust(entry, base_dir)
    tls = pem == entity_source.TRUST
    if tls and not wrong:
        _tls_url(entry, found)
    expected = msg("problem.expect_refresh", n=MIN_REFRESH)
    refresh = entry.get("refresh", int, expected)
    if refresh is not None and refresh < MIN_REFRESH:
        entry.problem("refresh", msg("problem.too_small", value=refresh, expected=expected))
    public_only = entry.get("public_only", bool, BOOL)
    if ident is None or url is None or pem is None or not entry.clean():
        return None
    return MetadataSource(ident, url, "" if tls else pem, refresh or DEFAULT_REFRESH,
                          mdq=found is not None and found[0] == "mdq", tls=tls,
                          public_only=bool(public_only))


def fetch(source: MetadataSource, now: datetime,
          named: entity_source.Named = ()) -> aggregate.Aggregate:
    """Fetch and verify the source's aggregate (tls trust: its entity's own document, which
    must be the entity `named` by its schools and suppliers); MetadataError says why it
    cannot be used."""
    if source.tls:
        return entity_source.fetch(source.url, now, named, public_only=source.public_only)
    xml = metadata.fetch(source.url, public_only=source.public_only)
    try:
        return aggregate.verify(xml, source.certificate_pem, source=source.id, now=now)
    except metadata.MetadataError as exc:
        raise metadata.MetadataError(msg("problem.aggregate_at", url=source.url,
                                         problem=exc.message)) from exc


def fetch_entity(source: MetadataSource, entity_id: str, now: datetime) -> aggregate.Aggregate:
    """One entity from an MDQ source, its answer verified as an aggregate's; MetadataError
    says why it cannot be used."""
    url = source.entity_url(entity_id)
    xml = metadata.fetch(url, public_only=source.public_only)
    try:
        found = aggregate.verify(xml, source.certificate_pem, source=source.id, now=now,
                                 node=aggregate.ENTITY_NODE)
    except metadata.MetadataError as exc:
        raise metadata.MetadataError(msg("problem.mdq_answer_at", url=url,
                                         problem=exc.message)) from exc
    if entity_id not in found.entities:
        raise metadata.MetadataError(msg("problem.mdq_answer_about", url=url,
                                         found=next(iter(found.entities)), entity=entity_id))
    return found


def combine(answers: Mapping[str, aggregate.Aggregate]) -> aggregate.Aggregate:
    """MDQ answers as one aggregate: the earliest validUntil and cacheDuration count."""
    entities = {k: v for answer in answers.values() for k, v in answer.entities.items()}
    until = [a.valid_until for a in answers.values() if a.valid_until is not None]
    cache = [a.cache_duration for a in answers.values() if a.cache_duration is not None]
    return aggregate.Aggregate("".join(entities[k] for k in sorted(entities)), entities,
                               min(until, default=None), min(cache, default=None))


def lookup(loaded: Loaded) -> Callable[[str], str] | None:
    """entity id -> its metadata in the source (MetadataError if it has none); None if the
    source could not be read."""
    source, fetched = loaded.source, loaded.aggregate
    if source.mdq:
        now = datetime.now(UTC)
        return lambda entity_id: fetch_entity(source, entity_id, now).entities[entity_id]
    if fetched is None:
        return None
    entities = fetched.entities

    def find(entity_id: str) -> str:
        if entity_id not in entities:
            raise metadata.MetadataError(msg("problem.not_in_source", entity=entity_id[:200],
                                             source=source.id, n=len(entities)))
        return entities[entity_id]

    return find


def load(entry: Entry, base_dir: Path) -> Loaded | None:
    """A [[metadata_sources]] table and its aggregate, fetched now (a problem if it fails);
    an MDQ source is asked for each entity when an entry names it."""
    source = parse(entry, base_dir)
    if source is None or source.mdq:
        return Loaded(source, None) if source else None
    try:
        return Loaded(source, fetch(source, datetime.now(UTC)))
    except metadata.MetadataError as exc:
        entry.problem("url", exc.message)
        return Loaded(source, None)


def export(source: MetadataSource) -> dict[str, Any]:
    """The [[metadata_sources]] table of `source`, its certificate inline (or its trust)."""
    doc: dict[str, Any] = {"id": source.id, "mdq" if source.mdq else "url": source.url}
    if source.tls:
        doc["trust"] = entity_source.TRUST
    else:
        doc["certificate_pem"] = source.certificate_pem
    if source.refresh != DEFAULT_REFRESH:
        doc["refresh"] = source.refresh
    if source.public_only:
        doc["public_only"] = True
    return doc
