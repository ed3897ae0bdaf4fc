"""The registry's JSON columns, read back as the types Loper writes into them.

A school's and a supplier's `config` and an audit row's `detail` are JSON objects (Json, no
Any): each field is checked here against the type it was written with, so a row edited by
hand into another shape fails with the field's name instead of handing a record a value of
the wrong type. `json_value` is the other way: a record's plain value as a JSON value.
"""

from __future__ import annotations

from collections.abc import Mapping

from broker.jsonvalue import Json, JsonObject


def _wrong(key: str, expected: str, value: Json) -> ValueError:
    return ValueError(f"registry JSON field {key!r}: expected {expected}, "
                      f"got {type(value).__name__}")


def text(obj: JsonObject, key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise _wrong(key, "a string", value)
    return value


def optional_text(obj: JsonObject, key: str) -> str | None:
    """A string; None when the field is absent or null."""
    value = obj.get(key)
    return None if value is None else text(obj, key)


def flag(obj: JsonObject, key: str) -> bool:
    """A true/false field; False when absent (flags are written only when true)."""
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise _wrong(key, "true or false", value)
    return value


def table(obj: JsonObject, key: str) -> dict[str, str] | None:
    """A table of strings; None when absent or null."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _wrong(key, "a table", value)
    strings: dict[str, str] = {}
    for name, item in value.items():
        if not isinstance(item, str):
            raise _wrong(key, "a table of strings", item)
        strings[name] = item
    return strings


def texts(obj: JsonObject, key: str) -> tuple[str, ...]:
    """An array of strings; () when absent."""
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise _wrong(key, "an array", value)
    strings: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise _wrong(key, "an array of strings", item)
        strings.append(item)
    return tuple(strings)


def json_value(value: object) -> Json:
    """A record's value as config_fields.plain leaves it (arrays as lists or tuples, tables
    as mappings) as a JSON value; TypeError for a value JSON cannot hold."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        items: tuple[object, ...] = tuple(value)
        return [json_value(item) for item in items]
    if isinstance(value, Mapping):
        pairs: list[tuple[object, object]] = list(value.items())
        return {str(name): json_value(item) for name, item in pairs}
    raise TypeError(f"{type(value).__name__} is not a JSON value")
