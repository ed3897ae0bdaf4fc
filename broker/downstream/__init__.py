"""Downstreams: the supplier side. Each turns a protocol request into a DownstreamRequest and a
Released into a protocol answer. A downstream never sees the upstream subject.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from broker.identity import Released
from broker.outgoing import Outgoing
from broker.records import Supplier


@dataclass(frozen=True)
class DownstreamRequest:
    supplier: Supplier
    request: Mapping[str, Any]
    """Opaque, JSON-serialisable: what the downstream needs later to answer the supplier."""
    school_hints: tuple[str, ...] = ()
    """School ids or school entity ids (SAML Scoping/IDPList), in the supplier's order."""
    force_authn: bool = False
    passive: bool = False
    max_age: int | None = None


NO_PASSIVE = "NoPassive"
"""Second-level status: the supplier asked for no interaction and there is no session."""


class Downstream(Protocol):
    def respond(self, supplier: Supplier, request: Mapping[str, Any],
                released: Released) -> Outgoing:
        """The protocol answer that carries `released` to the supplier."""

    def respond_error(self, supplier: Supplier, request: Mapping[str, Any],
                      status: str) -> Outgoing:
        """A protocol-level failure answer (e.g. NO_PASSIVE)."""
