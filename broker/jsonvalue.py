"""JSON as Loper reads it at its edges: one typed value instead of json.loads's Any.

A school's discovery document, a token answer, a JWKS, a key file: each is parsed here once
and handed on as `Json`, so the code that reads it checks each field's type where it uses it
(`isinstance`) rather than trusting a value typed Any.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from joserfc.jwk import KeySetSerialization

Json = None | bool | int | float | str | list["Json"] | dict[str, "Json"]
JsonObject = dict[str, Json]


def loads(raw: str | bytes) -> Json:
    """The JSON value of `raw`; ValueError (or UnicodeDecodeError) when it is not JSON."""
    value: Json = json.loads(raw)
    return value


def loads_object(raw: str | bytes) -> JsonObject | None:
    """The JSON object of `raw`; None for JSON that is not an object; ValueError for no JSON."""
    value = loads(raw)
    return value if isinstance(value, dict) else None


def loads_key_set(raw: str | bytes) -> KeySetSerialization:
    """A JWKS as joserfc's KeySet.import_key_set takes it, unchecked: joserfc checks each key
    itself (and raises KeyError, TypeError, ValueError or JoseError). Its TypedDict types a
    key's members as strings or lists of strings, which a JWKS's need not be ("ext": true),
    so Json does not fit it."""
    value: KeySetSerialization = json.loads(raw)
    return value
