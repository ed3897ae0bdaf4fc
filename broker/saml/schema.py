"""pysaml2's XML Schema check on libxml2 (lxml.etree.XMLSchema) instead of the xmlschema package.

Before it checks a signature, pysaml2 (saml2.sigver.SecurityContext._check_signature) validates
the signed element's XML with `validate_doc_with_schema(str(item))`, which is
`saml2.xml.schema.validate(doc, validator=None)`: the pure-Python `xmlschema` package against
pysaml2's bundled XSD files, about 2 ms per message. `validate_doc_with_schema` here keeps that
contract (same schema set, returns None, raises saml2.xml.schema.XMLSchemaError({"doc": doc,
"error": message}) chained to the cause) and does it in libxml2 in tens of microseconds.

The schema set is the one pysaml2 builds (saml2.xml.schema._create_xml_schema_validator): the
SAML protocol, assertion and metadata schemas, XML-DSig, XML-Enc 1.0 and 1.1, xml.xsd, SOAP 1.1
envelope and the four eIDAS schemas, all from saml2/data/schemas. It is compiled once per process
and nothing is ever fetched: every schemaLocation is mapped to a bundled file and the parsers
have no network and no entity expansion.

Where the two validators differ, this one refuses and xmlschema accepts (each case is in
tests/saml/test_schema.py, DIFFERENCES):
  - xmlschema bugs, where the XSD says invalid: an xsi:type whose prefix is rebound below the
    root (xmlschema resolves it with the root's prefixes), text in the element-only
    samlp:Extensions, xml:lang="en us", and xs:anyURI values that are no URI reference
    ("http://[::1", "http://x/%zz", "http://x/#a#b", "::");
  - stricter than the XSD: an xs:dateTime with surrounding spaces (the XSD collapses them;
    libxml2 does not), a text node or attribute over 10 MB and nesting deeper than 256
    (libxml2's parser limits; xmlschema also fails past Python's recursion limit), any DTD
    (xmlschema's expat expands internal entities), and an undeclared root element carrying
    xsi:type (xmlschema validates it against that type);
  - anything but XML text (str or bytes) goes to pysaml2's own validator, as does a call with
    an explicit `validator`; a one-line string not starting with '<' (which xmlschema would open
    as a URL or file) is refused without being opened.

`install()` puts `validate_doc_with_schema` where pysaml2 looks it up; broker.saml.crypto.attach
calls it, so every process that attaches the in-process crypto backend validates on libxml2.
"""

from __future__ import annotations

import threading
from pathlib import Path

from lxml import etree

from broker.saml.compat import (
    XMLSchemaError,
    install_schema_validator,
    original_schema_validator,
    schema_folder,
    schema_validator_installed,
)
from broker.saml.xmlparse import has_dtd
from broker.saml.xmlsec_door import FileResolver

__all__ = ["NAMESPACES", "Invalid", "XMLSchemaError", "assert_valid", "compiled", "install",
           "installed", "pure_python_validate", "validate_doc_with_schema"]

NAMESPACES: dict[str, str] = {
    "http://www.w3.org/XML/1998/namespace": "xml.xsd",
    "http://schemas.xmlsoap.org/soap/envelope/": "envelope.xsd",
    "http://www.w3.org/2001/04/xmlenc#": "xenc-schema.xsd",
    "http://www.w3.org/2009/xmlenc11#": "xenc-schema-11.xsd",
    "http://www.w3.org/2000/09/xmldsig#": "xmldsig-core-schema.xsd",
    "urn:oasis:names:tc:SAML:2.0:assertion": "saml-schema-assertion-2.0.xsd",
    "urn:oasis:names:tc:SAML:2.0:metadata": "saml-schema-metadata-2.0.xsd",
    "urn:oasis:names:tc:SAML:2.0:protocol": "saml-schema-protocol-2.0.xsd",
    "http://eidas.europa.eu/metadata/servicelist": "eidas-schema-metadata-servicelist.xsd",
    "http://eidas.europa.eu/saml-extensions": "eidas-schema-saml-extensions.xsd",
    "http://eidas.europa.eu/attributes/naturalperson": "eidas-schema-attribute-naturalperson.xsd",
    "http://eidas.europa.eu/attributes/legalperson": "eidas-schema-attribute-legalperson.xsd",
}
"""Namespace -> bundled XSD: the `locations` pysaml2 gives xmlschema, in import order."""

_REMOTE: dict[str, str] = {
    "http://www.w3.org/TR/2002/REC-xmldsig-core-20020212/xmldsig-core-schema.xsd":
        "xmldsig-core-schema.xsd",
    "http://www.w3.org/TR/2002/REC-xmlenc-core-20021210/xenc-schema.xsd": "xenc-schema.xsd",
    "http://www.w3.org/2001/xml.xsd": "xml.xsd",
    "http://schemas.xmlsoap.org/soap/envelope/": "envelope.xsd",
}
"""The schemaLocation URLs written in the bundled XSDs -> the bundled copy."""

pure_python_validate = original_schema_validator
"""pysaml2's own validator (xmlschema), kept for the cases handed back to it and for tests."""


def _folder() -> Path:
    return schema_folder()


class _BundledOnly(FileResolver):
    """Resolve schemaLocations to pysaml2's bundled XSD files; refuse anything else."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder.resolve()

    def locate(self, url: str) -> Path:
        name = _REMOTE.get(url)
        path = self.folder / name if name else Path(url.removeprefix("file://")).resolve()
        if path.parent != self.folder or not path.is_file():
            raise XMLSchemaError(f"schema location {url!r} is not a bundled pysaml2 XSD")
        return path


def _compile() -> etree.XMLSchema:
    folder = _folder()
    imports = "".join(f'<xs:import namespace="{namespace}" schemaLocation="{folder / name}"/>'
                      for namespace, name in NAMESPACES.items())
    driver = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
              f'targetNamespace="urn:loper:saml-schema-set">{imports}</xs:schema>')
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_BundledOnly(folder))
    return etree.XMLSchema(etree.fromstring(driver.encode(), parser))


_lock = threading.Lock()
"""Guards compiling, installing and each validation (lxml keeps one error log per XMLSchema
object, so concurrent validations would mix up their messages; a check takes ~40 us)."""
_schema: etree.XMLSchema | None = None


class _PerThread(threading.local):
    """This thread's parsers, by whether they read str input."""

    def __init__(self) -> None:
        self.parsers: dict[bool, etree.XMLParser] = {}


_local = _PerThread()


def compiled() -> etree.XMLSchema:
    """The process's one compiled schema set (compiled on first use, about 3 ms)."""
    global _schema
    if _schema is None:
        with _lock:
            if _schema is None:
                _schema = _compile()
    return _schema


def _parser(text: bool) -> etree.XMLParser:
    """Per thread: a hardened parser; for str input one that ignores the declared encoding
    (the str is handed to libxml2 as UTF-8, whatever its XML declaration says)."""
    parser = _local.parsers.get(text)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                                 load_dtd=False, dtd_validation=False,
                                 encoding="utf-8" if text else None)
        _local.parsers[text] = parser
    return parser


def _xml_bytes(doc: str | bytes) -> bytes:
    """doc as bytes for libxml2, refusing what pysaml2's validator would not parse as XML text:
    what xmlschema's is_url() takes for a URL or path (one line, not starting with '<', and for
    bytes ASCII), which it would open, and bytes that are not UTF-8 (it decodes them as UTF-8
    whatever their XML declaration says)."""
    if isinstance(doc, str):
        one_line, starts, url_like = "\n" not in doc, doc.lstrip().startswith("<"), True
        data = doc.encode("utf-8")
    else:
        one_line, starts, url_like = b"\n" not in doc, doc.lstrip().startswith(b"<"), doc.isascii()
        doc.decode("utf-8")  # UnicodeDecodeError, as in pysaml2's validator
        data = doc
    if one_line and not starts and url_like:
        raise ValueError("not an XML text (pysaml2's validator would open it as a URL or file)")
    return data


def _check(doc: str | bytes) -> None:
    """Parse doc and validate it; raise (anything) if it is not valid."""
    root = etree.fromstring(_xml_bytes(doc), _parser(isinstance(doc, str)))
    if has_dtd(root):
        raise ValueError("a DTD is not allowed in a SAML document")
    schema = compiled()
    with _lock:
        schema.assertValid(root)


class Invalid(ValueError):
    """The element is not valid against the schema set; the message says why (and may quote
    the document's values)."""


def assert_valid(element: etree._Element) -> None:
    """Validate an element of a parsed document (with the namespaces its ancestors declare)
    against pysaml2's schema set; Invalid if it is not valid."""
    schema = compiled()
    with _lock:
        try:
            schema.assertValid(element)
        except etree.DocumentInvalid as exc:
            raise Invalid(str(exc)) from exc


def validate_doc_with_schema(doc: object, validator: object = None) -> None:
    """saml2.xml.schema.validate on libxml2: None if doc (XML text, str or bytes) is valid
    against pysaml2's schema set, else XMLSchemaError({"doc": doc, "error": message}).

    With an explicit `validator` (an xmlschema schema), or a doc that is not XML text (a
    path, URL, file or element tree, which xmlschema would load), pysaml2's own validator runs.
    """
    if validator is not None or not isinstance(doc, str | bytes):
        pure_python_validate(doc, validator)
        return
    try:
        _check(doc)
    except Exception as exc:  # like pysaml2: every failure is an XMLSchemaError
        raise XMLSchemaError({"doc": doc, "error": str(exc)}) from exc


def installed() -> bool:
    return schema_validator_installed(validate_doc_with_schema)


def install() -> None:
    """Make pysaml2 validate with `validate_doc_with_schema` (broker.saml.compat), idempotently.

    Compiles the schema set now, so a broken installation fails at start-up.
    """
    compiled()
    install_schema_validator(validate_doc_with_schema)
