"""The registry's JSON columns read back (broker/registry/json_read.py): each field as the
type Loper wrote it, absent fields as their defaults, a field of another shape refused with
its name; and a record's plain values as JSON."""

from __future__ import annotations

import pytest

from broker.jsonvalue import JsonObject
from broker.registry import json_read

STORED: JsonObject = {"via": "hub", "hub": True, "claims": {"role": "eduPersonAffiliation"},
                      "domains": ["school.example", "school.test"], "default_role": None}


def test_fields_come_back_as_written() -> None:
    assert json_read.text(STORED, "via") == "hub"
    assert json_read.flag(STORED, "hub") is True
    assert json_read.table(STORED, "claims") == {"role": "eduPersonAffiliation"}
    assert json_read.texts(STORED, "domains") == ("school.example", "school.test")
    assert json_read.optional_text(STORED, "default_role") is None


def test_absent_fields_read_as_their_defaults() -> None:
    assert json_read.flag(STORED, "hint") is False
    assert json_read.table(STORED, "roles") is None
    assert json_read.texts(STORED, "scopes") == ()
    assert json_read.optional_text(STORED, "hint_value") is None


@pytest.mark.parametrize(("read", "stored"), [
    (json_read.text, {"field": 1}),
    (json_read.text, {}),
    (json_read.optional_text, {"field": ["a"]}),
    (json_read.flag, {"field": "yes"}),
    (json_read.table, {"field": ["a"]}),
    (json_read.table, {"field": {"a": 1}}),
    (json_read.texts, {"field": "a"}),
    (json_read.texts, {"field": ["a", None]}),
])
def test_a_field_of_another_shape_is_refused_by_name(read: object, stored: JsonObject) -> None:
    assert callable(read)
    with pytest.raises(ValueError, match="'field'"):
        read(stored, "field")


def test_json_value_of_plain_values() -> None:
    assert json_read.json_value({"a": ("x", 1), "b": [None, True, 1.5]}) == {
        "a": ["x", 1], "b": [None, True, 1.5]}
    with pytest.raises(TypeError):
        json_read.json_value({"when": object()})
