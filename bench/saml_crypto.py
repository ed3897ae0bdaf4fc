"""CPU cost of a signed SAML Response in pysaml2: xmlsec1 (default) vs broker.saml.crypto.

    .venv/bin/python -m bench.saml_crypto [iterations]

Measures, per operation, CPU time of this process plus its children (os.times, so the forked
xmlsec1 processes count): the IdP building a Response (signed response and signed assertion)
and the SP parsing it. Then profiles the in-process parse path with cProfile, and measures a
what-if: pysaml2's schema check (sigver.validate_doc_with_schema, pure-Python xmlschema) done by
libxml2 against the same XSD files. That swap is a prototype here, not used by Loper.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import saml2.data.schemas
import saml2.sigver
from lxml import etree  # type: ignore[import-untyped]
from saml2.xml.schema import XMLSchemaError

from broker.saml.crypto import attach
from tests.saml.pair import Pair, authn_request, make_keys, make_pair, parse, signed_response


def cpu() -> float:
    """Seconds of CPU used by this process (fine-grained) and its waited-for children (os.times
    counts in clock ticks, but only the forked xmlsec1 runs add to it)."""
    times = os.times()
    return time.process_time() + times.children_user + times.children_system


def per_op_ms(operation: Callable[[], object], iterations: int) -> float:
    operation()  # warm up: keys, schemas, imports
    start = cpu()
    for _ in range(iterations):
        operation()
    return (cpu() - start) / iterations * 1000


def pairs(folder: Path) -> dict[str, Pair]:
    idp_keys, sp_keys = make_keys(folder, "idp"), make_keys(folder, "sp")
    default = make_pair(idp_keys, sp_keys)
    inprocess = make_pair(idp_keys, sp_keys)
    attach(inprocess.idp)
    attach(inprocess.sp)
    return {"xmlsec1": default, "in-process": inprocess}


def measure(pair: Pair, iterations: int) -> tuple[float, float]:
    request_id = authn_request(pair)
    xml = signed_response(pair, request_id)
    build = per_op_ms(lambda: signed_response(pair, request_id), iterations)
    check = per_op_ms(lambda: parse(pair, xml, request_id), iterations)
    return build, check


def by_package(stats: pstats.Stats) -> dict[str, float]:
    """Own (tottime) seconds per top-level package."""
    totals: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), row in stats.stats.items():  # type: ignore[attr-defined]
        parts = Path(filename).parts
        if "site-packages" in parts:
            package = parts[parts.index("site-packages") + 1]
        elif "broker" in parts:
            package = "broker"
        elif filename.startswith("~") or filename.startswith("<"):
            package = "builtins/C"
        else:
            package = "stdlib"
        totals[package] += row[2]
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def profile(pair: Pair, iterations: int) -> None:
    request_id = authn_request(pair)
    xml = signed_response(pair, request_id)
    parse(pair, xml, request_id)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(iterations):
        parse(pair, xml, request_id)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"\nprofile of {iterations} in-process parses, {total / iterations * 1000:.1f} ms each"
          " (profiler overhead included)")
    print("own time by package, ms per parse:")
    for package, seconds in list(by_package(stats).items())[:8]:
        print(f"  {package:24} {seconds / iterations * 1000:6.2f}")
    stats.sort_stats("cumulative").print_stats(28)


_XSDS = {
    "http://www.w3.org/XML/1998/namespace": "xml.xsd",
    "http://www.w3.org/2000/09/xmldsig#": "xmldsig-core-schema.xsd",
    "http://www.w3.org/2001/04/xmlenc#": "xenc-schema.xsd",
    "http://www.w3.org/2009/xmlenc11#": "xenc-schema-11.xsd",
    "urn:oasis:names:tc:SAML:2.0:assertion": "saml-schema-assertion-2.0.xsd",
    "urn:oasis:names:tc:SAML:2.0:protocol": "saml-schema-protocol-2.0.xsd",
}


class _LocalSchemas(etree.Resolver):  # type: ignore[misc]
    """Resolve the XSDs' remote schemaLocations to pysaml2's bundled copies; no network."""

    def resolve(self, url: str, _pubid: object, context: object) -> object:
        path = resources.files(saml2.data.schemas).joinpath(url.rsplit("/", 1)[-1])
        return self.resolve_filename(str(path), context) if path.is_file() else None


def libxml2_validator() -> Callable[[str], None]:
    """pysaml2's schema check (same XSD files, raises XMLSchemaError) on libxml2."""
    folder = resources.files(saml2.data.schemas)
    imports = "".join(f'<xs:import namespace="{namespace}" schemaLocation="{folder / name}"/>'
                      for namespace, name in _XSDS.items())
    driver = (f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
              f'targetNamespace="urn:loper:bench">{imports}</xs:schema>')
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_LocalSchemas())
    schema = etree.XMLSchema(etree.fromstring(driver.encode(), parser))

    def validate(doc: str) -> None:
        try:
            schema.assertValid(etree.fromstring(doc.encode(), parser))
        except (etree.DocumentInvalid, etree.XMLSyntaxError) as exc:
            raise XMLSchemaError({"doc": doc, "error": str(exc)}) from exc
    return validate


def what_if_libxml2_schema(pair: Pair, iterations: int) -> None:
    request_id = authn_request(pair)
    xml = signed_response(pair, request_id)
    python = per_op_ms(lambda: saml2.sigver.validate_doc_with_schema(xml), iterations)
    original = saml2.sigver.validate_doc_with_schema
    saml2.sigver.validate_doc_with_schema = libxml2_validator()
    try:
        in_c = per_op_ms(lambda: saml2.sigver.validate_doc_with_schema(xml), iterations)
        check = per_op_ms(lambda: parse(pair, xml, request_id), iterations)
    finally:
        saml2.sigver.validate_doc_with_schema = original
    print(f"\nwhat-if, schema check of the whole Response: xmlschema {python:.2f} ms, "
          f"libxml2 {in_c:.2f} ms; in-process parse+verify with libxml2 schema: {check:.1f} ms")


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    warnings.simplefilter("ignore", DeprecationWarning)
    with tempfile.TemporaryDirectory() as folder:
        entities = pairs(Path(folder))
        print(f"CPU ms per operation, {iterations} iterations (process + children):")
        print(f"  {'backend':12} {'build+sign':>11} {'parse+verify':>13}")
        for name, pair in entities.items():
            build, check = measure(pair, iterations)
            print(f"  {name:12} {build:11.1f} {check:13.1f}")
        profile(entities["in-process"], iterations)
        what_if_libxml2_schema(entities["in-process"], iterations)


if __name__ == "__main__":
    main()
