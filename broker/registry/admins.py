"""Admin accounts of the admin portal, and the few registry writes only the portal makes.

Roles: the federation operator (everything), a school admin (one or more schools and nothing
else), a supplier admin (their own supplier's registration). Passwords are hashed with
argon2id (argon2-cffi); a check against an unknown e-mail address costs the same as one
against a known address, so timing does not tell which accounts exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from broker.email_address import is_email, normalise_email
from broker.messages import Message, msg
from broker.records import AttributeRequest
from broker.registry import audit, supplier_requests
from broker.registry.config_fields import field_value
from broker.registry.db import Database
from broker.registry.json_read import json_value
from broker.registry.ledger import Chain, Ledger
from broker.registry.models import SchoolRow, SupplierRow
from broker.registry.models_admin import AdminRecoveryCodeRow, AdminRow, AdminSchoolRow
from broker.registry.registry import Registry
from broker.sealed import PREFIX as SEALED
from broker.sealed import Sealer, is_sealed

ROLES = ("operator", "school", "supplier")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024


class AlreadyAdmin(ValueError):
    """The e-mail address belongs to an admin account already."""


hasher = PasswordHasher()
"""argon2id with argon2-cffi's defaults (RFC 9106, low-memory profile); tests may swap it."""


@dataclass(frozen=True)
class Admin:
    id: int
    email: str
    role: str
    schools: frozenset[str]
    """The schools a school admin manages (empty for other roles)."""
    supplier_id: str | None
    totp_enabled: bool
    epoch: int

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    def can_manage_school(self, school_id: str) -> bool:
        return self.is_operator or (self.role == "school" and school_id in self.schools)

    def can_manage_supplier(self, supplier_id: str) -> bool:
        return self.is_operator or (self.role == "supplier" and supplier_id == self.supplier_id)


def password_problem(password: str) -> Message | None:
    """What is wrong with a new password, by the rules every way of setting one shares."""
    if password.isspace():
        return msg("admin.password_blank")
    if len(password) < MIN_PASSWORD:
        return msg("admin.password_short", n=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        return msg("admin.password_long")
    return None


def password_hash(password: str) -> str:
    """The argon2id hash of a new password; ValueError if it breaks the rules. Hash before
    taking the ledger's write lock: hashing is slow on purpose."""
    wrong = password_problem(password)
    if wrong:
        raise ValueError(str(wrong))
    return hasher.hash(password)


def record(session: Session, row: AdminRow) -> Admin:
    schools = session.scalars(select(AdminSchoolRow.school_id)
                              .where(AdminSchoolRow.admin_id == row.id))
    return Admin(id=row.id, email=row.email, role=row.role, schools=frozenset(schools),
                 supplier_id=row.supplier_id, totp_enabled=row.totp_secret is not None,
                 epoch=row.epoch)


def state(admin: Admin | None) -> audit.State:
    """An account as the audit trail shows it (never a password or a TOTP secret)."""
    if admin is None:
        return None
    return {"email": admin.email, "role": admin.role, "schools": json_value(sorted(admin.schools)),
            "supplier_id": admin.supplier_id, "second_factor": admin.totp_enabled}


def audit_account(chain: Chain, before: Admin | None, after: Admin | None, by: str,
                  reason: audit.Reason = None) -> None:
    """One audit row in each school the account serves (operators and supplier admins: in
    the chain, under no school)."""
    either = after or before
    assert either is not None
    schools = sorted((after.schools if after else frozenset())
                     | (before.schools if before else frozenset())) or [""]
    for school_id in schools:
        chain.add(audit.audit_row(school_id, either.supplier_id, by, "admin", state(before),
                                  state(after), reason))


def check_new_account(session: Session, email: str, role: str, schools: Sequence[str],
                      supplier_id: str | None) -> None:
    """ValueError saying what is wrong with a new account (unknown school, taken e-mail...)."""
    if not is_email(email):
        raise ValueError(f'"{email}" is not an e-mail address')
    if role not in ROLES:
        raise ValueError(f'unknown role "{role}"; expected one of {", ".join(ROLES)}')
    if (role == "school") != bool(schools) or (role == "supplier") != bool(supplier_id):
        raise ValueError("a school admin needs one or more schools, a supplier admin one "
                         "supplier, an operator neither")
    if session.scalar(select(AdminRow.id).where(AdminRow.email == email)) is not None:
        raise AlreadyAdmin(f'an admin with e-mail "{email}" already exists')
    for school_id in schools:
        if session.get(SchoolRow, school_id) is None:
            raise ValueError(f'unknown school "{school_id}"')
    if supplier_id is not None and session.get(SupplierRow, supplier_id) is None:
        raise ValueError(f'unknown supplier "{supplier_id}"')


def create_account(chain: Chain, email: str, hashed: str, role: str, *,
                   schools: Sequence[str] = (), supplier_id: str | None = None,
                   by: str, reason: audit.Reason) -> Admin:
    """Create an account (its password_hash() given) in `chain`'s transaction, with its audit
    row; ValueError if wrong."""
    email = normalise_email(email)
    session = chain.session
    check_new_account(session, email, role, schools, supplier_id)
    row = AdminRow(email=email, password_hash=hashed, role=role,
                   supplier_id=supplier_id, totp_secret=None, epoch=1,
                   created_at=datetime.now(UTC))
    session.add(row)
    session.flush()
    session.add_all(AdminSchoolRow(admin_id=row.id, school_id=s) for s in schools)
    session.flush()
    admin = record(session, row)
    audit_account(chain, None, admin, by, reason)
    return admin


class Admins:
    """Admin accounts on the registry's database. Creating an account, resetting its password
    and turning its second factor on or off are recorded in the audit trail."""

    def __init__(self, registry: Registry, sealer: Sealer | None = None) -> None:
        self._db: Database = registry._db  # one engine and pool for the whole registry
        self._ledger = registry.ledger()
        self._sealer = sealer
        self._dummy: str | None = None

    @property
    def ledger(self) -> Ledger:
        return self._ledger

    @property
    def db(self) -> Database:
        return self._db

    def add(self, email: str, password: str, role: str, *, schools: Iterable[str] = (),
            supplier_id: str | None = None, by: str = audit.COMMAND_LINE) -> Admin:
        """Create an account; ValueError says what is wrong (unknown school, taken e-mail...)."""
        hashed = password_hash(password)
        with self._ledger.writing() as chain:
            return create_account(chain, email, hashed, role, schools=sorted(set(schools)),
                                  supplier_id=supplier_id, by=by,
                                  reason=msg("audit.account_created"))

    def get(self, admin_id: int) -> Admin | None:
        with self._db.read() as session:
            row = session.get(AdminRow, admin_id)
            return record(session, row) if row else None

    def by_email(self, email: str) -> Admin | None:
        with self._db.read() as session:
            row = session.scalar(select(AdminRow).where(AdminRow.email == normalise_email(email)))
            return record(session, row) if row else None

    def all(self) -> list[Admin]:
        with self._db.read() as session:
            rows = session.scalars(select(AdminRow).order_by(AdminRow.email))
            return [record(session, row) for row in rows]

    def check_password(self, email: str, password: str) -> Admin | None:
        """The account if the password is right; None otherwise (same cost either way)."""
        with self._db.read() as session:
            row = session.scalar(select(AdminRow).where(AdminRow.email == normalise_email(email)))
            admin = record(session, row) if row else None
            stored = row.password_hash if row else None
        try:
            hasher.verify(stored or self._dummy_hash(), password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            return None
        if admin is None or stored is None:
            return None
        if hasher.check_needs_rehash(stored):
            self._set(admin.id, {"password_hash": hasher.hash(password)})
        return admin

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = hasher.hash("no such admin, no such password")
        return self._dummy

    def set_password(self, email: str, password: str, *, by: str = audit.COMMAND_LINE) -> Admin:
        """A new password; every session of the account ends (its epoch goes up)."""
        hashed = password_hash(password)
        admin = self.by_email(email)
        if admin is None:
            raise ValueError(f'no admin with e-mail "{normalise_email(email)}"')
        self._set(admin.id, {"password_hash": hashed, "epoch": admin.epoch + 1},
                  (by, msg("audit.password_set")))
        return admin

    def _seal(self) -> Sealer:
        if self._sealer is None:
            raise RuntimeError("Admins was made without the instance's sealing key")
        return self._sealer

    def totp_secret(self, admin_id: int) -> str | None:
        with self._db.read() as session:
            row = session.get(AdminRow, admin_id)
            stored = row.totp_secret if row else None
        return self._seal().open(stored) if stored is not None else None

    def set_totp(self, admin_id: int, secret: str | None, *,
                 by: str = audit.COMMAND_LINE) -> None:
        """Turn the second factor on (a secret) or off (None: its recovery codes go too)."""
        reason = msg("audit.totp_on") if secret is not None else msg("audit.totp_off")
        sealed = self._seal().seal(secret) if secret is not None else None
        self._set(admin_id, {"totp_secret": sealed}, (by, reason))
        if secret is None:
            with self._db.write() as session:
                session.execute(delete(AdminRecoveryCodeRow)
                                .where(AdminRecoveryCodeRow.admin_id == admin_id))

    def sealed_totp_owners(self) -> list[str]:
        """The e-mail addresses of the admins whose TOTP secret is sealed: only the instance's
        sealing key opens it."""
        with self._db.read() as session:
            return list(session.scalars(select(AdminRow.email).where(
                AdminRow.totp_secret.startswith(SEALED, autoescape=True)
            ).order_by(AdminRow.email)))

    def seal_plain_totp_secrets(self) -> int:
        """Seal the TOTP secrets stored before sealing existed; how many there were."""
        with self._db.write() as session:
            rows = session.scalars(select(AdminRow).where(AdminRow.totp_secret.is_not(None)))
            plain = [row for row in rows if row.totp_secret and not is_sealed(row.totp_secret)]
            for row in plain:
                row.totp_secret = self._seal().seal(str(row.totp_secret))
            return len(plain)

    def _set(self, admin_id: int, values: dict[str, object],
             audited: tuple[str, audit.Reason] | None = None) -> None:
        """Change the account; `audited` (who, why): also record it in the audit trail."""
        with self._ledger.writing() as chain:
            session = chain.session
            row = session.get(AdminRow, admin_id)
            if row is None:
                raise ValueError(f"no admin with id {admin_id}")
            before = record(session, row)
            changed = {key: value for key, value in values.items()
                       if field_value(row, key) != value}
            for key, value in changed.items():
                setattr(row, key, value)
            if audited is not None and changed:
                audit_account(chain, before, record(session, row), *audited)

    # The supplier admin's one write: what the supplier asks for, and why.

    def set_requests(self, supplier_id: str, requests: Sequence[AttributeRequest], *,
                     by: str = audit.COMMAND_LINE) -> None:
        supplier_requests.replace(self._ledger, supplier_id, requests, by)
