"""Avro's JSON encoding (what REST Proxy clients send) to the values fastavro writes.

Strict, with errors that name the field: a non-null union value must be wrapped as
``{"<branch>": value}``; ints must be whole numbers in range; unknown fields are refused.
"""

from __future__ import annotations

from typing import Any

from cta.avro_compat import PRIMITIVES, NamedTypes, SchemaParseError, full_name

_RANGES = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


class AvroJsonError(ValueError):
    """A JSON value that does not match its Avro schema."""


def decode_avro_json(schema: Any, value: Any) -> Any:
    """Convert ``value`` (Avro JSON encoding) for the parsed JSON ``schema``."""
    types = NamedTypes(schema)
    try:
        return _Converter(types).convert(schema, value, _label(schema), "")
    except SchemaParseError as exc:
        raise AvroJsonError(str(exc)) from exc


def _label(schema: Any) -> str:
    if isinstance(schema, dict) and "name" in schema:
        return str(schema["name"])
    return "value"


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Converter:
    def __init__(self, types: NamedTypes) -> None:
        self._types = types

    def convert(self, schema: Any, value: Any, path: str, namespace: str) -> Any:
        schema = self._types.resolve(schema, namespace)
        if isinstance(schema, list):
            return self._union(schema, value, path, namespace)
        if isinstance(schema, str):
            return self._primitive(schema, value, path)
        kind = schema.get("type")
        if kind in ("record", "error"):
            return self._record(schema, value, path, namespace)
        if kind == "enum":
            symbols = schema.get("symbols", [])
            if value not in symbols:
                raise AvroJsonError(f"{path}: {_describe(value)} is not one of {symbols}")
            return value
        if kind == "fixed":
            data = self._primitive("bytes", value, path)
            if len(data) != schema.get("size"):
                raise AvroJsonError(f"{path}: fixed needs {schema.get('size')} bytes")
            return data
        if kind == "array":
            if not isinstance(value, list):
                raise AvroJsonError(f"{path}: expected an array, got {_describe(value)}")
            items = schema.get("items")
            return [self.convert(items, v, f"{path}[{i}]", namespace) for i, v in enumerate(value)]
        if kind == "map":
            if not isinstance(value, dict):
                raise AvroJsonError(f"{path}: expected a map, got {_describe(value)}")
            values = schema.get("values")
            return {k: self.convert(values, v, f"{path}.{k}", namespace) for k, v in value.items()}
        raise AvroJsonError(f"{path}: unsupported schema {_describe(schema)}")

    def _primitive(self, kind: str, value: Any, path: str) -> Any:
        ok = {
            "null": value is None,
            "boolean": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "long": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
            "double": isinstance(value, int | float) and not isinstance(value, bool),
            "string": isinstance(value, str),
            "bytes": isinstance(value, str),
        }.get(kind, False)
        if not ok:
            raise AvroJsonError(f"{path}: expected {kind}, got {_describe(value)}")
        if kind in _RANGES:
            low, high = _RANGES[kind]
            if not low <= value <= high:
                raise AvroJsonError(f"{path}: {value} is out of range for {kind}")
        if kind == "bytes":
            try:
                return value.encode("latin-1")  # Avro JSON: one code point per byte
            except UnicodeEncodeError as exc:
                raise AvroJsonError(f"{path}: bytes must be code points 0-255") from exc
        if kind in ("float", "double"):
            return float(value)
        return value

    def _union(self, branches: list[Any], value: Any, path: str, namespace: str) -> Any:
        resolved = [self._types.resolve(b, namespace) for b in branches]
        if value is None:
            if "null" in resolved:
                return None
            raise AvroJsonError(f"{path}: null is not allowed")
        if not isinstance(value, dict) or len(value) != 1:
            raise AvroJsonError(
                f"{path}: a union value must be written as {{\"<type>\": value}}, "
                f"got {_describe(value)}"
            )
        (name, inner), = value.items()
        for branch in resolved:
            names = {branch} if isinstance(branch, str) else _names(branch, namespace)
            if name in names:
                return self.convert(branch, inner, path, namespace)
        raise AvroJsonError(f"{path}: {name!r} is not a branch of the union")

    def _record(self, schema: dict[str, Any], value: Any, path: str, namespace: str) -> Any:
        if not isinstance(value, dict):
            raise AvroJsonError(f"{path}: expected a record, got {_describe(value)}")
        inner_namespace = full_name(schema, namespace).rpartition(".")[0]
        fields = schema.get("fields", [])
        unknown = set(value) - {f["name"] for f in fields}
        if unknown:
            raise AvroJsonError(f"{path}: unknown fields {sorted(unknown)}")
        converted: dict[str, Any] = {}
        for field in fields:
            name = field["name"]
            where = f"{path}.{name}"
            if name in value:
                converted[name] = self.convert(field["type"], value[name], where, inner_namespace)
            elif "default" in field:
                converted[name] = field["default"]
            else:
                raise AvroJsonError(f"{where}: missing (no default)")
        return converted


def _names(schema: Any, namespace: str) -> set[str]:
    if isinstance(schema, dict):
        kind = schema.get("type")
        if "name" in schema:
            full = full_name(schema, namespace)
            return {full, full.rpartition(".")[2]}
        return {str(kind)}
    return {str(schema)} if schema in PRIMITIVES else set()
