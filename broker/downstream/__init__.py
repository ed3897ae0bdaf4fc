"""Downstreams: the supplier side. Each turns a protocol request into a DownstreamRequest and a
Released into a protocol answer. A downstream never sees the upstream subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from broker.identity import Released
from broker.outgoing import Outgoing
from broker.records import Supplier


@dataclass(frozen=True)
class DownstreamRequest:
    supplier: Supplier
    request: bytes
    """Opaque to the flow: what the downstream needs later to answer the supplier, encoded by
    the downstream (broker.codec); the flow keeps it in the pending login and hands it back."""
    school_hints: tuple[str, ...] = ()
    """School ids or school entity ids (SAML Scoping/IDPList), in the supplier's order."""
    force_authn: bool = False
    passive: bool = False
    max_age: int | None = None


NO_PASSIVE = "NoPassive"
"""Second-level status: the supplier asked for no interaction and there is no session."""


class Downstream(Protocol):
    def respond(self, supplier: Supplier, request: bytes, released: Released) -> Outgoing:
        """The protocol answer that carries `released` to the supplier."""

    def respond_error(self, supplier: Supplier, request: bytes, status: str) -> Outgoing:
        """A protocol-level failure answer (e.g. NO_PASSIVE)."""
