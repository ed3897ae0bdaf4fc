"""The broker's parts, wired once by app.create_app and handed to the flow and the views."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from broker.downstream import Downstream
from broker.keys import PseudonymKeys
from broker.registry import Registry
from broker.settings import Settings
from broker.store import StateStore
from broker.upstream import Upstream

if TYPE_CHECKING:
    from broker.downstream.oidc_op import OidcOp
    from broker.downstream.saml_idp import SamlIdp


@dataclass
class Broker:
    settings: Settings
    store: StateStore
    registry: Registry
    pseudonym_keys: PseudonymKeys
    upstreams: dict[str, Upstream] = field(default_factory=dict)
    downstreams: dict[str, Downstream] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    """Published documents by name (e.g. "saml-idp", "saml-sp"), rendered once at start."""
    saml: SamlIdp | None = None
    oidc: OidcOp | None = None

    def saml_idp(self) -> SamlIdp:
        if self.saml is None:
            raise RuntimeError("SAML is not enabled in this broker")
        return self.saml
