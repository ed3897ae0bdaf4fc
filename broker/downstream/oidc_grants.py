"""What one login released to one supplier, frozen when its code is minted, and the tokens that
serve it.

The ID token, userinfo and every refreshed token serve exactly this snapshot; nothing re-reads
the person later (a broker that does leaks one supplier's attributes to another). What is
asked again on every use is only whether the school still releases to the supplier at all
(`OpenCheck`, answered by the release policy outside this package): a suspension or a lapsed
agreement ends the snapshot's service at its next use.

Every token belongs to a grant: one login at one supplier. A grant is revoked as a whole when
its code is redeemed twice (RFC 6749 4.1.2) or a rotated refresh token comes back (RFC 9700
4.14.2): a revocation marker that every token lookup checks. The link from a code or refresh
token to its grant is written before the code or token is handed out, so a replay that races
the first redemption still finds the grant to revoke. Every grant of an SSO session ends with
its logout: a marker for the sid its supplier was given, checked the same way.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from broker import codec, profiles
from broker.authlib_extensions import OAuthError
from broker.downstream import Delivery
from broker.downstream.oidc_common import digest
from broker.store import StateStore

if TYPE_CHECKING:
    from broker.downstream.oidc_clients import Client

Claims = Mapping[str, str | list[str]]
OpenCheck = Callable[[str, str], bool]
"""(school id, supplier id) -> does the school still release to the supplier today?"""
log = logging.getLogger("loper.oidc")

ACCESS, REFRESH, REVOKED = "oidc-access", "oidc-refresh", "oidc-revoked"
SESSION_ENDED = "oidc-session-ended"
CODE_LINK, REFRESH_LINK = "oidc-code-grant", "oidc-refresh-grant"
_CLAIM_SCOPE = profiles.claim_scopes()


@dataclass(frozen=True)
class Snapshot:
    grant: str
    client_id: str
    sub: str
    """The supplier's pairwise pseudonym (OIDC Core 8.1)."""
    claims: Claims
    """The released claims, bounded by the scopes, computed at the moment of release."""
    scope: tuple[str, ...]
    auth_time: int
    acr: str | None = None
    nonce: str | None = None
    school_id: str | None = None
    """The school that released; None in a snapshot written before it was recorded."""
    supplier_id: str | None = None
    """The supplier it was released to (the registry id, not the client_id)."""
    sid: str | None = None
    """The login's session id at Loper, given to this client (OIDC Back-Channel Logout 2.1)."""

    def __post_init__(self) -> None:
        texts = (self.grant, self.client_id, self.sub, *self.scope)
        if not all(isinstance(v, str) for v in texts) or not isinstance(self.auth_time, int):
            raise TypeError("malformed snapshot")
        if not all(v is None or isinstance(v, str) for v in (self.school_id, self.supplier_id)):
            raise TypeError("malformed snapshot")
        for value in self.claims.values():
            if not isinstance(value, str) and not (
                    isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise TypeError("malformed claim value")

    def still_open(self, check: OpenCheck) -> bool:
        """Does the school still release to the supplier? A snapshot that does not say which
        school released it is treated as closed (refused, never guessed)."""
        if self.school_id is None or self.supplier_id is None:
            return False
        return check(self.school_id, self.supplier_id)

    # as authlib reads a refresh token
    def get_scope(self) -> str:
        return " ".join(self.scope)

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def narrowed(self, scope: str | None) -> Snapshot:
        """RFC 6749 6: a refresh may ask for less than was granted, never for more."""
        if scope is None:
            return self
        wanted = set(scope.split())
        if "openid" not in wanted or not wanted <= set(self.scope):
            raise OAuthError("invalid_scope", "The scope exceeds what was granted.")
        granted = tuple(s for s in self.scope if s in wanted)
        claims = {k: v for k, v in self.claims.items()
                  if _CLAIM_SCOPE.get(k) is None or _CLAIM_SCOPE[k] in granted}
        return replace(self, scope=granted, claims=claims)


@dataclass(frozen=True)
class CodeRecord:
    snapshot: Snapshot
    redirect_uri: str
    """As the authorization request named it; the token request must repeat it (RFC 6749 4.1.3)."""
    code_challenge: str | None
    delivery: Delivery
    """What the ledger records when this code is redeemed: the moment the supplier receives
    the release."""

    # as authlib's code grant reads a code
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.snapshot.get_scope()


@dataclass(frozen=True)
class Lifetimes:
    code: int
    access: int
    refresh: int

    def of(self, snapshot: Snapshot) -> int:
        """Outlives every token of this grant issued before its revocation."""
        offline = "offline_access" in snapshot.scope
        return self.code + (max(self.access, self.refresh) if offline else self.access)

    @property
    def longest(self) -> int:
        """Outlives every token of any grant (for a snapshot whose scope may be narrowed)."""
        return self.code + max(self.access, self.refresh)


@dataclass(frozen=True)
class _Link:
    """From a code or refresh token to its grant, for revoking the grant on a replay."""

    grant: str
    client_id: str
    ttl: int


def _snapshot(data: bytes | None) -> Snapshot | None:
    """A record that does not decode is treated as absent, never half-trusted."""
    return codec.decode(data, Snapshot)


class Grants:
    """Codes, access and refresh tokens, and grant revocation, on the state store.

    Codes (authlib's, 48 random characters) and tokens (256 bits) are opaque random values;
    the store keeps only their SHA-256.
    """

    def __init__(self, store: StateStore, ttl: Lifetimes) -> None:
        self.store = store
        self.ttl = ttl

    # -- codes ---------------------------------------------------------------------------------
    def store_code(self, code: str, record: CodeRecord) -> None:
        key = digest(code)
        with self.store.batched():  # one round trip
            self._link(CODE_LINK, key, record.snapshot, self.ttl.of(record.snapshot))
            self.store.put_code(key, codec.encode(record), self.ttl.code)

    def take_code(self, code: str, client_id: str) -> CodeRecord | None:
        """Consume the code atomically; a second use revokes what the first one got."""
        key = digest(code)
        record = codec.decode(self.store.take_code(key), CodeRecord)
        if record is None:
            self._revoke_linked(CODE_LINK, key, client_id)
        return record

    # -- tokens --------------------------------------------------------------------------------
    def issue_access(self, snapshot: Snapshot) -> str:
        token = secrets.token_urlsafe(32)
        self.store.put_token(ACCESS, digest(token), codec.encode(snapshot), self.ttl.access)
        return token

    def issue_refresh(self, snapshot: Snapshot) -> str:
        token = secrets.token_urlsafe(32)
        key = digest(token)
        with self.store.batched():  # one round trip
            self._link(REFRESH_LINK, key, snapshot, self.ttl.refresh)
            self.store.put_token(REFRESH, key, codec.encode(snapshot), self.ttl.refresh)
        return token

    def access(self, token: str) -> Snapshot | None:
        snapshot = _snapshot(self.store.get_token(ACCESS, digest(token)))
        if snapshot is None or self._ended(snapshot):
            return None
        return snapshot

    def take_refresh(self, token: str, client_id: str,
                     check: Callable[[Snapshot], None] = lambda granted: None,
                     ) -> Snapshot | None:
        """Rotation: the refresh token is consumed atomically; reuse revokes its grant.

        A refused request of its own client changes nothing (RFC 6749 6): the token is read
        first, and taken only when `check` (the rest of the request: its scope, the client's
        registration; raises OAuthError) lets it through. Another client holding it means it
        leaked: its grant is revoked, and nobody keeps using it.

        Whether the grant is revoked is asked before the token is taken: requests racing with
        one token find it taken and revoke the grant (RFC 9700 4.14.2), which must not turn
        the one that took it into a loser too. That one is answered, with tokens the
        revocation has already ended."""
        key = digest(token)
        linked, stored = self.store.get_tokens([(REFRESH_LINK, key), (REFRESH, key)])
        link, found = codec.decode(linked, _Link), _snapshot(stored)
        if found is not None:
            if found.client_id != client_id:  # a leaked token: nobody keeps using it
                self.revoke(found)
                return None
            check(found)
        revoked = link is not None and self.revoked(link.grant)
        snapshot = _snapshot(self.store.take_token(REFRESH, key))
        if snapshot is None:
            self._revoke_linked(REFRESH_LINK, key, client_id)
            return None
        if snapshot.client_id != client_id:  # read above already: the record is never rewritten
            return None
        if revoked or (link is None and self.revoked(snapshot.grant)):
            return None
        return None if self._session_ended(snapshot) else snapshot

    def revoke_token(self, token: str, client_id: str) -> None:
        """RFC 7009: a refresh token takes its whole grant along; unknown tokens are no error."""
        key = digest(token)
        access = _snapshot(self.store.get_token(ACCESS, key))
        if access is not None and access.client_id == client_id:
            self.store.delete_token(ACCESS, key)
        refresh = _snapshot(self.store.get_token(REFRESH, key))
        if refresh is not None and refresh.client_id == client_id:
            self.store.delete_token(REFRESH, key)
            self.revoke(refresh)

    # -- grants --------------------------------------------------------------------------------
    def revoke(self, snapshot: Snapshot, *, narrowed: bool = False) -> None:
        """Revoke the snapshot's grant. `narrowed`: the snapshot may be an access token's, whose
        scope a refresh narrowed (offline_access dropped), so it cannot tell how long the
        grant's refresh tokens live: the marker then outlives any token."""
        ttl = self.ttl.longest if narrowed else self.ttl.of(snapshot)
        self._mark_revoked(snapshot.grant, ttl)

    def end_session(self, sid: str) -> None:
        """The SSO session that gave this sid is logged out: every token of its logins (the
        refreshed ones too: they carry the sid) is refused from now on."""
        self.store.put_token(SESSION_ENDED, digest(sid), b"1", self.ttl.longest)

    def _ended(self, snapshot: Snapshot) -> bool:
        """Is the snapshot's grant revoked, or its SSO session logged out? Both markers are
        named by the snapshot: one round trip asks for both."""
        markers = [(REVOKED, snapshot.grant)]
        if snapshot.sid is not None:
            markers.append((SESSION_ENDED, digest(snapshot.sid)))
        return any(marker is not None for marker in self.store.get_tokens(markers))

    def _session_ended(self, snapshot: Snapshot) -> bool:
        return snapshot.sid is not None and self.store.get_token(
            SESSION_ENDED, digest(snapshot.sid)) is not None

    def revoked(self, grant: str) -> bool:
        return self.store.get_token(REVOKED, grant) is not None

    def _mark_revoked(self, grant: str, ttl: int) -> None:
        log.warning("oidc grant revoked", extra={"grant": grant})
        self.store.put_token(REVOKED, grant, b"1", ttl)

    def _link(self, kind: str, key: str, snapshot: Snapshot, ttl: int) -> None:
        link = _Link(snapshot.grant, snapshot.client_id, self.ttl.of(snapshot))
        self.store.put_token(kind, key, codec.encode(link), ttl)

    def _revoke_linked(self, kind: str, key: str, client_id: str) -> None:
        """A spent code or rotated refresh token came back: revoke its grant."""
        link = codec.decode(self.store.get_token(kind, key), _Link)
        if link is not None and link.client_id == client_id and link.ttl > 0:
            self._mark_revoked(link.grant, link.ttl)
