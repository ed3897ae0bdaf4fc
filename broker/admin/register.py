"""The operator's registration forms -> School / Supplier records, validated by the very code
that validates a federation file (broker/registry/parse.py), then added by the registry's
import (which checks clashes with what is registered). No Flask here.

"Keep it fresh from this URL" (the form's `keep_fresh`, on by default): metadata fetched from
an https URL is not stored as a copy of that moment; the entry names a new metadata source for
that URL, trusted through TLS (broker/registry/entity_source.py), which the same import adds
in the same transaction, so a refusal leaves nothing half stored. The source is called
`<id>-idp` (a school) or `<id>-sp` (a supplier). It keeps the rule its URL was checked
under: unless the operator allowed private addresses, it is `public_only`, and every refresh
refuses a host that has come to resolve to a non-public address (broker/registry/sources.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from broker import kinds
from broker.admin import fetch
from broker.messages import Message, msg
from broker.records import School, Supplier
from broker.registry import Federation, FederationError, Registry, entity_source, metadata, parse
from broker.registry.checks import Entry, Problem, Problems
from broker.registry.metadata import MetadataError
from broker.registry.sources import Loaded, MetadataSource, lookup

SOURCE, WHERE = "form", "registration"
R = TypeVar("R", School, Supplier)


@dataclass(frozen=True)
class Outcome:
    problems: tuple[Message, ...] = ()
    secret: str | None = None
    """A secret generated for the supplier (OIDC: its client secret): shown once, never again."""
    record: School | Supplier | None = None


def _plain(problems: Iterable[Problem]) -> tuple[Message, ...]:
    """The problems by field, without the file and entry a federation file needs (the form
    is one entry; its metadata field is "metadata")."""
    return tuple((replace(p, field="metadata") if p.field == "metadata_xml" else p).in_field()
                 for p in problems)


def _form_problem(exc: kinds.FormProblem) -> Message:
    return msg("problem.in_field", field=exc.field, problem=exc.message)


def _allows_private(form: Mapping[str, str]) -> bool:
    """Whether the operator allowed private addresses for this registration (the form is the
    operator's: operator.py)."""
    return form.get("allow_private") == "yes"


def _metadata(form: Mapping[str, str], upload: bytes | None) -> str:
    """The metadata as text: the uploaded file, else the URL fetched (SSRF-checked)."""
    url = form.get("metadata_url", "").strip()
    if upload:
        raw = upload
    elif url:
        raw = fetch.fetch(url, allow_private=_allows_private(form))
    else:
        raise MetadataError(msg("problem.no_metadata"))
    if len(raw) > fetch.MAX_BYTES:
        raise MetadataError(msg("problem.the_metadata_too_large", kb=fetch.MAX_BYTES // 1024))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetadataError(msg("problem.the_metadata_not_utf8")) from exc


class _Sources:
    """What a kind's form reader may ask of the request (kinds.FormSources)."""

    def __init__(self, form: Mapping[str, str], upload: bytes | None) -> None:
        self._form = form
        self._upload = upload
        self._allow_private = _allows_private(form)

    def metadata(self) -> str:
        try:
            return _metadata(self._form, self._upload)
        except MetadataError as exc:
            raise kinds.FormProblem("metadata", exc.message) from exc

    def check_host(self, field: str, url: str) -> None:
        host = _host(url)
        if host and not self._allow_private:
            try:
                fetch.resolve(host, 443, allow_private=False)
            except MetadataError as exc:
                raise kinds.FormProblem(field, exc.message) from exc


def _read(kind: kinds.Kind[Any, Any] | None, form: Mapping[str, str], upload: bytes | None,
          table: dict[str, Any]) -> kinds.FormFields:
    """The common fields plus the kind's own; a form naming no known protocol gets only the
    common ones, and the parser then names the protocol problem."""
    if kind is None:
        return kinds.FormFields(table)
    own = kind.form(form, _Sources(form, upload))
    return kinds.FormFields(table | own.table, own.shown_once)


def _keep_fresh(registry: Registry, form: Mapping[str, str], upload: bytes | None,
                table: dict[str, Any], source_id: str) -> tuple[dict[str, Any], tuple[Loaded, ...]]:
    """The entry naming a new tls-trust source for the metadata URL, and that source with the
    document just fetched, if the form asks to keep it fresh; else the entry as it was."""
    url = form.get("metadata_url", "").strip()
    xml = table.get("metadata_xml")
    if form.get("keep_fresh") != "yes" or upload or not url or not isinstance(xml, str):
        return table, ()
    if not url.lower().startswith("https://"):
        raise kinds.FormProblem("metadata_url", msg("problem.tls_needs_https", url=url[:200]))
    if registry.metadata_sources().has(source_id):
        raise kinds.FormProblem("metadata_url", msg("problem.source_exists", id=source_id))
    try:
        found = entity_source.verify(xml.encode(), datetime.now(UTC))
    except MetadataError as exc:
        raise kinds.FormProblem("metadata", exc.message) from exc
    entry = dict(table)
    del entry["metadata_xml"]
    entry |= {"metadata_source": source_id, "entity_id": next(iter(found.entities))}
    source = MetadataSource(source_id, url, "", tls=True, public_only=not _allows_private(form))
    return entry, (Loaded(source, found),)


def _entry(registry: Registry, form: Mapping[str, str], upload: bytes | None,
           read: kinds.FormFields,
           role: metadata.Role) -> tuple[Entry, Problems, tuple[Loaded, ...]]:
    """The form as one federation-file entry (FormProblem if it asks for what cannot be)."""
    ident = form.get("id", "").strip()
    table, loaded = _keep_fresh(registry, form, upload, read.table, f"{ident[:60]}-{role}")
    problems = Problems(SOURCE)
    return Entry(table, WHERE, problems), problems, loaded


def _add(registry: Registry, federation: Federation, key_version: int) -> tuple[Message, ...]:
    try:
        registry.import_federation(federation, key_version=key_version)
    except FederationError as exc:
        return _plain(exc.found)
    return ()


@dataclass(frozen=True)
class _Side(Generic[R]):
    """What registering a school or a supplier differs in."""

    columns: tuple[str, ...]
    """The form's common fields besides id, name and protocol."""
    find: Callable[[Registry, str], R | None]
    exists: Callable[[str], Message]
    """What the form says of an id that is taken."""
    kinds: Callable[[], Mapping[str, kinds.Kind[Any, Any]]]
    role: metadata.Role
    parse: Callable[[Entry, Path], R | None]
    federation: Callable[[R, tuple[Loaded, ...]], Federation]


def _register(side: _Side[R], registry: Registry, form: Mapping[str, str],
              upload: bytes | None, key_version: int) -> Outcome:
    table = kinds.form_values(form, "id", "name", "protocol", *side.columns)
    if side.find(registry, table.get("id", "")) is not None:
        return Outcome((side.exists(table["id"]),))
    named = Problems(SOURCE)  # a bad id or name is said before any metadata is fetched
    parse.id_name(Entry({k: table[k] for k in ("id", "name") if k in table}, WHERE, named))
    if named.items:
        return Outcome(_plain(named.items))
    try:
        read = _read(side.kinds().get(table.get("protocol", "")), form, upload, table)
        entry, problems, loaded = _entry(registry, form, upload, read, side.role)
    except kinds.FormProblem as exc:
        return Outcome((_form_problem(exc),))
    with metadata.sources({s.source.id: lookup(s) for s in loaded}):
        record = side.parse(entry, Path("."))
    if record is None:
        return Outcome(_plain(problems.items))
    wrong = _add(registry, side.federation(record, loaded), key_version)
    return Outcome(wrong) if wrong else Outcome(secret=read.shown_once, record=record)


_SUPPLIERS: _Side[Supplier] = _Side(
    ("url", "profile"), Registry.supplier,
    lambda ident: msg("problem.supplier_exists", id=ident), kinds.downstreams, "sp",
    parse.supplier, lambda supplier, loaded: Federation(suppliers=(supplier,), source=SOURCE,
                                                        metadata_sources=loaded))
_SCHOOLS: _Side[School] = _Side(
    ("place",), Registry.school,
    lambda ident: msg("problem.school_exists", id=ident), kinds.upstreams, "idp",
    parse.school, lambda school, loaded: Federation(schools=(school,), source=SOURCE,
                                                    metadata_sources=loaded))


def register_supplier(registry: Registry, form: Mapping[str, str], upload: bytes | None,
                      key_version: int) -> Outcome:
    return _register(_SUPPLIERS, registry, form, upload, key_version)


def register_school(registry: Registry, form: Mapping[str, str], upload: bytes | None,
                    key_version: int) -> Outcome:
    return _register(_SCHOOLS, registry, form, upload, key_version)


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
