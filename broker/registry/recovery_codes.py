"""Recovery codes: a way in for an admin whose authenticator app is gone.

Ten codes of 80 random bits each, shown once when the second factor is turned on; the
registry keeps only their SHA-256 (80 bits need no slow hash). A code works once; using one
is recorded in the audit trail (never the code).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update

from broker.messages import msg
from broker.registry import admins as accounts
from broker.registry import sql_door
from broker.registry.admins import Admins
from broker.registry.models_admin import AdminRecoveryCodeRow, AdminRow

COUNT = 10


def _new_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def normalise(code: str) -> str:
    """What the admin typed, without spaces and dashes, in lowercase."""
    return "".join(c for c in code.lower() if c.isalnum())[:64]


def looks_like_code(code: str) -> bool:
    return len(normalise(code)) == 16


def _hash(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


class RecoveryCodes:
    def __init__(self, admins: Admins) -> None:
        self._admins = admins

    def replace(self, admin_id: int, *, by: str) -> list[str]:
        """New codes for the account (the old ones stop working); shown once, never again."""
        codes = [_new_code() for _ in range(COUNT)]
        with self._admins.ledger.writing() as chain:
            session = chain.session
            row = session.get(AdminRow, admin_id)
            if row is None:
                raise ValueError(f"no admin with id {admin_id}")
            session.execute(delete(AdminRecoveryCodeRow)
                            .where(AdminRecoveryCodeRow.admin_id == admin_id))
            session.add_all(AdminRecoveryCodeRow(admin_id=admin_id, code_hash=_hash(code),
                                                 used_at=None) for code in codes)
            admin = accounts.record(session, row)
            accounts.audit_account(chain, admin, admin, by, msg("audit.recovery_codes_made",
                                                                n=COUNT))
        return codes

    def left(self, admin_id: int) -> int:
        with self._admins.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(AdminRecoveryCodeRow)
                                      .where(AdminRecoveryCodeRow.admin_id == admin_id,
                                             AdminRecoveryCodeRow.used_at.is_(None))) or 0)

    def use(self, admin_id: int, code: str) -> bool:
        """Spend the code if it is one of the account's unused codes (once, even in a race)."""
        if not looks_like_code(code):
            return False
        with self._admins.ledger.writing() as chain:
            session = chain.session
            spent = session.execute(update(AdminRecoveryCodeRow).where(
                AdminRecoveryCodeRow.admin_id == admin_id,
                AdminRecoveryCodeRow.code_hash == _hash(code),
                AdminRecoveryCodeRow.used_at.is_(None)).values(used_at=datetime.now(UTC)))
            if sql_door.rowcount(spent) != 1:
                return False
            row = session.get(AdminRow, admin_id)
            assert row is not None
            admin = accounts.record(session, row)
            accounts.audit_account(chain, admin, admin, admin.email,
                                   msg("audit.recovery_code_used"))
            return True
