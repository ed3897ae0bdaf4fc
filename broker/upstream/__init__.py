"""Upstreams: the school side. Each turns a protocol answer into one Identity.

Shaped like Dex's connectors: start the login, handle the answer. An upstream never touches
storage; what it must remember between the two steps it returns as opaque `state` bytes (its
own typed record, encoded with broker.codec), which the flow keeps with the pending login and
hands back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from broker.identity import Identity, PendingLogin
from broker.outgoing import Outgoing
from broker.records import School


@dataclass(frozen=True)
class Callback:
    identity: Identity
    replay_key: str
    """An id the flow must accept only once (e.g. the SAML assertion id), within replay_ttl."""
    replay_ttl: int


class Upstream(Protocol):
    def login_redirect(self, school: School, pending: PendingLogin,
                       relay_state: str) -> tuple[Outgoing, bytes]:
        """Where to send the browser to log in at the school, and the state to keep."""

    def handle_callback(self, school: School, params: Mapping[str, str],
                        state: bytes) -> Callback:
        """Validate the school's answer; raise UpstreamRejected (or BadRequest) if it fails,
        also when `state` does not decode."""
