"""The admins of one school: who they are, and taking one off the school (the portal's
"Admins" page; inviting is admin_links.py); whom to tell of a change, by e-mail."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select

from broker.messages import Message, msg
from broker.registry import admins as accounts
from broker.registry import audit
from broker.registry.admins import Admin, Admins
from broker.registry.models_admin import AdminRow, AdminSchoolRow

REMOVED: Message = msg("audit.removed_from_school")


def of_school(admins: Admins, school_id: str) -> list[Admin]:
    """The school admins of one school."""
    with admins.db.read() as session:
        rows = session.scalars(select(AdminRow).join(AdminSchoolRow)
                               .where(AdminSchoolRow.school_id == school_id,
                                      AdminRow.role == "school").order_by(AdminRow.email))
        return [accounts.record(session, row) for row in rows]


def emails_of_schools(admins: Admins, school_ids: Collection[str]) -> dict[str, list[str]]:
    """school id -> the e-mail addresses of its school admins, for many schools in one query
    (a supplier's notice to every school it works with)."""
    found: dict[str, list[str]] = {school_id: [] for school_id in school_ids}
    with admins.db.read() as session:
        rows = session.execute(select(AdminSchoolRow.school_id, AdminRow.email).join(AdminRow)
                               .where(AdminSchoolRow.school_id.in_(list(found)),
                                      AdminRow.role == "school").order_by(AdminRow.email))
        for school_id, email in rows:
            found[school_id].append(email)
    return found


def emails_of_supplier(admins: Admins, supplier_id: str) -> list[str]:
    """The e-mail addresses of a supplier's admins."""
    with admins.db.read() as session:
        return list(session.scalars(select(AdminRow.email).where(
            AdminRow.role == "supplier", AdminRow.supplier_id == supplier_id)
            .order_by(AdminRow.email)))


def remove_from_school(admins: Admins, admin_id: int, school_id: str, *, by: str) -> Admin:
    """The admin no longer manages the school; an account left without a school is
    deleted (its sessions end with it). ValueError: not a school admin of that school."""
    with admins.ledger.writing() as chain:
        session = chain.session
        row = session.get(AdminRow, admin_id)
        before = accounts.record(session, row) if row else None
        if row is None or before is None or before.role != "school" or (
                school_id not in before.schools):
            raise ValueError(f"no school admin of {school_id} with id {admin_id}")
        session.execute(delete(AdminSchoolRow).where(AdminSchoolRow.admin_id == admin_id,
                                                     AdminSchoolRow.school_id == school_id))
        if before.schools == {school_id}:
            session.delete(row)
            after = None
        else:
            session.flush()
            after = accounts.record(session, row)
        chain.add(audit.audit_row(school_id, None, by, "admin", accounts.state(before),
                                  accounts.state(after), REMOVED))
        return before


def was_removed(admins: Admins, admin: Admin, school_id: str) -> bool:
    """Whether the school's audit trail has `admin` taken off the school (an admin of two
    schools removed from one): removing them again is told as done, not refused."""
    trail = audit.AuditTrail(admins.db).entries(school_id, actions=frozenset({"admin"}))
    return any(entry.reason == REMOVED and entry.before is not None
               and entry.before.get("email") == admin.email for entry in trail)
