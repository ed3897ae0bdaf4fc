"""[[metadata_sources]]: signed aggregates that schools and suppliers take their metadata from.

    [[metadata_sources]]
    id = "entree"
    url = "https://metadata.example/entree.xml"
    certificate = "entree-signing.pem"   # relative to the federation file; or certificate_pem
    refresh = 3600                       # seconds; validUntil and cacheDuration also apply

Reading a federation file fetches and verifies each source once (aggregate.py), so that its
schools and suppliers can be checked against what it holds; the server then refreshes it in
the background (broker/metadata_refresh.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509

from broker.registry import aggregate, metadata
from broker.registry.checks import Entry, url_problem

FIELDS = frozenset({"id", "url", "certificate", "certificate_pem", "refresh"})
DEFAULT_REFRESH = 3600
MIN_REFRESH = 60
"""No source is fetched more often than this, whatever its cacheDuration or validUntil say."""


@dataclass(frozen=True)
class MetadataSource:
    id: str
    url: str
    certificate_pem: str
    """The certificate the aggregate's signature must verify with."""
    refresh: int = DEFAULT_REFRESH
    """Seconds between fetches at most."""

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


def _certificate(entry: Entry, base_dir: Path) -> str | None:
    path = entry.text("certificate", "a PEM certificate file relative to the federation file")
    inline = entry.text("certificate_pem", "a PEM certificate")
    if (path is None) == (inline is None):
        if path is not None or ("certificate" not in entry.table
                                and "certificate_pem" not in entry.table):
            entry.problem("certificate", "expected exactly one of certificate (a PEM file "
                          "relative to the federation file) and certificate_pem")
        return None
    field = "certificate" if inline is None else "certificate_pem"
    try:
        pem = inline if inline is not None else (base_dir / str(path)).read_text("ascii")
    except (OSError, UnicodeDecodeError) as exc:
        entry.problem(field, f"cannot read {base_dir / str(path)}: {exc}; expected a PEM "
                      "certificate file relative to the federation file")
        return None
    wrong = check_certificate(pem)
    if wrong:
        entry.problem(field, wrong)
        return None
    return pem


def parse(entry: Entry, base_dir: Path) -> MetadataSource | None:
    """One [[metadata_sources]] table; problems go on the entry."""
    entry.allow(FIELDS)
    ident = entry.text("id", "an id for the source", required=True)
    url = entry.text("url", "the aggregate's https URL", required=True)
    if url is not None and url_problem(url):
        entry.problem("url", str(url_problem(url)))
    pem = _certificate(entry, base_dir)
    refresh = entry.get("refresh", int, f"a whole number of seconds, at least {MIN_REFRESH}")
    if refresh is not None and refresh < MIN_REFRESH:
        entry.problem("refresh", f"is {refresh}; expected at least {MIN_REFRESH} seconds")
    if ident is None or url is None or pem is None or not entry.clean():
        return None
    return MetadataSource(ident, url, pem, refresh or DEFAULT_REFRESH)


def fetch(source: MetadataSource, now: datetime) -> aggregate.Aggregate:
    """Fetch and verify the source's aggregate; MetadataError says why it cannot be used."""
    xml = metadata.fetch(source.url)
    try:
        return aggregate.verify(xml, source.certificate_pem, source=source.id, now=now)
    except metadata.MetadataError as exc:
        raise metadata.MetadataError(f"the aggregate at {source.url} {exc}") from exc


def load(entry: Entry, base_dir: Path) -> Loaded | None:
    """A [[metadata_sources]] table and its aggregate, fetched now (a problem if it fails)."""
    source = parse(entry, base_dir)
    if source is None:
        return None
    try:
        return Loaded(source, fetch(source, datetime.now(UTC)))
    except metadata.MetadataError as exc:
        entry.problem("url", str(exc))
        return Loaded(source, None)


def export(source: MetadataSource) -> dict[str, Any]:
    """The [[metadata_sources]] table of `source`, its certificate inline."""
    doc: dict[str, Any] = {"id": source.id, "url": source.url,
                           "certificate_pem": source.certificate_pem}
    if source.refresh != DEFAULT_REFRESH:
        doc["refresh"] = source.refresh
    return doc
