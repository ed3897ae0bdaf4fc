"""Reading SAML metadata named in a federation file: fetch or read it, check it, find its entity id.

Only what the registry needs: the entity id and that the entity plays the expected role
(a school is an IdP, a supplier an SP). The SAML adapters read the rest with pysaml2.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import requests
from lxml import etree  # type: ignore[import-untyped]

from broker.outbound import ca_bundle
from broker.registry.checks import Entry, url_problem
from broker.xmlparse import hardened_parser

MAX_BYTES = 5 * 1024 * 1024
TIMEOUT = 10
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
Role = Literal["idp", "sp"]
_DESCRIPTOR = {"idp": "IDPSSODescriptor", "sp": "SPSSODescriptor"}
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_EXPECTED = {"idp": "SAML 2.0 metadata with an IDPSSODescriptor (a school's identity provider)",
             "sp": "SAML 2.0 metadata with an SPSSODescriptor (a supplier's service provider)"}
FIELDS = frozenset({"metadata", "metadata_xml"})
"""The federation-file fields `from_entry` reads."""


class MetadataError(ValueError):
    """The metadata cannot be used; the message says why."""


def fetch(url: str) -> bytes:
    """GET metadata from an https URL (http only on loopback), at most MAX_BYTES."""
    wrong = url_problem(url)
    if wrong:
        raise MetadataError(wrong)
    try:
        with requests.get(url, timeout=TIMEOUT, stream=True, verify=ca_bundle(),
                          allow_redirects=False) as response:
            if response.is_redirect:
                location = response.headers.get("Location", "")[:200]
                raise MetadataError(f"cannot fetch {url}: it redirects to {location}; expected "
                                    "200 with the metadata (redirects are not followed)")
            response.raise_for_status()
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_BYTES:
                    raise MetadataError(f"{url} is larger than {MAX_BYTES // (1024 * 1024)} MB")
            return bytes(body)
    except requests.RequestException as exc:
        raise MetadataError(f"cannot fetch {url}: {exc}") from exc


def read(reference: str, base_dir: Path) -> bytes:
    """Metadata from an https URL or a path relative to `base_dir` (the federation file's)."""
    if "://" in reference:
        return fetch(reference)
    path = base_dir / reference
    try:
        if path.stat().st_size > MAX_BYTES:
            raise MetadataError(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MB")
        return path.read_bytes()
    except OSError as exc:
        raise MetadataError(f"cannot read {path}: {exc.strerror or exc}") from exc


def as_text(xml: bytes) -> str:
    """The metadata as text to store: UTF-8, line ends normalised as XML itself does."""
    try:
        text = xml.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetadataError("is not UTF-8 encoded") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def entity_id(xml: bytes, role: Role) -> str:
    """The entityID of an EntityDescriptor that has the descriptor for `role`."""
    if len(xml) > MAX_BYTES:
        raise MetadataError(f"is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if _DTD.search(xml):
        raise MetadataError("contains a DOCTYPE or entity declaration, which is not allowed")
    try:
        root = etree.fromstring(xml, hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise MetadataError(f"is not well-formed XML ({exc})") from exc
    if root.tag != f"{{{MD}}}EntityDescriptor":
        raise MetadataError(f"has the root element {root.tag}, not an EntityDescriptor")
    entity = str(root.get("entityID", "")).strip()
    if not entity:
        raise MetadataError("has an EntityDescriptor without entityID")
    descriptor = _DESCRIPTOR[role]
    if root.find(f"{{{MD}}}{descriptor}") is None:
        raise MetadataError(f'of entity "{entity}" has no {descriptor}')
    return entity


def from_entry(entry: Entry, base_dir: Path, role: Role) -> tuple[str, str] | None:
    """(metadata XML, entity id) from `metadata` (path or URL) or `metadata_xml` (inline)."""
    where = "a path relative to the federation file or an https URL, or metadata_xml"
    reference = entry.text("metadata", where)
    inline = entry.text("metadata_xml", _EXPECTED[role])
    if reference is not None and inline is not None:
        entry.problem("metadata", 'both "metadata" and "metadata_xml" are set; expected one')
        return None
    field = "metadata" if inline is None else "metadata_xml"
    if reference is None and inline is None:
        if "metadata" not in entry.table and "metadata_xml" not in entry.table:
            entry.problem("metadata", f"missing; expected {where}")
        return None
    wrong = url_problem(reference) if reference and "://" in reference else None
    if wrong:
        entry.problem(field, wrong)
        return None
    try:
        xml = inline.encode() if inline is not None else read(str(reference), base_dir)
    except MetadataError as exc:
        entry.problem(field, f"{exc}; expected {where}")
        return None
    try:
        return as_text(xml), entity_id(xml, role)
    except MetadataError as exc:
        entry.problem(field, f"the metadata {exc}; expected {_EXPECTED[role]}")
        return None
