"""The registry: schools, suppliers, release policies, aliases and the release ledger.

Backed by SQLAlchemy (SQLite embedded, PostgreSQL at scale); everything it returns is a
frozen record of broker/records.py. The federation file is read and written here too.
"""

from broker.registry.db import RegistryUnavailable
from broker.registry.federation import (
    UNPINNED,
    Federation,
    FederationError,
    dump_federation,
    load_federation,
)
from broker.registry.ledger import Ledger, LedgerEntry, VerifyResult
from broker.registry.registry import ImportSummary, Registry
from broker.registry.release_entries import ReleaseChanged

__all__ = [
    "UNPINNED",
    "Federation",
    "FederationError",
    "ImportSummary",
    "Ledger",
    "LedgerEntry",
    "Registry",
    "RegistryUnavailable",
    "ReleaseChanged",
    "VerifyResult",
    "dump_federation",
    "load_federation",
]
