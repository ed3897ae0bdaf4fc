"""Safe decoding of SAML protocol messages before any XML library sees them.

Caps the size of the encoded and the inflated message (a deflate bomb stops at the cap),
rejects anything that is not base64, and rejects DOCTYPE / entity declarations outright
(SAML never needs them; they are the door for XXE and billion laughs). Only UTF-8 (or ASCII,
Latin-1) is read: in UTF-16, UTF-32 or UTF-7 a DOCTYPE does not look like one to a byte search,
so a message in another encoding is refused before the search (and before any parser sees it).
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib

from broker.errors import BadRequest
from broker.saml.xmlparse import Element, NotXml, parse

MAX_ENCODED = 512 * 1024
MAX_XML = 256 * 1024
_B64 = re.compile(rb"^[A-Za-z0-9+/=\s]*$")
_WHITESPACE = b" \t\n\r\x0b\x0c"
"""What \\s matches in _B64 (ASCII bytes)."""
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARED = re.compile(rb"""<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
_READABLE = frozenset({b"utf-8", b"utf8", b"us-ascii", b"ascii", b"iso-8859-1", b"latin1"})
"""Encodings in which `<!DOCTYPE` is the bytes `_DTD` looks for."""


def _b64(value: str | bytes) -> bytes:
    raw = value.encode("ascii", "replace") if isinstance(value, str) else value
    if len(raw) > MAX_ENCODED:
        raise BadRequest("The SAML message is too large.")
    if not raw.strip() or not _B64.match(raw):
        raise BadRequest("The SAML message is not valid base64.")
    try:  # translate, not split: one copy, however many pieces the whitespace makes
        return base64.b64decode(raw.translate(None, _WHITESPACE), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("The SAML message is not valid base64.") from exc


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj(-15)
    try:
        xml = inflater.decompress(data, MAX_XML + 1)
    except zlib.error as exc:
        raise BadRequest("The SAML message is not valid DEFLATE data.") from exc
    if len(xml) > MAX_XML or inflater.unconsumed_tail:
        raise BadRequest("The SAML message inflates beyond the size limit.")
    return xml


def check_xml(xml: bytes) -> bytes:
    """Reject oversize XML, other encodings than UTF-8 and any DTD; return the XML unchanged."""
    if len(xml) > MAX_XML:
        raise BadRequest("The SAML message is too large.")
    if not xml.lstrip().startswith(b"<"):
        raise BadRequest("The SAML message is not XML.")
    declared = _DECLARED.match(xml.lstrip())
    if b"\0" in xml or (declared is not None and declared.group(1).lower() not in _READABLE):
        raise BadRequest("The SAML message is not encoded in UTF-8.")
    if _DTD.search(xml):
        raise BadRequest("The SAML message contains a DOCTYPE or entity declaration.")
    return xml


def decode_post(value: str | bytes) -> bytes:
    """HTTP-POST binding: base64 -> checked XML bytes."""
    return check_xml(_b64(value))


def decode_redirect(value: str | bytes) -> bytes:
    """HTTP-Redirect binding: base64 -> DEFLATE (capped) -> checked XML bytes."""
    return check_xml(_inflate(_b64(value)))


def parse_message(xml: bytes, tag: str, name: str) -> Element:
    """The root of a decoded message (hardened parser), which must be the element `tag`
    (`name`: how to say it, "a SAML Response"); else BadRequest."""
    try:
        root = parse(xml)
    except NotXml as exc:
        raise BadRequest("The SAML message is not well-formed XML.") from exc
    if root.tag != tag:
        raise BadRequest(f"The SAML message is not {name}.")
    return root
