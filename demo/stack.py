"""The demo federation, running: Loper and its peers, each on its own loopback port.

Used by `make demo` (fixed ports, a folder that survives restarts) and by the end-to-end
tests (free ports, a temporary folder, optionally Redis as the state store).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

HOST = "127.0.0.1"
PEERS = ("school", "rekenwonders", "taalapp", "lyceum", "leesplein", "kompas", "esdoorn",
         "entree", "wilg")
"""Servers besides Loper: "school" is OBS De Regenboog (SAML IdP), "lyceum" Het Lyceum (OIDC
OP), "kompas" Het Kompas (an OP shaped as Google), "esdoorn" De Esdoorn (an OP shaped as Entra
ID), "entree" the hub for CBS De Linde and OBS De Es (a SAML IdP), "wilg" De Wilg (a SAML IdP
sending ADFS's claims); "rekenwonders" and
"taalapp" are SAML suppliers, "leesplein" an OIDC supplier."""
CLOUD = ("kompas", "esdoorn")
SUPPLIERS = ("rekenwonders", "taalapp", "leesplein")


class Deferred:
    """A WSGI app that is chosen after its server has bound a port (and so knows its URL)."""

    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None, "served before the app was set"
        return self.app(environ, start_response)


@dataclass
class Running:
    broker: str
    school: str
    """OBS De Regenboog's IdP (the SAML school)."""
    suppliers: dict[str, str]
    folder: Path
    apps: dict[str, Flask] = field(default_factory=dict)
    schools: dict[str, str] = field(default_factory=dict)
    """School id -> base URL: "regenboog" (SAML IdP), "lyceum", "kompas", "esdoorn" (OIDC OPs,
    their issuers), "entree" (the hub's SAML IdP), "wilg" (ADFS)."""


@dataclass
class _Server:
    wsgi: Deferred
    server: BaseWSGIServer
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_port}"


def _bind(port: int) -> _Server:
    wsgi = Deferred()
    return _Server(wsgi, make_server(HOST, port, wsgi, threaded=True))


def _peer_metadata(app: Flask) -> str:
    with app.test_client() as client:
        return client.get("/metadata").get_data(as_text=True)


def _build(folder: Path, urls: Mapping[str, str], settings: Mapping[str, Any]) -> dict[str, Flask]:
    from app import create_app
    from broker.instance import initialise
    from broker.registry import Registry
    from broker.registry.federation import load_federation
    from broker.settings import load_settings
    from demo.federation import OidcClientEntry, OidcSchoolEntry, write_federation
    from demo.hub import HUB_NAME, HUB_PEOPLE
    from demo.school_adfs import WILG_NAME, WILG_PEOPLE, adfs_attributes
    from demo.school_cloud import ENTRA, ESDOORN_PEOPLE, GOOGLE, KOMPAS_PEOPLE
    from demo.school_idp import create_school_idp
    from demo.school_op import OpClient, create_school_op
    from demo.supplier_oidc import create_oidc_rp
    from demo.supplier_onelogin import create_onelogin_sp
    from demo.supplier_pysaml2 import create_pysaml2_sp
    from demo.web import ensure_secret

    overrides = {"instance": folder / "loper", "base_url": urls["broker"], **settings}
    loaded = load_settings(overrides)
    for _ in initialise(loaded):
        pass
    broker = create_app(overrides)
    published = broker.extensions["loper"].metadata
    peers = folder / "peers"
    lyceum_secret = ensure_secret(peers / "lyceum", "loper-client-secret")
    cloud = {"kompas": (GOOGLE, KOMPAS_PEOPLE), "esdoorn": (ENTRA, ESDOORN_PEOPLE)}
    secrets = {name: ensure_secret(peers / name, "loper-client-secret") for name in cloud}
    leesplein_secret = ensure_secret(peers / "leesplein", "client-secret")
    apps = {
        "school": create_school_idp(urls["school"], peers / "school", published["saml-sp"]),
        "entree": create_school_idp(urls["entree"], peers / "entree", published["saml-sp"],
                                    HUB_PEOPLE, HUB_NAME),
        "wilg": create_school_idp(urls["wilg"], peers / "wilg", published["saml-sp"],
                                  WILG_PEOPLE, WILG_NAME, adfs_attributes),
        "rekenwonders": create_pysaml2_sp(urls["rekenwonders"], peers / "rekenwonders",
                                          published["saml-idp"]),
        "taalapp": create_onelogin_sp(urls["taalapp"], peers / "taalapp",
                                      published["saml-idp"]),
        "lyceum": create_school_op(urls["lyceum"], peers / "lyceum", [OpClient(
            "loper", lyceum_secret, [f"{urls['broker']}/oidc/callback"],
            [f"{urls['broker']}/oidc/logged-out"])]),
        "leesplein": create_oidc_rp(urls["leesplein"], peers / "leesplein", urls["broker"],
                                    "leesplein", leesplein_secret),
        **{name: create_school_op(urls[name], peers / name, [OpClient(
            "loper", secrets[name], [f"{urls['broker']}/oidc/callback"],
            [f"{urls['broker']}/oidc/logged-out"])], people, profile)
           for name, (profile, people) in cloud.items()},
    }
    federation = write_federation(
        folder / "federation", _peer_metadata(apps["school"]),
        {name: _peer_metadata(apps[name]) for name in ("rekenwonders", "taalapp")},
        urls={name: urls[name] for name in ("rekenwonders", "taalapp")},
        lyceum=OidcSchoolEntry(urls["lyceum"], lyceum_secret),
        oidc_suppliers={"leesplein": OidcClientEntry(
            leesplein_secret, [f"{urls['leesplein']}/callback"], urls["leesplein"],
            backchannel_logout_uri=f"{urls['leesplein']}/logout/backchannel",
            post_logout_redirect_uris=[f"{urls['leesplein']}/bye"])},
        cloud={name: OidcSchoolEntry(urls[name], secrets[name]) for name in cloud},
        saml_schools={name: _peer_metadata(apps[name]) for name in ("entree", "wilg")})
    registry = Registry(loaded.registry_url)
    try:
        registry.import_federation(load_federation(federation),
                                   key_version=broker.extensions["loper"].pseudonym_keys.current)
    finally:
        registry.close()
    return {"broker": broker, **apps}


@contextmanager
def running(folder: Path, *, ports: Mapping[str, int] | None = None,
            settings: Mapping[str, Any] | None = None) -> Iterator[Running]:
    """Start Loper and the demo peers; stop them all on exit."""
    ports = ports or {}
    servers = {name: _bind(ports.get(name, 0)) for name in ("broker", *PEERS)}
    try:
        urls = {name: s.url for name, s in servers.items()}
        apps = _build(folder, urls, settings or {})
        for name, server in servers.items():
            server.wsgi.app = apps[name]
            server.thread = threading.Thread(target=server.server.serve_forever,
                                             kwargs={"poll_interval": 0.05},
                                             name=f"demo-{name}", daemon=True)
            server.thread.start()
        yield Running(urls["broker"], urls["school"],
                      {name: urls[name] for name in SUPPLIERS}, folder, apps,
                      {"regenboog": urls["school"], "lyceum": urls["lyceum"],
                       **{name: urls[name] for name in (*CLOUD, "entree", "wilg")}})
    finally:
        for server in servers.values():
            if server.thread is not None:
                server.server.shutdown()
                server.thread.join(timeout=5)
            server.server.server_close()
