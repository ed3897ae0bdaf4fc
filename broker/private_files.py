"""Files only Loper's own user may read: the SQLite databases hold admins' password hashes,
inline client secrets, sessions and tokens.
"""

from __future__ import annotations

import os


def create_private(path: str) -> None:
    """Create the SQLite database file `path` empty, readable and writable by its owner only,
    unless it exists already (its mode is then the operator's). SQLite gives its -wal and -shm
    files the database's mode. A path that cannot be created is left to the database's own
    open, which says what is wrong."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError:
        return
