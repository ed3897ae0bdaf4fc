"""The one hardened XML parser: no DTD (so no entities), no network, no huge trees.

lxml parsers must not be shared between threads, so each thread gets its own.
"""

from __future__ import annotations

import threading

from lxml import etree

_local = threading.local()


def hardened_parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                                 load_dtd=False, dtd_validation=False, remove_pis=False)
        _local.parser = parser
    return parser


def has_dtd(root: etree._Element) -> bool:
    """Does the document of `root` carry a DOCTYPE (with or without an internal subset)?"""
    docinfo = root.getroottree().docinfo
    doctype: str = docinfo.doctype  # type: ignore[attr-defined]  # missing in lxml-stubs
    return bool(doctype) or docinfo.internalDTD is not None
