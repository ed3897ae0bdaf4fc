"""The operator's registration forms -> School / Supplier records, validated by the very code
that validates a federation file (broker/registry/parse.py), then added by the registry's
import (which checks clashes with what is registered). No Flask here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from broker import kinds
from broker.admin import fetch
from broker.records import School, Supplier
from broker.registry import Federation, FederationError, Registry, parse
from broker.registry.checks import Entry, Problems
from broker.registry.metadata import MetadataError

SOURCE, WHERE = "form", "registration"


@dataclass(frozen=True)
class Outcome:
    problems: tuple[str, ...] = ()
    secret: str | None = None
    """A secret generated for the supplier (OIDC: its client secret): shown once, never again."""
    record: School | Supplier | None = None


def _plain(problems: list[str]) -> tuple[str, ...]:
    """Problem texts without the file-and-entry prefix a federation file needs."""
    out = []
    for text in problems:
        for prefix in (f"{SOURCE}: {WHERE}, ", f"{SOURCE}: {WHERE}: ", f"{SOURCE}: "):
            text = text.removeprefix(prefix)
        out.append(text.replace('field "metadata_xml"', "metadata"))
    return tuple(out)


def _metadata(form: Mapping[str, str], upload: bytes | None) -> str:
    """The metadata as text: the uploaded file, else the URL fetched (SSRF-checked)."""
    url = form.get("metadata_url", "").strip()
    if upload:
        raw = upload
    elif url:
        raw = fetch.fetch(url, allow_private=form.get("allow_private") == "yes")
    else:
        raise MetadataError("missing: upload the SAML metadata file or give its https URL")
    if len(raw) > fetch.MAX_BYTES:
        raise MetadataError(f"the metadata is larger than {fetch.MAX_BYTES // 1024} KB")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetadataError("the metadata is not UTF-8 encoded text") from exc


class _Sources:
    """What a kind's form reader may ask of the request (kinds.FormSources)."""

    def __init__(self, form: Mapping[str, str], upload: bytes | None) -> None:
        self._form = form
        self._upload = upload
        self._allow_private = form.get("allow_private") == "yes"

    def metadata(self) -> str:
        try:
            return _metadata(self._form, self._upload)
        except MetadataError as exc:
            raise kinds.FormProblem("metadata", str(exc)) from exc

    def check_host(self, field: str, url: str) -> None:
        host = _host(url)
        if host and not self._allow_private:
            try:
                fetch.resolve(host, 443, allow_private=False)
            except MetadataError as exc:
                raise kinds.FormProblem(field, str(exc)) from exc


def _read(kind: kinds.Kind[Any, Any] | None, form: Mapping[str, str], upload: bytes | None,
          table: dict[str, Any]) -> kinds.FormFields:
    """The common fields plus the kind's own; a form naming no known protocol gets only the
    common ones, and the parser then names the protocol problem."""
    if kind is None:
        return kinds.FormFields(table)
    own = kind.form(form, _Sources(form, upload))
    return kinds.FormFields(table | own.table, own.shown_once)


def _add(registry: Registry, federation: Federation, key_version: int) -> tuple[str, ...]:
    try:
        registry.import_federation(federation, key_version=key_version)
    except FederationError as exc:
        return _plain(list(exc.problems))
    return ()


def register_supplier(registry: Registry, form: Mapping[str, str], upload: bytes | None,
                      key_version: int) -> Outcome:
    table = kinds.form_values(form, "id", "name", "protocol", "url", "profile")
    if registry.supplier(table.get("id", "")) is not None:
        return Outcome((f'a supplier with id "{table["id"]}" is already registered',))
    try:
        read = _read(kinds.downstreams().get(table.get("protocol", "")), form, upload, table)
    except kinds.FormProblem as exc:
        return Outcome((str(exc),))
    problems = Problems(SOURCE)
    supplier = parse.supplier(Entry(read.table, WHERE, problems), Path("."))
    if supplier is None:
        return Outcome(_plain(problems.items))
    wrong = _add(registry, Federation(suppliers=(supplier,), source=SOURCE), key_version)
    return Outcome(wrong) if wrong else Outcome(secret=read.shown_once, record=supplier)


def register_school(registry: Registry, form: Mapping[str, str], upload: bytes | None,
                    key_version: int) -> Outcome:
    table = kinds.form_values(form, "id", "name", "protocol", "place")
    if registry.school(table.get("id", "")) is not None:
        return Outcome((f'a school with id "{table["id"]}" is already registered',))
    try:
        read = _read(kinds.upstreams().get(table.get("protocol", "")), form, upload, table)
    except kinds.FormProblem as exc:
        return Outcome((str(exc),))
    problems = Problems(SOURCE)
    school = parse.school(Entry(read.table, WHERE, problems), Path("."))
    if school is None:
        return Outcome(_plain(problems.items))
    wrong = _add(registry, Federation(schools=(school,), source=SOURCE), key_version)
    return Outcome(wrong) if wrong else Outcome(record=school)


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
