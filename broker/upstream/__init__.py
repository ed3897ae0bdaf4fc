"""Upstreams: the school side. Each turns a protocol answer into one Identity.

Shaped like Dex's connectors: start the login, handle the answer. An upstream never touches
storage; what it must remember between the two steps it returns as opaque `state` bytes (its
own typed record, encoded with broker.codec), which the flow keeps with the pending login and
hands back.

Like Dex's optional connector interfaces, an upstream may also implement `Logout` and
`Refresh`; the flow finds out with isinstance() and does without when it does not. What such
an upstream needs from the login later (a SAML NameID and SessionIndex, a school's ID token
or refresh token) it returns as `Callback.session`, Dex's ConnectorData.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from broker.identity import Identity, PendingLogin
from broker.outgoing import Outgoing
from broker.records import School


@dataclass(frozen=True)
class Callback:
    identity: Identity
    replay_key: str
    """An id the flow must accept only once (e.g. the SAML assertion id), within replay_ttl."""
    replay_ttl: int
    session: bytes = b""
    """What Logout and Refresh need from this login later, encoded by the upstream; opaque
    to the flow, which would keep it with the SSO session (empty: nothing to keep)."""


class Upstream(Protocol):
    def login_redirect(self, school: School, pending: PendingLogin,
                       relay_state: str) -> tuple[Outgoing, bytes]:
        """Where to send the browser to log in at the school, and the state to keep."""

    def handle_callback(self, school: School, params: Mapping[str, str],
                        state: bytes) -> Callback:
        """Validate the school's answer; raise UpstreamRejected (or BadRequest) if it fails,
        also when `state` does not decode."""


@runtime_checkable
class Logout(Protocol):
    """An upstream that can end the pupil's session at the school (SAML single logout, OIDC
    RP-initiated logout at the school's end_session_endpoint)."""

    def logout_redirect(self, school: School, session: bytes,
                        relay_state: str) -> tuple[Outgoing, bytes] | None:
        """Where to send the browser to log out at the school, and the state to keep until
        its answer; None when this school offers no logout. `session`: Callback.session."""

    def handle_logout(self, school: School, params: Mapping[str, str], state: bytes) -> bool:
        """Check the school's answer to the logout: True when its session ended, False when
        it says it could not; raise LogoutRejected for an answer that fails validation."""


@runtime_checkable
class LogoutAnswer(Protocol):
    """An upstream whose schools may start a logout themselves (a SAML LogoutRequest)."""

    def answer_logout(self, school: School, request: bytes, complete: bool) -> Outgoing:
        """The answer to the school's logout (`request`: what the upstream kept of it): a
        SAML LogoutResponse, PartialLogout unless `complete`."""


@runtime_checkable
class Refresh(Protocol):
    """An upstream that can ask the school again about a person, without the browser (Dex's
    RefreshConnector): a supplier refreshing its tokens then gets what the school says today,
    and nothing once the school no longer knows the person."""

    def refresh(self, school: School, identity: Identity,
                session: bytes) -> tuple[Identity, bytes]:
        """The person as the school sees them now, and the session data to keep from now on;
        raise UpstreamRejected when the school refuses. `session`: Callback.session."""
