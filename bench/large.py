"""A large registry: thousands of synthetic schools and suppliers next to the demo federation.

Schools are SAML IdPs with small metadata (one shared certificate: the key is never used, no
login reaches them); suppliers are SAML SPs and OIDC clients; every school releases a few
attributes to a few suppliers. Written as one federation file and imported the way an operator
does (`broker federation import`), into a registry of its own; that registry is kept in
~/.cache/loper-bench/large/ for as long as neither the spec nor the registry's code changes
(50,000 schools take minutes to import), and each run adds its own demo federation to a copy.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from cryptography import x509
from cryptography.hazmat.primitives import serialization

PLACES = ("Utrecht", "Amersfoort", "Zwolle", "Groningen", "Leeuwarden", "Assen", "Arnhem",
          "Nijmegen", "Tilburg", "Breda", "Eindhoven", "Maastricht", "Delft", "Leiden", "Haarlem",
          "Alkmaar", "Hoorn", "Deventer", "Enschede", "Apeldoorn", "Middelburg", "Den Bosch")
KINDS = ("Basisschool", "OBS", "CBS", "Kindcentrum", "Lyceum", "College", "Montessorischool")
WORDS = ("De Regenboog", "Het Kompas", "De Wilgen", "Het Baken", "De Linde", "De Vlinder",
         "Het Palet", "De Horizon", "De Sterrenwacht", "Het Anker", "De Eik", "De Zonnewijzer")
ATTRIBUTES = ("role", "given_name", "family_name", "groups", "school_id", "display_name")
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
DB = "large-registry.sqlite"


@dataclass(frozen=True)
class LargeSpec:
    schools: int = 5000
    suppliers: int = 1000
    releases_per_school: int = 3
    oidc_share: float = 0.4
    seed: int = 20261128


def _certificate(cert_file: Path) -> str:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


def _key_descriptor(cert: str) -> str:
    return ('<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
            f"{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>")


def _entity(entity_id: str, body: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">'
            f"{body}</md:EntityDescriptor>\n")


def idp_metadata(host: str, cert: str) -> str:
    return _entity(f"https://{host}/saml/metadata", (
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{_key_descriptor(cert)}<md:NameIDFormat>{PERSISTENT}</md:NameIDFormat>"
        f'<md:SingleSignOnService Binding="{REDIRECT}" Location="https://{host}/saml/sso"/>'
        "</md:IDPSSODescriptor>"))


def sp_metadata(host: str, cert: str) -> str:
    return _entity(f"https://{host}/saml/metadata", (
        '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" '
        'WantAssertionsSigned="true">'
        f"{_key_descriptor(cert)}<md:NameIDFormat>{PERSISTENT}</md:NameIDFormat>"
        f'<md:AssertionConsumerService Binding="{POST}" Location="https://{host}/saml/acs" '
        'index="0"/></md:SPSSODescriptor>'))


def federation_document(spec: LargeSpec, cert: str) -> dict[str, Any]:
    rng = random.Random(spec.seed)
    schools = []
    for i in range(spec.schools):
        host = f"idp.school-{i:05d}.example"
        schools.append({"id": f"school-{i:05d}",
                        "name": f"{rng.choice(KINDS)} {rng.choice(WORDS)} {i}",
                        "protocol": "saml", "place": rng.choice(PLACES),
                        "metadata_xml": idp_metadata(host, cert), "subject": "nameid"})
    suppliers: list[dict[str, Any]] = []
    n_oidc = round(spec.suppliers * spec.oidc_share)
    for j in range(spec.suppliers):
        host = f"app-{j:04d}.supplier.example"
        entry: dict[str, Any] = {
            "id": f"supplier-{j:04d}", "name": f"Leermiddel {j:04d}", "url": f"https://{host}/",
            "requests": [{"attribute": "given_name", "why": "greets the pupil by name"},
                         {"attribute": "role", "why": "pupils and teachers see other screens"}]}
        if j < n_oidc:
            entry.update(protocol="oidc", client_id=f"client-{j:04d}",
                         client_secret=f"secret-{j:04d}-{rng.getrandbits(64):016x}",
                         redirect_uris=[f"https://{host}/callback"])
        else:
            entry.update(protocol="saml", metadata_xml=sp_metadata(host, cert))
        suppliers.append(entry)
    releases = []
    for school in schools:
        for supplier in rng.sample(suppliers, min(spec.releases_per_school, len(suppliers))):
            releases.append({"school": school["id"], "supplier": supplier["id"],
                             "attributes": rng.sample(ATTRIBUTES, 3)})
    return {"schools": schools, "suppliers": suppliers, "releases": releases}


@dataclass(frozen=True)
class LargeRegistry:
    url: str
    file: Path
    file_bytes: int
    generate_s: float
    import_s: float
    summary: str


CACHE = Path.home() / ".cache" / "loper-bench" / "large"
ROOT = Path(__file__).resolve().parent.parent


def _cache_key(spec: LargeSpec) -> str:
    """Changes with the spec and with the registry's code (what an import stores; its
    migrations are in broker/registry/ too, and a copy is upgraded before use anyway)."""
    digest = hashlib.sha256(repr(spec).encode())
    for path in sorted([*(ROOT / "broker" / "registry").rglob("*.py"), Path(__file__)]):
        digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _build(folder: Path, spec: LargeSpec, key_version: int) -> dict[str, Any]:
    """Generate the federation file and import it into a registry of its own in `folder`."""
    from broker.registry import Registry
    from broker.registry.federation import load_federation
    from demo.keys import ensure_keypair

    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    _, cert_file = ensure_keypair(folder, "synthetic")
    document = federation_document(spec, _certificate(cert_file))
    path = folder / "large-federation.toml"
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    generated = time.perf_counter() - started
    registry = Registry(f"sqlite:///{folder / DB}")
    try:
        registry.upgrade()
        started = time.perf_counter()
        summary = registry.import_federation(load_federation(path), key_version=key_version)
        imported = time.perf_counter() - started
    finally:
        registry.close()
    db = sqlite3.connect(folder / DB)
    try:  # everything into the database file itself
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    meta = {"file_bytes": path.stat().st_size, "generate_s": round(generated, 2),
            "import_s": round(imported, 2), "summary": str(summary)}
    path.unlink()  # the registry holds it all; the file is only measured
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return meta


def build_large_registry(folder: Path, demo_federation: Path, key_version: int,
                         spec: LargeSpec, cache: Path = CACHE) -> LargeRegistry:
    """The large registry in `folder`: the synthetic federation (built once per spec and code,
    kept in `cache`: importing 50,000 schools takes minutes) plus this run's demo federation."""
    from broker.registry import Registry
    from broker.registry.federation import load_federation
    from broker.registry.ledger import HEAD_SUFFIX

    built = cache / _cache_key(spec)
    if not (built / "meta.json").exists():
        print(f"  importing the large registry once (kept in {built}) ...", flush=True)
        partial = built.with_suffix(".partial")  # a build that was stopped: started again
        shutil.rmtree(partial, ignore_errors=True)
        _build(partial, spec, key_version)
        partial.rename(built)
    meta = json.loads((built / "meta.json").read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    for name in (DB, DB + HEAD_SUFFIX):
        if (built / name).exists():
            shutil.copyfile(built / name, folder / name)
    url = f"sqlite:///{folder / DB}"
    registry = Registry(url)
    try:
        registry.upgrade()
        registry.import_federation(load_federation(demo_federation), key_version=key_version)
    finally:
        registry.close()
    return LargeRegistry(url, folder / DB, meta["file_bytes"], meta["generate_s"],
                         meta["import_s"], meta["summary"])
