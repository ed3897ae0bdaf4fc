"""Downstreams: the supplier side. Each turns a protocol request into a DownstreamRequest and a
Released into a protocol answer. A downstream never sees the upstream subject.

A downstream may also implement `Logout` or `CollectedLater` (like Dex's optional connector
interfaces); the flow finds out with isinstance() and does without when it does not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from broker.acr import AcrRequest
from broker.errors import BadRequest
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
    acr: AcrRequest | None = None
    """The authentication context asked for: passed on to the school, checked on its answer."""
    select_school: bool = False
    """The pupil picks the school (again) on the picker: no SSO session and no school hint
    answers this login (OIDC prompt=select_account; the "account" is the school). A passive
    login never shows the picker: downstreams refuse the two together."""


SCHOOL_HINTS = ("school", "idp_hint")
"""The parameters by which a supplier names the school, skipping the picker."""


def named_school(params: Mapping[str, str]) -> str | None:
    """The school a supplier's request names by `school` or `idp_hint` (both may name the same
    one); BadRequest when they name different schools: Loper never picks one silently."""
    named = {params[k].strip() for k in SCHOOL_HINTS if params.get(k, "").strip()}
    if len(named) > 1:
        raise BadRequest("The parameters school and idp_hint name different schools; a request "
                         "names at most one.")
    return named.pop() if named else None


@dataclass(frozen=True)
class Delivery:
    """A release as the ledger records it, when the supplier receives it: names, never values."""

    school_id: str
    supplier_id: str
    pseudonym: str
    attributes: tuple[str, ...]
    protocol: str

    @classmethod
    def of(cls, released: Released, protocol: str) -> Delivery:
        return cls(released.school_id, released.supplier_id, released.subject,
                   tuple(sorted(released.attributes)), protocol)


RecordDelivery = Callable[[Delivery], None]
"""Writes one Delivery to the ledger (wired by the composition root)."""

NO_PASSIVE = "NoPassive"
"""Second-level status: the supplier asked for no interaction and there is no session."""
NO_AUTHN_CONTEXT = "NoAuthnContext"
"""Second-level status: the school's login does not meet the context the supplier required."""
STOPPED = "AuthnFailed"
"""Second-level status: the pupil stopped the login on Loper's way (broker/flow_cancel.py)."""


class Downstream(Protocol):
    def respond(self, supplier: Supplier, request: bytes, released: Released) -> Outgoing:
        """The protocol answer that carries `released` to the supplier."""

    def respond_error(self, supplier: Supplier, request: bytes, status: str) -> Outgoing:
        """A protocol-level failure answer (e.g. NO_PASSIVE)."""


@dataclass(frozen=True)
class LogoutSent:
    """How a downstream ends one supplier session (broker/logout/)."""

    outgoing: Outgoing | None = None
    """The browser must go here (a SAML LogoutRequest); the supplier's answer comes back to
    the downstream's endpoint with the relay state it was given, and is read by
    `logout_answered` with this request's `state`."""
    frame: str | None = None
    """A page the browser loads in an invisible iframe (OIDC Front-Channel Logout)."""
    state: bytes = b""
    """What `logout_answered` needs to check the answer (e.g. the LogoutRequest's ID)."""

    @property
    def done(self) -> bool:
        """Ended already, over the back channel."""
        return self.outgoing is None and self.frame is None


@runtime_checkable
class Logout(Protocol):
    """A downstream that can end a supplier's session for one person (SAML single logout
    towards the SP, OIDC back-channel and front-channel logout)."""

    def logout(self, supplier: Supplier, subject: str, sid: str, relay_state: str,
               name: str = "") -> LogoutSent | None:
        """End the session of `subject` (the supplier's pseudonym) that was given `sid`, and
        `name` at its login (Renaming; empty: none): over the back channel (LogoutSent()), or
        by the browser. None: the supplier registered no logout. Raise LogoutUnreachable
        when the supplier cannot be reached or refuses. Called from several threads at once
        (one per participant). When the browser must go (`outgoing`), it is called again
        with the same arguments as the browser is sent, maybe minutes later, and must make a
        fresh request (its own ID, time and signature) and do nothing else
        (broker/logout/apps.py)."""

    def logout_answered(self, supplier: Supplier, params: Mapping[str, str],
                        state: bytes) -> bool:
        """Read the supplier's answer to `logout`'s outgoing: True when its session ended,
        False when it says it could not; raise LogoutRejected for an answer that fails
        validation or answers another request."""

    def answer_logout(self, supplier: Supplier, request: bytes,
                      complete: bool) -> Outgoing | None:
        """The answer to a logout the supplier started (`request`: what the downstream kept
        of it): a SAML LogoutResponse (PartialLogout unless `complete`), an OIDC redirect to
        a registered post_logout_redirect_uri; None: Loper's own page."""


@runtime_checkable
class Renaming(Protocol):
    """A downstream that may name the person to the supplier otherwise than by the pseudonym:
    the SAML IdP, to an SP asking for a transient NameID."""

    def name_for(self, supplier: Supplier, request: bytes) -> str | None:
        """A fresh name for this login's answer (`respond` finds it as Released.name), or None:
        the supplier knows the person by the pseudonym."""


@runtime_checkable
class SessionBound(Protocol):
    """A downstream whose grants would outlive the SSO session they were issued in (the OIDC
    provider's refresh tokens): every logout tells it each session that ended."""

    def session_ended(self, sid: str) -> None:
        """End what was issued to the participant that was given `sid` (its refresh and
        access tokens): a later use is refused."""


@runtime_checkable
class CollectedLater(Protocol):
    """A downstream whose supplier collects the release after respond() has answered: the OIDC
    provider, whose code is redeemed at the token endpoint. It records the release in the
    ledger itself, at that moment and once; the flow records every other downstream's release
    when it sends the answer."""

    record_delivery: RecordDelivery
    """How it records (the composition root wires it to the registry's ledger)."""
