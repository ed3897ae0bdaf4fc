"""Where a peer gets its partner's SAML metadata from: XML now, or a callable asked later."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from lxml import etree

MetadataSource = str | Sequence[str] | Callable[[], str | Sequence[str]]
"""One metadata document, several, or a callable returning either (asked on first use, so a
peer can start before its partner is up)."""

MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"

T = TypeVar("T")


def metadata_documents(source: MetadataSource) -> list[str]:
    value = source() if callable(source) else source
    docs = [value] if isinstance(value, str) else list(value)
    if not docs:
        raise ValueError("no SAML metadata given")
    return docs


def entity_id(metadata_xml: str) -> str:
    """The entityID of a metadata document holding one EntityDescriptor."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(metadata_xml.encode(), parser)
    if root.tag != f"{{{MD_NS}}}EntityDescriptor" or not root.get("entityID"):
        raise ValueError("not a SAML EntityDescriptor")
    return str(root.get("entityID"))


class Lazy(Generic[T]):
    """A value built on first use, once, even when several request threads ask at once."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
        return self._value
