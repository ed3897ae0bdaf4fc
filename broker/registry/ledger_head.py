"""The ledger's head, kept outside the database: the newest row a writer saw committed.

A hash chain shows an edited, removed or reordered row, but not a lost tail: when the last
transactions vanish (a power cut under a disk that did not keep its promise, a restored old
copy), the checkpoint row inside the database vanishes with them and what remains is a
shorter, valid chain. So after every commit the writer also records (seq, hash) of its row in
this file, synced before the append returns; `broker ledger verify` then demands that row.

The file only moves forward (a writer whose row is older than the recorded one leaves it), so
concurrent writers never make it name a row that was not committed. It is created whole (a
synced draft, linked into place) with two slots, each with a CRC; a write replaces the older
slot only, so a write torn by a power cut, or read halfway, leaves the other one valid.
Writers take an exclusive flock (the processes of one machine); readers take no lock.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

SLOT = 512
"""Bytes per slot: each slot lies in a sector of its own."""
_RECORD = re.compile(rb"(\d{20}) ([0-9a-f]{64}) ([0-9a-f]{8})\n\0*")


class HeadDamaged(Exception):
    """The head file exists but cannot be read, or neither slot holds a valid record."""


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


def _encode(head: Head) -> bytes:
    body = f"{head.seq:020d} {head.hash}".encode()
    return f"{body.decode()} {zlib.crc32(body):08x}\n".encode().ljust(SLOT, b"\0")


def _decode(slot: bytes) -> Head | None:
    match = _RECORD.fullmatch(slot)
    if match is None or int(match[3], 16) != zlib.crc32(match[1] + b" " + match[2]):
        return None
    return Head(int(match[1]), match[2].decode())


def _slots(data: bytes) -> list[Head | None]:
    return [_decode(data[i:i + SLOT]) for i in (0, SLOT)]


def _newest(slots: list[Head | None]) -> Head | None:
    valid = [head for head in slots if head is not None]
    return max(valid, key=lambda head: head.seq, default=None)


class HeadFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Head | None:
        """The newest recorded head; None when no row was recorded yet. Takes no lock: a
        write in progress changes one slot, and the other is valid and names a committed row."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise HeadDamaged(f"{self.path} cannot be read: {exc.strerror}") from exc
        try:
            data = os.pread(fd, 2 * SLOT, 0)
        except OSError as exc:
            raise HeadDamaged(f"{self.path} cannot be read: {exc.strerror}") from exc
        finally:
            os.close(fd)
        head = _newest(_slots(data))
        if head is None:
            raise HeadDamaged(f"{self.path} is damaged: neither of its records is readable")
        return head

    def advance(self, head: Head) -> None:
        """Record `head` unless a newer row is recorded already; durable when it returns."""
        if not self.path.exists() and self._create(head):
            return
        fd = os.open(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # writers one at a time; readers need no lock
            slots = _slots(os.pread(fd, 2 * SLOT, 0))
            newest = _newest(slots)
            if newest is not None and newest.seq >= head.seq:
                return
            older = next((i for i, slot in enumerate(slots) if slot is None or slot != newest), 0)
            os.pwrite(fd, _encode(head), older * SLOT)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _create(self, head: Head) -> bool:
        """The file appears whole, both slots valid, or not at all; False if another writer
        created it first."""
        draft = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, _encode(head) * 2)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(draft, self.path)  # unlike a rename, never replaces an existing file
        except FileExistsError:
            return False
        finally:
            draft.unlink()
        _sync_directory(self.path.parent)
        return True


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
