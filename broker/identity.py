"""The protocol-free data model at the seam between upstreams and downstreams.

Everything here is frozen and typed; none of it does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from broker.acr import AcrRequest

Attributes = Mapping[str, tuple[str, ...]]
"""Attribute values by internal name (see attributes.py); always a tuple of strings."""


@dataclass(frozen=True)
class AuthnContext:
    """When and how the school authenticated the person."""

    instant: datetime
    class_ref: str | None = None
    stated: bool = True
    """The school said when (SAML AuthnInstant, OIDC auth_time); False: it did not, and
    `instant` is when its answer came."""


@dataclass(frozen=True)
class Identity:
    """One person as the school vouched for them, in Loper's own vocabulary."""

    school_id: str
    subject: str
    attributes: Attributes
    authn: AuthnContext


@dataclass(frozen=True)
class PendingLogin:
    """A supplier's login request, waiting while the pupil logs in at school.

    The flow stores it with broker.codec; the two adapters' parts are bytes that only the
    adapter reads (each encodes its own typed state with broker.codec).
    """

    id: str
    supplier_id: str
    protocol: str
    request: bytes
    """The downstream's state: what it needs to answer the supplier later."""
    force_authn: bool = False
    passive: bool = False
    max_age: int | None = None
    upstream: bytes = b""
    """The upstream's state between login_redirect and handle_callback."""
    school_id: str | None = None
    browser: str = ""
    """The random id of the browser that started this login (bound by a cookie)."""
    acr: AcrRequest | None = None
    """The authentication context the supplier asked for (broker/acr.py)."""
    school_hint: str | None = None
    """For a hub with `hint` on: how the hub knows the school picked behind it; the hub's
    adapter sends it (SAML Scoping/IDPList, OIDC login_hint). None: no hint."""
    sent_at: float = 0.0
    """When the pupil was sent to the school (seconds since the epoch; 0: not yet)."""


@dataclass(frozen=True)
class Person:
    """An Identity after anchoring: what an SSO session keeps. The upstream subject is gone."""

    school_id: str
    anchor: str
    attributes: Attributes
    authn: AuthnContext

    @property
    def roles(self) -> tuple[str, ...]:
        return self.attributes.get("role", ())


@dataclass(frozen=True)
class Released:
    """What one supplier gets for one person: the only thing a downstream ever sees."""

    school_id: str
    supplier_id: str
    subject: str
    attributes: Attributes
    authn: AuthnContext
    session: str = ""
    """The session id this supplier is given (OIDC `sid`, SAML SessionIndex): what a single
    logout names (broker/sso.py); empty outside an SSO session."""
    name: str = ""
    """The name this supplier is given for the person at this login when it is not `subject`
    (a SAML transient NameID, fresh at every login: broker.downstream.Renaming); empty:
    `subject`. The session keeps it, so that a single logout names the person as the
    supplier knows them."""
