"""One-time links sent to admins by e-mail: an invitation to become a school's admin, and a
password reset.

A link carries a random token (256 bits); the registry keeps only its SHA-256, so a copy of
the database opens no account. A link works once, until it expires; spending it and what it
does (create the account, set the password) commit together, with their audit row, or not at
all. Tokens never reach the audit trail or a log.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from broker.email_address import normalise_email
from broker.messages import Message, msg
from broker.registry import admins as accounts
from broker.registry import audit, sql_door
from broker.registry.admins import Admin, Admins
from broker.registry.ledger import Chain
from broker.registry.models_admin import AdminLinkRow, AdminRow

INVITE, RESET = "invite", "reset"
MAX_TOKEN = 100
KEEP = timedelta(days=30)


class LinkRefused(ValueError):
    """The link is unknown (mistyped, tampered), spent or expired: `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"this link is {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Link:
    purpose: str
    email: str
    school_id: str | None
    admin_id: int | None
    created_by: str
    expires_at: datetime


@dataclass(frozen=True)
class Invited:
    link: Link
    replaced: bool
    """An open invitation to the same address for the school was replaced: its link no
    longer works."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _link(row: AdminLinkRow) -> Link:
    return Link(row.purpose, row.email, row.school_id, row.admin_id, row.created_by,
                row.expires_at)


class AdminLinks:
    def __init__(self, admins: Admins) -> None:
        self._admins = admins
        self._ledger = admins.ledger

    # -- Invitations -----------------------------------------------------------------------------

    def check_invite(self, email: str, school_id: str) -> str:
        """The normalised address, or ValueError (AlreadyAdmin, unknown school, no address)."""
        email = normalise_email(email)
        with self._admins.db.read() as session:
            accounts.check_new_account(session, email, "school", [school_id], None)
        return email

    def invite(self, token: str, email: str, school_id: str, *, by: str, ttl: int) -> Invited:
        """Store the invitation with this token (new_token(); it replaces an unspent one to the
        same address for the school). ValueError as check_invite."""
        now = datetime.now(UTC)
        with self._ledger.writing() as chain:
            session = chain.session
            email = normalise_email(email)
            accounts.check_new_account(session, email, "school", [school_id], None)
            _prune(session, now)
            unspent = (AdminLinkRow.purpose == INVITE, AdminLinkRow.email == email,
                       AdminLinkRow.school_id == school_id, AdminLinkRow.used_at.is_(None))
            replaced = session.scalar(select(AdminLinkRow.token_hash).where(
                *unspent, AdminLinkRow.expires_at > now).limit(1)) is not None
            session.execute(delete(AdminLinkRow).where(*unspent))
            row = AdminLinkRow(token_hash=token_hash(token), purpose=INVITE, email=email,
                               school_id=school_id, admin_id=None, created_by=by,
                               created_at=now, expires_at=now + timedelta(seconds=ttl))
            session.add(row)
            _audit(chain, school_id, by, None, {"invited": email, "role": "school",
                                                "until": row.expires_at.isoformat()},
                   msg("audit.invitation_sent"))
            return Invited(_link(row), replaced)

    def pending(self, school_id: str) -> list[Link]:
        """Unspent, unexpired invitations to the school, by address."""
        with self._admins.db.read() as session:
            rows = session.scalars(select(AdminLinkRow).where(
                AdminLinkRow.purpose == INVITE, AdminLinkRow.school_id == school_id,
                AdminLinkRow.used_at.is_(None), AdminLinkRow.expires_at > datetime.now(UTC))
                .order_by(AdminLinkRow.email))
            return [_link(row) for row in rows]

    def withdraw(self, email: str, school_id: str, *, by: str) -> bool:
        with self._ledger.writing() as chain:
            gone = chain.session.execute(delete(AdminLinkRow).where(
                AdminLinkRow.purpose == INVITE, AdminLinkRow.school_id == school_id,
                AdminLinkRow.email == normalise_email(email), AdminLinkRow.used_at.is_(None)))
            if sql_door.rowcount(gone):
                _audit(chain, school_id, by, {"invited": normalise_email(email)}, None,
                       msg("audit.invitation_withdrawn"))
            return bool(sql_door.rowcount(gone))

    def accept(self, token: str, password: str) -> Admin:
        """Spend the invitation and create the account; LinkRefused, or ValueError (password,
        the address became an admin meanwhile) with nothing spent."""
        hashed = accounts.password_hash(password)
        with self._ledger.writing() as chain:
            link = _spend(chain.session, token, INVITE)
            assert link.school_id is not None
            return accounts.create_account(
                chain, link.email, hashed, "school", schools=[link.school_id],
                by=link.email, reason=msg("audit.invitation_accepted", by=link.created_by))

    # -- Password resets ------------------------------------------------------------------------

    def request_reset(self, email: str, *, ttl: int) -> tuple[Admin, str] | None:
        """A reset link for the account with this address (replacing older ones), or None."""
        admin = self._admins.by_email(email)
        if admin is None:
            return None
        token, now = new_token(), datetime.now(UTC)
        with self._admins.db.write() as session:  # audited when it is used, not before
            _prune(session, now)
            session.execute(delete(AdminLinkRow).where(AdminLinkRow.purpose == RESET,
                                                       AdminLinkRow.admin_id == admin.id,
                                                       AdminLinkRow.used_at.is_(None)))
            session.add(AdminLinkRow(token_hash=token_hash(token), purpose=RESET,
                                     email=admin.email, school_id=None, admin_id=admin.id,
                                     created_by=admin.email, created_at=now,
                                     expires_at=now + timedelta(seconds=ttl)))
        return admin, token

    def reset(self, token: str, password: str) -> Admin:
        """Spend the reset link and set the password: every session of the account ends."""
        hashed = accounts.password_hash(password)
        with self._ledger.writing() as chain:
            link = _spend(chain.session, token, RESET)
            row = chain.session.get(AdminRow, link.admin_id)
            if row is None:
                raise LinkRefused("unknown")
            before = accounts.record(chain.session, row)
            row.password_hash = hashed
            row.epoch += 1
            chain.session.execute(delete(AdminLinkRow).where(
                AdminLinkRow.purpose == RESET, AdminLinkRow.admin_id == row.id,
                AdminLinkRow.used_at.is_(None)))
            accounts.audit_account(chain, before, accounts.record(chain.session, row),
                                   row.email, msg("audit.password_reset"))
            return before

    # -- Either ---------------------------------------------------------------------------------

    def peek(self, token: str, purpose: str) -> Link:
        """The link, if it can still be used; LinkRefused otherwise. Spends nothing."""
        with self._admins.db.read() as session:
            return _usable(session, token, purpose)


def _prune(session: Session, now: datetime) -> None:
    """Forget links expired KEEP ago: until then a spent or expired link says so."""
    session.execute(delete(AdminLinkRow).where(AdminLinkRow.expires_at < now - KEEP))


def _usable(session: Session, token: str, purpose: str) -> Link:
    if not token or len(token) > MAX_TOKEN:
        raise LinkRefused("unknown")
    row = session.get(AdminLinkRow, token_hash(token))
    if row is None or row.purpose != purpose:
        raise LinkRefused("unknown")
    if row.used_at is not None:
        raise LinkRefused("used")
    if row.expires_at <= datetime.now(UTC):
        raise LinkRefused("expired")
    return _link(row)


def _spend(session: Session, token: str, purpose: str) -> Link:
    """Mark the link used, once: of two requests racing with one link, one wins."""
    link = _usable(session, token, purpose)
    spent = session.execute(update(AdminLinkRow).where(
        AdminLinkRow.token_hash == token_hash(token), AdminLinkRow.used_at.is_(None))
        .values(used_at=datetime.now(UTC)))
    if sql_door.rowcount(spent) != 1:
        raise LinkRefused("used")
    return link


def _audit(chain: Chain, school_id: str, by: str, before: dict[str, str] | None,
           after: dict[str, str] | None, reason: Message) -> None:
    chain.add(audit.audit_row(school_id, None, by, "admin", before, after, reason))
