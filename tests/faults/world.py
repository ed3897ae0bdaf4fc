"""A federation with slow schools: three copies of the demo school's OpenID Provider (one
well, one hanging, one dripping, see slow.py) and one OIDC supplier, imported into a fresh
Loper instance. Loper itself is started by the caller: in this process or under gunicorn.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from bench.peers import OidcRpDriver, OidcSchoolDriver
from broker.instance import initialise
from broker.keys import load_pseudonym_keys
from broker.registry import Registry, load_federation
from broker.settings import load_settings
from demo.school_op import LYCEUM_PEOPLE, OpClient, create_school_op
from tests.faults.slow import Mode, Slowed
from tests.peers.servers import serve_factory

SUPPLIER = "leesapp"
SUPPLIER_URL = "https://leesapp.example/start"
"""Where "start again" goes; never fetched."""
RP_CALLBACK = "http://127.0.0.1:9/leesapp/callback"
"""The supplier's redirect URI: Loper redirects there, nobody fetches it."""


@dataclass
class School:
    id: str
    issuer: str
    slowed: Slowed
    driver: OidcSchoolDriver


@dataclass
class SlowWorld:
    loper: str
    overrides: dict[str, Any]
    schools: dict[str, School]
    rp: OidcRpDriver


def _school(stack: ExitStack, folder: Path, school_id: str, loper: str,
            modes: Mapping[str, Mode]) -> tuple[School, dict[str, Any]]:
    secret = secrets.token_urlsafe(16)
    clients = [OpClient("loper", secret, [f"{loper}/oidc/callback"])]
    holder: dict[str, Slowed] = {}

    def make(url: str) -> Slowed:
        holder["app"] = Slowed(create_school_op(url, folder / school_id, clients), dict(modes))
        return holder["app"]

    issuer, _ = stack.enter_context(serve_factory(make))
    slowed = holder["app"]
    stack.callback(slowed.stopped.set)  # runs before the server stops: no wait outlasts it
    driver = OidcSchoolDriver(school_id, issuer, LYCEUM_PEOPLE)
    stack.callback(driver.close)
    entry = {"id": school_id, "name": f"School {school_id}", "protocol": "oidc",
             "issuer": issuer, "client_id": "loper", "client_secret": secret,
             "scopes": ["openid", "profile"], "domains": ["lyceum.example"]}
    return School(school_id, issuer, slowed, driver), entry


def build(stack: ExitStack, folder: Path, loper: str, schools: Mapping[str, Mapping[str, Mode]],
          settings: Mapping[str, Any]) -> SlowWorld:
    """Serve one OP per school (`schools`: id -> its slow paths) and make Loper's instance."""
    overrides: dict[str, Any] = {"instance": folder / "loper", "base_url": loper, **settings}
    loaded = load_settings(overrides, environ={})
    for _ in initialise(loaded):
        pass
    served = {sid: _school(stack, folder, sid, loper, modes) for sid, modes in schools.items()}
    secret = secrets.token_urlsafe(16)
    doc = {"schools": [entry for _, entry in served.values()],
           "suppliers": [{"id": SUPPLIER, "name": "Leesapp", "protocol": "oidc",
                          "client_id": SUPPLIER, "client_secret": secret,
                          "redirect_uris": [RP_CALLBACK], "url": SUPPLIER_URL,
                          "requests": [{"attribute": "given_name", "why": "greets the pupil"}]}],
           "releases": [{"school": sid, "supplier": SUPPLIER, "attributes": ["given_name"]}
                        for sid in schools]}
    path = folder / "federation.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    registry = Registry(loaded.registry_url)
    try:
        registry.import_federation(load_federation(path),
                                   key_version=load_pseudonym_keys(loaded.keys_dir).current)
    finally:
        registry.close()
    rp = OidcRpDriver(SUPPLIER, SUPPLIER, secret, RP_CALLBACK, loper, scope="openid profile")
    return SlowWorld(loper, overrides, {sid: school for sid, (school, _) in served.items()}, rp)
