"""Avro schema resolution rules as compatibility checks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cta.avro_compat import SchemaParseError, backward_incompatibilities
from cta.schemas import load


def record(*fields: dict[str, Any], name: str = "Weather", **extra: Any) -> str:
    return json.dumps({"type": "record", "name": name, "fields": list(fields), **extra})


def field(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def problems(reader: str, writer: str) -> list[str]:
    return backward_incompatibilities(reader, writer)


def test_identical_schemas_are_compatible() -> None:
    for name in ("arrival_value", "turnstile_value", "weather_value", "weather_key"):
        assert problems(load(name), load(name)) == []


def test_field_added_with_default_is_compatible() -> None:
    old = record(field("a", "int"))
    new = record(field("a", "int"), field("b", "string", default="x"))
    assert problems(new, old) == []


def test_field_added_without_default_is_named() -> None:
    old = record(field("a", "int"))
    new = record(field("a", "int"), field("b", "string"))
    assert problems(new, old) == ["Weather.b: field added without a default"]


def test_removed_field_is_compatible_for_the_reader() -> None:
    assert problems(record(field("a", "int")), record(field("a", "int"), field("b", "int"))) == []


@pytest.mark.parametrize(
    ("writer", "reader"),
    [
        ("int", "long"),
        ("int", "float"),
        ("int", "double"),
        ("long", "float"),
        ("long", "double"),
        ("float", "double"),
        ("string", "bytes"),
        ("bytes", "string"),
    ],
)
def test_legal_promotions(writer: str, reader: str) -> None:
    assert problems(record(field("t", reader)), record(field("t", writer))) == []


@pytest.mark.parametrize(
    ("writer", "reader"),
    [
        ("long", "int"),
        ("double", "float"),
        ("double", "int"),
        ("int", "string"),
        ("boolean", "int"),
    ],
)
def test_narrowing_or_unrelated_type_change_is_refused(writer: str, reader: str) -> None:
    found = problems(record(field("t", reader)), record(field("t", writer)))
    assert found == [f"Weather.t: writer type {writer!r} cannot be read as {reader!r}"]


def test_the_classic_line_int_to_string_change() -> None:
    found = problems(record(field("line", "string")), record(field("line", "int")))
    assert found and "line" in found[0]


def test_enum_symbol_removed() -> None:
    old = record(field("s", {"type": "enum", "name": "S", "symbols": ["A", "B"]}))
    new = record(field("s", {"type": "enum", "name": "S", "symbols": ["A"]}))
    assert problems(new, old) == ["Weather.s: enum symbols ['B'] removed without a default"]
    enum_with_default = {"type": "enum", "name": "S", "symbols": ["A"], "default": "A"}
    with_default = record(field("s", enum_with_default))
    assert problems(with_default, old) == []
    added = record(field("s", {"type": "enum", "name": "S", "symbols": ["A", "B", "C"]}))
    assert problems(added, old) == []


def test_record_name_mismatch() -> None:
    found = problems(record(field("a", "int"), name="New"), record(field("a", "int"), name="Old"))
    assert found == ["New: record name changed from 'Old' to 'New'"]
    aliased = record(field("a", "int"), name="New", aliases=["Old"])
    assert problems(aliased, record(field("a", "int"), name="Old")) == []


def test_namespace_change_alone_is_allowed() -> None:
    old = record(field("a", "int"), namespace="com.udacity")
    new = record(field("a", "int"), namespace="org.chicago.cta")
    assert problems(new, old) == []


def test_unions() -> None:
    nullable_int = record(field("p", ["null", "int"], default=None))
    plain_int = record(field("p", "int"))
    nullable_long = record(field("p", ["null", "long"], default=None))
    # A reader union reads any writer branch it contains (promotions included).
    assert problems(nullable_int, plain_int) == []
    assert problems(nullable_long, nullable_int) == []
    # A writer union needs every branch readable: null cannot be read as int.
    assert problems(plain_int, nullable_int) == [
        "Weather.p: writer type 'null' cannot be read as 'int'"
    ]
    narrower = record(field("p", ["null", "string"], default=None))
    assert problems(narrower, nullable_int) == [
        "Weather.p: writer type 'int' is not in the reader's union ['null', 'string']"
    ]


def test_nested_records_arrays_and_maps() -> None:
    inner_old = {"type": "record", "name": "Inner", "fields": [field("x", "int")]}
    inner_new = {**inner_old, "fields": [field("x", "int"), field("y", "int")]}
    old = record(field("list", {"type": "array", "items": inner_old}))
    new = record(field("list", {"type": "array", "items": inner_new}))
    assert problems(new, old) == ["Weather.list[].y: field added without a default"]
    old_map = record(field("m", {"type": "map", "values": "long"}))
    new_map = record(field("m", {"type": "map", "values": "int"}))
    assert problems(new_map, old_map) == ["Weather.m{}: writer type 'long' cannot be read as 'int'"]


def test_named_type_references_and_recursion() -> None:
    node = {
        "type": "record",
        "name": "Node",
        "namespace": "org.x",
        "fields": [field("v", "int"), field("next", ["null", "Node"], default=None)],
    }
    schema = json.dumps(node)
    assert problems(schema, schema) == []
    pair = record(field("a", node), field("b", "org.x.Node"))
    assert problems(pair, pair) == []


def test_fixed_size_change() -> None:
    old = record(field("f", {"type": "fixed", "name": "F", "size": 4}))
    new = record(field("f", {"type": "fixed", "name": "F", "size": 8}))
    assert problems(new, old) == ["Weather.f: fixed size changed from 4 to 8"]


def test_several_problems_are_all_reported() -> None:
    old = record(field("a", "int"), field("b", "double"))
    new = record(field("a", "string"), field("b", "float"), field("c", "int"))
    assert len(problems(new, old)) == 3


def test_not_json_is_a_parse_error() -> None:
    with pytest.raises(SchemaParseError):
        problems("{nope", "{}")
