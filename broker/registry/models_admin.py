"""The admin portal's tables: admin accounts, the schools each school admin manages, one-time
links (invitations, password resets) and recovery codes.

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
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    """The base32 TOTP secret (RFC 6238), sealed (broker/sealed.py), once the second factor is
    confirmed; None: password only."""
    epoch: Mapped[int]
    """Raised on a password reset: every session of an older epoch ends."""
    created_at: Mapped[datetime]


class AdminSchoolRow(Base):
    __tablename__ = "admin_schools"

    admin_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("admins.id", ondelete="CASCADE"), primary_key=True)
    school_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True, index=True)


class AdminLinkRow(Base):
    """A one-time link sent by e-mail: an invitation to become a school's admin, or a password
    reset. Only the SHA-256 of its token is kept; `used_at` set: spent."""

    __tablename__ = "admin_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    """"invite" or "reset"."""
    email: Mapped[str] = mapped_column(String(254), index=True)
    school_id: Mapped[str | None] = mapped_column(
        String(ID), ForeignKey("schools.id", ondelete="CASCADE"))
    """The school an invitation is for."""
    admin_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("admins.id", ondelete="CASCADE"))
    """The account a reset is for."""
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AdminRecoveryCodeRow(Base):
    """One recovery code of an account with a second factor: its SHA-256, usable once."""

    __tablename__ = "admin_recovery_codes"

    admin_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("admins.id", ondelete="CASCADE"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime | None]
