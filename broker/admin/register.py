"""The operator's registration forms -> School / Supplier records, validated by the very code
that validates a federation file (broker/registry/parse.py), then added by the registry's
import (which checks clashes with what is registered). No Flask here.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
    """An OIDC supplier's generated client secret: shown once, never again."""
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


def _table(form: Mapping[str, str], fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: form[name].strip() for name in fields if form.get(name, "").strip()}


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def _add(registry: Registry, federation: Federation, key_version: int) -> tuple[str, ...]:
    try:
        registry.import_federation(federation, key_version=key_version)
    except FederationError as exc:
        return _plain(list(exc.problems))
    return ()


def register_supplier(registry: Registry, form: Mapping[str, str], upload: bytes | None,
                      key_version: int) -> Outcome:
    table = _table(form, ("id", "name", "protocol", "url"))
    secret = None
    if registry.supplier(table.get("id", "")) is not None:
        return Outcome((f'a supplier with id "{table["id"]}" is already registered',))
    try:
        if table.get("protocol") == "saml":
            table["metadata_xml"] = _metadata(form, upload)
        elif table.get("protocol") == "oidc":
            secret = secrets.token_urlsafe(32)
            table |= {"client_id": form.get("client_id", "").strip() or table.get("id", ""),
                      "client_secret": secret,
                      "redirect_uris": _lines(form.get("redirect_uris", ""))}
    except MetadataError as exc:
        return Outcome((f"metadata: {exc}",))
    problems = Problems(SOURCE)
    supplier = parse.supplier(Entry(table, WHERE, problems), Path("."))
    if supplier is None:
        return Outcome(_plain(problems.items))
    wrong = _add(registry, Federation(suppliers=(supplier,), source=SOURCE), key_version)
    return Outcome(wrong) if wrong else Outcome(secret=secret, record=supplier)


def register_school(registry: Registry, form: Mapping[str, str], upload: bytes | None,
                    key_version: int) -> Outcome:
    table = _table(form, ("id", "name", "protocol", "place"))
    if registry.school(table.get("id", "")) is not None:
        return Outcome((f'a school with id "{table["id"]}" is already registered',))
    try:
        if table.get("protocol") == "saml":
            table |= _table(form, ("subject",))
            table["metadata_xml"] = _metadata(form, upload)
    except MetadataError as exc:
        return Outcome((f"metadata: {exc}",))
    if table.get("protocol") == "oidc":
        table |= _table(form, ("issuer", "client_id", "client_secret", "subject"))
        host = _host(str(table.get("issuer", "")))
        if host and form.get("allow_private") != "yes":
            try:
                fetch.resolve(host, 443, allow_private=False)
            except MetadataError as exc:
                return Outcome((f"issuer: {exc}",))
    problems = Problems(SOURCE)
    school = parse.school(Entry(table, WHERE, problems), Path("."))
    if school is None:
        return Outcome(_plain(problems.items))
    wrong = _add(registry, Federation(schools=(school,), source=SOURCE), key_version)
    return Outcome(wrong) if wrong else Outcome(record=school)


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
