"""The one serializer for what the state store keeps: typed dataclasses as MessagePack.

msgspec encodes and decodes by the type itself (fields, tuples, datetimes, bytes, None and
every falsy value as it is), so no record needs a hand-written round trip. It is kept small on
purpose (a few hundred bytes per in-flight login) and strict on the way back in: a record that
does not decode into its type is treated as absent, never half-trusted.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

import msgspec

T = TypeVar("T")

_ENCODER = msgspec.msgpack.Encoder()
_DECODERS: dict[type[Any], msgspec.msgpack.Decoder[Any]] = {}


def encode(value: object) -> bytes:
    """A dataclass (or any value msgspec knows) as MessagePack bytes."""
    return _ENCODER.encode(value)


def decode(data: bytes | None, kind: type[T]) -> T | None:
    """The `kind` that `data` encodes, or None for no data or data of any other shape."""
    if not data:
        return None
    try:
        value = _decoder(kind).decode(data)
    except (msgspec.DecodeError, TypeError, ValueError):  # TypeError: a __post_init__ check
        return None
    return value


def _decoder(kind: type[T]) -> msgspec.msgpack.Decoder[T]:
    """The decoder of `kind`, made once (the table keeps each under its own type)."""
    found = _DECODERS.get(kind)
    if found is None:
        found = _DECODERS[kind] = msgspec.msgpack.Decoder(kind)
    return cast("msgspec.msgpack.Decoder[T]", found)
