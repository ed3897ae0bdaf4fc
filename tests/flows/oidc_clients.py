"""Test-only OIDC clients registered in a running demo federation, next to the demo's own.

They play the strict RP of tests/flows/strict_rp.py; their redirect URIs point at a callback
catcher. Registered the way an operator would (a federation import by id), after the start.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from broker.downstream.oidc_kind import OidcSupplier
from broker.records import Policy, Supplier
from broker.registry.federation import UNPINNED, Federation
from tests.flows.strict_rp import StrictRp

if TYPE_CHECKING:
    from tests.flows.conftest import Federation as Running


@dataclass(frozen=True)
class RpClient:
    client_id: str
    secret: str
    redirect_uris: tuple[str, ...]

    @property
    def redirect_uri(self) -> str:
        return self.redirect_uris[0]


def register_client(federation: Running, client_id: str, redirect_uris: Sequence[str],
                    releases: Mapping[str, Sequence[str]], *,
                    offline_access: bool = False, profile: str = "oid",
                    **logout: Any) -> RpClient:
    """Register an OIDC supplier `client_id` with `releases` (school id -> attributes), whose
    claims are named by `profile` (broker/profiles.py); `logout`: its logout fields
    (backchannel_logout_uri, post_logout_redirect_uris...)."""
    secret = secrets.token_urlsafe(24)
    home = urlsplit(redirect_uris[0])
    supplier = Supplier(
        id=client_id, name=client_id.replace("-", " ").title(),
        sector=client_id, key_version=UNPINNED, url=f"{home.scheme}://{home.netloc}/",
        config=OidcSupplier(client_id=client_id, client_secret=secret,
                          redirect_uris=tuple(redirect_uris), offline_access=offline_access,
                          profile=profile, **logout))
    policies = tuple(Policy(school, client_id, frozenset(names))
                     for school, names in releases.items())
    broker = federation.broker
    broker.registry.import_federation(Federation(suppliers=(supplier,), policies=policies),
                                      key_version=broker.pseudonym_keys.current)
    return RpClient(client_id, secret, tuple(redirect_uris))


@contextmanager
def strict_rp(issuer: str, client: RpClient,
              redirect_uri: str | None = None) -> Iterator[StrictRp]:
    """The strict RP for `client`, with an HTTP session of its own (never the browser's)."""
    with requests.Session() as http:
        yield StrictRp.discover(issuer, client.client_id, client.secret,
                                redirect_uri or client.redirect_uri, http)
