"""SAML documents as lxml trees: the one hardened parser (no DTD, so no entities; no network;
no huge trees) and the few serialisations the adapters need, so that nothing outside
broker/saml imports lxml. The adapters hold `Element`s and use their own methods (find, get).

lxml parsers must not be shared between threads, so each thread gets its own.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from types import MappingProxyType

from lxml import etree

from broker.saml.xmlsec_door import doctype

Element = etree._Element
"""An lxml element."""

_NO_ATTRIBUTES: Mapping[str, str | None] = MappingProxyType({})


class NotXml(ValueError):
    """Not well-formed XML, or XML with a DTD; the message says which."""


class _PerThread(threading.local):
    """This thread's hardened parser, once it has made one."""

    parser: etree.XMLParser | None = None


_local = _PerThread()


def hardened_parser() -> etree.XMLParser:
    parser = _local.parser
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                                 load_dtd=False, dtd_validation=False, remove_pis=False)
        _local.parser = parser
    return parser


def has_dtd(root: Element) -> bool:
    """Does the document of `root` carry a DOCTYPE (with or without an internal subset)?"""
    docinfo = root.getroottree().docinfo
    return bool(doctype(docinfo)) or docinfo.internalDTD is not None


def parse(data: str | bytes) -> Element:
    """A SAML document's root element; NotXml if it is not well-formed or has a DTD."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        root = etree.fromstring(raw, hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise NotXml(f"not well-formed XML: {exc}") from exc
    if has_dtd(root):
        raise NotXml("a DTD is not allowed in a SAML message")
    return root


def parse_declaring(data: str | bytes, namespaces: Mapping[str, str],
                    keep_prefixes: Collection[str] = ()) -> Element:
    """parse(), with every namespace of `namespaces` that the element uses declared on its
    root (and unused declarations removed, except those of keep_prefixes, which xsi:type
    values name): so the element can be signed, encrypted and read on its own."""
    root = parse(data)
    etree.cleanup_namespaces(root, top_nsmap=dict(namespaces),
                             keep_ns_prefixes=list(keep_prefixes))
    return root


def new_element(tag: str, namespaces: Mapping[str, str]) -> Element:
    return etree.Element(tag, nsmap=dict(namespaces))


def to_text(element: Element) -> str:
    text: str = etree.tostring(element, encoding="unicode")
    return text


def to_bytes(element: Element) -> bytes:
    return etree.tostring(element)


def child(parent: Element, tag: str, attributes: Mapping[str, str | None] = _NO_ATTRIBUTES,
          text: str | None = None) -> Element:
    """A new last child of `parent`, with its XML attributes set in the order given (None
    values left out) and its text."""
    element = etree.SubElement(parent, tag)
    for name, value in attributes.items():
        if value is not None:
            element.set(name, value)
    if text is not None:
        element.text = text
    return element


def forget_ids(element: Element) -> None:
    """Set the element's XML attributes anew (same order): an ID attribute registered for a
    signature (xmlsec's register_id) becomes a plain attribute again, so the element can move
    to another document safely."""
    attributes = list(element.attrib.items())
    element.attrib.clear()
    for name, value in attributes:
        element.set(name, value)
