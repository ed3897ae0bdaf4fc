"""Reading SAML metadata named in a federation file: fetch or read it, check it, find its entity id.

Only what the registry needs: the entity id and that the entity plays the expected role
(a school is an IdP, a supplier an SP). The SAML adapters read the rest with pysaml2.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Literal

import requests

from broker.outbound import ca_bundle
from broker.registry.checks import url_problem

MAX_BYTES = 5 * 1024 * 1024
TIMEOUT = 10
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
Role = Literal["idp", "sp"]
_DESCRIPTOR = {"idp": "IDPSSODescriptor", "sp": "SPSSODescriptor"}
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


class MetadataError(ValueError):
    """The metadata cannot be used; the message says why."""


def fetch(url: str) -> bytes:
    """GET metadata from an https URL (http only on loopback), at most MAX_BYTES."""
    wrong = url_problem(url)
    if wrong:
        raise MetadataError(wrong)
    try:
        with requests.get(url, timeout=TIMEOUT, stream=True, verify=ca_bundle()) as response:
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
        root = ET.fromstring(xml)  # no DTD (refused above), so no entities
    except (ET.ParseError, ValueError) as exc:  # ValueError: an encoding expat cannot read
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
