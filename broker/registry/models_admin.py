"""The admin portal's tables: admin accounts and the schools each school admin manages.

Registered on the registry's one `Base` (models.py imports this module), so the migration
check sees them; rows never leave the package (admins.py turns them into records).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from broker.registry.models import ID, Base


class AdminRow(Base):
    __tablename__ = "admins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    """Lowercase; the login name."""
    password_hash: Mapped[str] = mapped_column(String(255))
    """argon2id, in the PHC string format."""
    role: Mapped[str] = mapped_column(String(16))
    """"operator", "school" or "supplier"."""
    supplier_id: Mapped[str | None] = mapped_column(
        String(ID), ForeignKey("suppliers.id", ondelete="CASCADE"))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    """Base32 TOTP secret (RFC 6238) once the second factor is confirmed; None: password only."""
    epoch: Mapped[int]
    """Raised on a password reset: every session of an older epoch ends."""
    created_at: Mapped[datetime]


class AdminSchoolRow(Base):
    __tablename__ = "admin_schools"

    admin_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("admins.id", ondelete="CASCADE"), primary_key=True)
    school_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True, index=True)
