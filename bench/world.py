"""The federation the bench logs in through: Loper's instance, the demo peers, the registry.

Built from the demo's building blocks (broker.instance.initialise, the demo peers' engines and
metadata, demo.federation.write_federation, Registry.import_federation), plus an OIDC school
(demo/school_op.py, served on a loopback port in this process) and an OIDC supplier (the bench
itself as relying party), so that every pair of protocols can be measured. Which pairs run is
read back from the registry: every registered school and supplier the bench can drive, with a
release policy between them.
"""

from __future__ import annotations

import secrets
import threading
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from werkzeug.serving import BaseWSGIServer, make_server

from bench.peers import (
    OidcRpDriver,
    OidcSchoolDriver,
    SamlSchoolDriver,
    SamlSupplierDriver,
    SchoolDriver,
    SupplierDriver,
)
from bench.procs import HOST

UNSERVED = f"http://{HOST}:9"
"""Base of the peers that are never contacted over HTTP (their engines run in the bench)."""
OIDC_SCHOOL = "lyceum"
OIDC_SUPPLIER = "bench-rp"
RELEASE = ["role", "given_name", "family_name", "groups"]


@dataclass(frozen=True)
class Scenario:
    school: SchoolDriver
    supplier: SupplierDriver

    @property
    def pair(self) -> str:
        return f"{self.school.protocol}->{self.supplier.protocol}"

    @property
    def name(self) -> str:
        return f"{self.pair} {self.school.id}->{self.supplier.id}"


@dataclass
class World:
    folder: Path
    loper: str
    overrides: dict[str, Any]
    federation: Path
    key_version: int
    schools: dict[str, SchoolDriver] = field(default_factory=dict)
    suppliers: dict[str, SupplierDriver] = field(default_factory=dict)
    scenarios: list[Scenario] = field(default_factory=list)
    undriven: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _stops: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        while self._stops:
            self._stops.pop()()


def _in_process_crypto(tool: Any) -> str:
    """Let the demo school sign in-process (peer cost only); xmlsec1 forks when unavailable."""
    try:
        from broker.saml.crypto import attach
        attach(tool.server)
    except Exception as exc:  # the module is young: any failure means "use xmlsec1"
        return f"school responses signed by xmlsec1 (in-process signing unavailable: {exc})"
    return "school responses signed in-process (broker.saml.crypto)"


def _serve(make_app: Callable[[str], Any], name: str) -> tuple[str, Callable[[], None]]:
    """A threaded werkzeug server on a free loopback port, as demo/stack.py serves peers."""
    holder: dict[str, Any] = {}

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return holder["app"](environ, start_response)

    server: BaseWSGIServer = make_server(HOST, 0, wsgi, threaded=True)
    url = f"http://{HOST}:{server.server_port}"
    holder["app"] = make_app(url)
    thread = threading.Thread(target=server.serve_forever, name=f"bench-{name}", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()

    return url, stop


def _loper_metadata(overrides: Mapping[str, Any]) -> tuple[dict[str, str], int]:
    from app import create_app

    app = create_app(overrides)
    broker = app.extensions["loper"]
    try:
        return dict(broker.metadata), int(broker.pseudonym_keys.current)
    finally:
        broker.store.close()
        broker.registry.close()


def _oidc_entries(doc: dict[str, Any], issuer: str, school_secret: str, rp: OidcRpDriver,
                  school_id: str) -> None:
    """Add the OIDC school and the OIDC supplier, with releases to and from every peer."""
    doc.setdefault("schools", []).append({
        "id": school_id, "name": "Het Lyceum", "protocol": "oidc", "place": "Amersfoort",
        "issuer": issuer, "client_id": "loper", "client_secret": school_secret,
        "scopes": ["openid", "profile", "email"]})
    doc.setdefault("suppliers", []).append({
        "id": rp.id, "name": "Bench RP", "protocol": "oidc", "client_id": rp.client_id,
        "client_secret": rp.secret, "redirect_uris": [rp.redirect_uri],
        "requests": [{"attribute": "given_name", "why": "greets the pupil by name"},
                     {"attribute": "role", "why": "pupils and teachers see other screens"}]})
    releases = doc.setdefault("releases", [])
    for school in doc["schools"]:
        releases.append({"school": school["id"], "supplier": rp.id, "attributes": RELEASE})
    for supplier in doc["suppliers"]:
        if supplier["id"] != rp.id:
            releases.append({"school": school_id, "supplier": supplier["id"],
                             "attributes": RELEASE})


def _demo_oidc_api() -> bool:
    """Does demo.federation write the OIDC school and suppliers itself (newer demo)?"""
    import demo.federation as federation

    return all(hasattr(federation, name) for name in
               ("OidcSchoolEntry", "OidcClientEntry", "LYCEUM", "OIDC_SUPPLIERS"))


def _federation(world: World, tool: Any, saml_sps: Mapping[str, Any], issuer: str,
                school_secret: str) -> tuple[str, list[OidcRpDriver]]:
    """Write the federation file; (the OIDC school's id, the OIDC suppliers' drivers)."""
    import demo.federation as demo

    folder = world.federation.parent
    metadata = {k: sp.metadata_xml() for k, sp in saml_sps.items()}
    urls = {k: f"{UNSERVED}/{k}" for k in saml_sps}
    if _demo_oidc_api():
        rps = [OidcRpDriver(sid, spec["client_id"], secrets.token_urlsafe(24),
                            f"{UNSERVED}/{sid}/callback", world.loper)
               for sid, spec in demo.OIDC_SUPPLIERS.items()]
        demo.write_federation(
            folder, tool.metadata_xml(), metadata, urls=urls,
            lyceum=demo.OidcSchoolEntry(issuer, school_secret),
            oidc_suppliers={rp.id: demo.OidcClientEntry(rp.secret, [rp.redirect_uri])
                            for rp in rps})
        world.notes.append("OIDC school and suppliers from demo.federation")
        return str(demo.LYCEUM["id"]), rps
    path = demo.write_federation(folder, tool.metadata_xml(), metadata, urls=urls)
    rp = OidcRpDriver(OIDC_SUPPLIER, OIDC_SUPPLIER, secrets.token_urlsafe(24),
                      f"{UNSERVED}/{OIDC_SUPPLIER}/callback", world.loper)
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    known = {s["id"] for s in doc.get("schools", [])}
    oidc_id = OIDC_SCHOOL if OIDC_SCHOOL not in known else f"bench-{OIDC_SCHOOL}"
    _oidc_entries(doc, issuer, school_secret, rp, oidc_id)
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    world.notes.append("OIDC school and supplier added by the bench")
    return oidc_id, [rp]


def build_world(folder: Path, loper: str, redis_url: str) -> World:
    from broker.instance import initialise
    from broker.registry import Registry
    from broker.registry.federation import load_federation
    from broker.settings import load_settings
    from demo.federation import SCHOOL
    from demo.people import DEFAULT_PEOPLE
    from demo.school_idp import school_tool
    from demo.school_op import LYCEUM_PEOPLE, OpClient, create_school_op
    from demo.supplier_onelogin import OneloginSp
    from demo.supplier_pysaml2 import Pysaml2Sp

    # every simulated pupil comes from 127.0.0.1: the per-address start limit is lifted for the
    # in-process profile too, which shares the Redis that the served runs have just filled
    overrides: dict[str, Any] = {"instance": folder / "loper", "base_url": loper,
                                 "state_url": redis_url, "login_starts_per_minute": 100_000_000}
    settings = load_settings(overrides)
    for _ in initialise(settings):
        pass
    published, key_version = _loper_metadata(overrides)
    peers = folder / "peers"
    world = World(folder, loper, overrides, folder / "federation" / "federation.toml",
                  key_version)
    try:
        tool = school_tool(f"{UNSERVED}/regenboog", peers / "school", published["saml-sp"])
        world.notes.append(_in_process_crypto(tool))
        saml_sps = {
            "rekenwonders": Pysaml2Sp(f"{UNSERVED}/rekenwonders", peers / "rekenwonders",
                                      published["saml-idp"], "Rekenwonders"),
            "taalapp": OneloginSp(f"{UNSERVED}/taalapp", peers / "taalapp",
                                  published["saml-idp"], "Taalapp"),
        }
        kinds = {"rekenwonders": "pysaml2 SP", "taalapp": "python3-saml SP"}
        school_secret = secrets.token_urlsafe(24)
        clients = [OpClient("loper", school_secret, [f"{loper}/oidc/callback"])]
        issuer, stop = _serve(lambda url: create_school_op(url, peers / "lyceum", clients),
                              "lyceum")
        world._stops.append(stop)
        oidc_id, rps = _federation(world, tool, saml_sps, issuer, school_secret)
        lyceum = OidcSchoolDriver(oidc_id, issuer, LYCEUM_PEOPLE)
        world._stops.append(lyceum.close)
        drivers_s: dict[str, SchoolDriver] = {
            str(SCHOOL["id"]): SamlSchoolDriver(str(SCHOOL["id"]), tool, DEFAULT_PEOPLE, loper),
            oidc_id: lyceum}
        drivers_p: dict[str, SupplierDriver] = {
            k: SamlSupplierDriver(k, sp, f"{k} ({kinds[k]})", f"{UNSERVED}/{k}")
            for k, sp in saml_sps.items()}
        drivers_p.update({rp.id: rp for rp in rps})
        registry = Registry(settings.registry_url)
        try:
            registry.import_federation(load_federation(world.federation),
                                       key_version=key_version)
            _detect(world, registry, drivers_s, drivers_p)
        finally:
            registry.close()
    except BaseException:
        world.close()
        raise
    return world


def _detect(world: World, registry: Any, schools: Mapping[str, SchoolDriver],
            suppliers: Mapping[str, SupplierDriver]) -> None:
    """Every registered school x supplier with a release policy, that the bench can drive."""
    for school in registry.schools():
        if school.id in schools:
            world.schools[school.id] = schools[school.id]
        else:
            world.undriven.append(f"school {school.id} ({school.protocol})")
    for supplier in registry.suppliers():
        if supplier.id in suppliers:
            world.suppliers[supplier.id] = suppliers[supplier.id]
        else:
            world.undriven.append(f"supplier {supplier.id} ({supplier.protocol})")
    released = {(p.school_id, p.supplier_id) for p in registry.policies()}
    for school in world.schools.values():
        for supplier in world.suppliers.values():
            if (school.id, supplier.id) in released:
                world.scenarios.append(Scenario(school, supplier))
    world.scenarios.sort(key=lambda s: (s.pair != "saml->saml", s.pair != "oidc->oidc", s.name))
