"""The one hardened XML parser: no DTD (so no entities), no network, no huge trees.

lxml parsers must not be shared between threads, so each thread gets its own.
"""

from __future__ import annotations

import threading

from lxml import etree  # type: ignore[import-untyped]

_local = threading.local()


def hardened_parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                                 load_dtd=False, dtd_validation=False, remove_pis=False)
        _local.parser = parser
    return parser
