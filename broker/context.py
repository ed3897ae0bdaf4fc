"""The broker's parts, wired once by app.create_app and handed to the flow and the views."""

from __future__ import annotations

from dataclasses import dataclass, field

from broker.downstream import Downstream
from broker.keys import PseudonymKeys
from broker.registry import Registry
from broker.settings import Settings
from broker.store import StateStore
from broker.upstream import Upstream


@dataclass
class Broker:
    settings: Settings
    store: StateStore
    registry: Registry
    pseudonym_keys: PseudonymKeys
    upstreams: dict[str, Upstream] = field(default_factory=dict)
    downstreams: dict[str, Downstream] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    """Published documents by name (e.g. "saml-idp", "saml-sp"), rendered once at start; the
    SAML IdP's is rendered again on request, with the schools' scopes (broker/web/saml.py)."""
