"""What the stubs of xmlsec and lxml leave out or get wrong, typed in one place.

Everything else calls xmlsec and lxml through their stubs directly; this door fills in only
what those stubs miss: xmlsec's transforms looked up by algorithm URI (the stubs type each
constant, but the module's namespace is Any), libxmlsec's version and the real return of
EncryptionContext.decrypt (bytes for an EncryptedKey, where the stubs promise an element), and
lxml's DocInfo.doctype and Resolver.resolve_filename, which lxml-stubs do not declare.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TypeAlias

import xmlsec
from lxml import etree

__all__ = ["TRANSFORM_BY_HREF", "FileResolver", "Transform", "decrypt", "doctype",
           "libxmlsec_version"]

Transform: TypeAlias = "xmlsec.constants.__Transform"
"""An xmlsec transform constant (an algorithm: its href, name and usage)."""

_TRANSFORM = type(xmlsec.constants.TransformEnveloped)


def _transforms() -> Mapping[str, Transform]:
    found: dict[str, Transform] = {}
    for name, value in vars(xmlsec.constants).items():
        if name.startswith("Transform") and isinstance(value, _TRANSFORM) \
                and isinstance(value.href, str):
            found[value.href] = value
    return MappingProxyType(found)


TRANSFORM_BY_HREF: Mapping[str, Transform] = _transforms()
"""Every transform libxmlsec has, by its algorithm URI (its href)."""


def libxmlsec_version() -> tuple[int, ...]:
    """The version of the libxmlsec1 the binding runs on (missing from xmlsec's stubs)."""
    version: tuple[int, ...] = xmlsec.get_libxmlsec_version()  # type: ignore[attr-defined]
    return version


def decrypt(context: xmlsec.EncryptionContext, node: etree._Element) -> etree._Element | bytes:
    """EncryptionContext.decrypt: the decrypted element, in the tree in the EncryptedData's
    place, when it held XML; else the plain bytes, as of an EncryptedKey's session key (the
    stubs promise an element only)."""
    result: etree._Element | bytes = context.decrypt(node)
    return result


def doctype(docinfo: etree.DocInfo) -> str:
    """The document's DOCTYPE declaration, "" if it has none (missing from lxml-stubs)."""
    declared: str = docinfo.doctype  # type: ignore[attr-defined]
    return declared


class FileResolver(etree.Resolver):
    """An lxml resolver that answers every URL with the local file `locate` names (and
    refuses by raising)."""

    def locate(self, url: str) -> Path:
        raise NotImplementedError

    # lxml-stubs give Resolver.resolve two arguments and no resolve_filename; lxml has both.
    def resolve(self, url: str, _pubid: object, context: object) -> object:  # type: ignore[override]
        answer: object = self.resolve_filename(  # type: ignore[attr-defined]
            str(self.locate(url)), context)
        return answer
