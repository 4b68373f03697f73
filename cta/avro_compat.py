"""Avro schema resolution as a compatibility check (pure).

``backward_incompatibilities(reader, writer)`` lists why data written with ``writer`` could not
be read with ``reader`` under the Avro specification's resolution rules; an empty list means
compatible. BACKWARD compatibility: the new schema is the reader, the old one the writer.
"""

from __future__ import annotations

import json
from typing import Any

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED = frozenset({"record", "error", "enum", "fixed"})
# writer type -> reader types that may read it.
PROMOTIONS: dict[str, frozenset[str]] = {
    "int": frozenset({"long", "float", "double"}),
    "long": frozenset({"float", "double"}),
    "float": frozenset({"double"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}


class SchemaParseError(ValueError):
    """A schema that is not valid Avro JSON."""


class NamedTypes:
    """Every named type of one schema by full name, so references resolve."""

    def __init__(self, schema: Any) -> None:
        self.types: dict[str, dict[str, Any]] = {}
        self._collect(schema, "")

    def _collect(self, schema: Any, namespace: str) -> None:
        if isinstance(schema, list):
            for branch in schema:
                self._collect(branch, namespace)
        elif isinstance(schema, dict):
            kind = schema.get("type")
            if kind in NAMED:
                name = full_name(schema, namespace)
                self.types[name] = schema
                namespace = name.rpartition(".")[0]
                for field in schema.get("fields", []) if kind in ("record", "error") else []:
                    self._collect(field.get("type"), namespace)
            elif kind == "array":
                self._collect(schema.get("items"), namespace)
            elif kind == "map":
                self._collect(schema.get("values"), namespace)
            elif isinstance(kind, (dict, list)):
                self._collect(kind, namespace)

    def resolve(self, schema: Any, namespace: str = "") -> Any:
        """Replace a reference by its definition; unwrap ``{"type": "int"}``."""
        if isinstance(schema, str) and schema not in PRIMITIVES:
            for candidate in (schema, f"{namespace}.{schema}" if namespace else schema):
                if candidate in self.types:
                    return self.types[candidate]
            short = [t for n, t in self.types.items() if n.rpartition(".")[2] == schema]
            if len(short) == 1:
                return short[0]
            raise SchemaParseError(f"unknown type {schema!r}")
        if isinstance(schema, dict) and not isinstance(schema.get("type"), str | type(None)):
            return self.resolve(schema["type"], namespace)
        if isinstance(schema, dict) and schema.get("type") in PRIMITIVES:
            return schema["type"]
        return schema


def full_name(schema: dict[str, Any], namespace: str = "") -> str:
    name = str(schema.get("name", ""))
    if "." in name:
        return name
    space = schema.get("namespace", namespace) or ""
    return f"{space}.{name}" if space else name


def type_name(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return "union"
    kind = schema.get("type")
    return str(schema.get("name", kind)) if kind in NAMED else str(kind)


def backward_incompatibilities(reader: str, writer: str) -> list[str]:
    """Why ``reader`` cannot read data written with ``writer`` (empty: it can)."""
    try:
        reader_schema, writer_schema = json.loads(reader), json.loads(writer)
    except json.JSONDecodeError as exc:
        raise SchemaParseError(f"schema is not JSON: {exc}") from exc
    checker = _Resolver(NamedTypes(reader_schema), NamedTypes(writer_schema))
    checker.check(reader_schema, writer_schema, type_name(reader_schema))
    return checker.problems


class _Resolver:
    def __init__(self, reader_types: NamedTypes, writer_types: NamedTypes) -> None:
        self.reader_types = reader_types
        self.writer_types = writer_types
        self.problems: list[str] = []
        # Recursive types: a pair of named types already being compared is assumed fine.
        self._visiting: set[tuple[str, str]] = set()

    def check(self, reader: Any, writer: Any, path: str) -> None:
        reader = self.reader_types.resolve(reader)
        writer = self.writer_types.resolve(writer)
        if isinstance(writer, list):
            for branch in writer:
                self.check(reader, branch, path)
            return
        if isinstance(reader, list):
            if not any(self._matches(branch, writer) for branch in reader):
                self.problems.append(
                    f"{path}: writer type {type_name(writer)!r} is not in the reader's union "
                    f"{[type_name(self.reader_types.resolve(b)) for b in reader]}"
                )
            else:
                branch = next(b for b in reader if self._matches(b, writer))
                self.check(branch, writer, path)
            return
        reader_kind, writer_kind = _kind(reader), _kind(writer)
        if reader_kind != writer_kind:
            if reader_kind not in PROMOTIONS.get(writer_kind, frozenset()):
                self.problems.append(
                    f"{path}: writer type {type_name(writer)!r} cannot be read as "
                    f"{type_name(reader)!r}"
                )
            return
        if reader_kind in NAMED and not self._same_name(reader, writer, path):
            return
        if reader_kind in ("record", "error"):
            self._check_record(reader, writer, path)
        elif reader_kind == "enum":
            self._check_enum(reader, writer, path)
        elif reader_kind == "fixed" and reader.get("size") != writer.get("size"):
            self.problems.append(
                f"{path}: fixed size changed from {writer.get('size')} to {reader.get('size')}"
            )
        elif reader_kind == "array":
            self.check(reader.get("items"), writer.get("items"), f"{path}[]")
        elif reader_kind == "map":
            self.check(reader.get("values"), writer.get("values"), f"{path}{{}}")

    def _matches(self, reader: Any, writer: Any) -> bool:
        """The first-match rule for a reader union: same kind (and name), or a promotion."""
        reader = self.reader_types.resolve(reader)
        reader_kind, writer_kind = _kind(reader), _kind(writer)
        if reader_kind == writer_kind:
            return reader_kind not in NAMED or _short(reader) == _short(writer)
        return reader_kind in PROMOTIONS.get(writer_kind, frozenset())

    def _same_name(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> bool:
        aliases = {str(a).rpartition(".")[2] for a in reader.get("aliases", [])}
        if _short(reader) == _short(writer) or _short(writer) in aliases:
            return True
        self.problems.append(
            f"{path}: {_kind(reader)} name changed from {_short(writer)!r} to {_short(reader)!r}"
        )
        return False

    def _check_record(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> None:
        pair = (full_name(reader), full_name(writer))
        if pair in self._visiting:
            return
        self._visiting.add(pair)
        writer_fields = {f["name"]: f for f in writer.get("fields", [])}
        for field in reader.get("fields", []):
            names = [field["name"], *field.get("aliases", [])]
            match = next((writer_fields[n] for n in names if n in writer_fields), None)
            where = f"{path}.{field['name']}"
            if match is not None:
                self.check(field.get("type"), match.get("type"), where)
            elif "default" not in field:
                self.problems.append(f"{where}: field added without a default")
        self._visiting.discard(pair)

    def _check_enum(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> None:
        missing = [s for s in writer.get("symbols", []) if s not in reader.get("symbols", [])]
        if missing and "default" not in reader:
            self.problems.append(f"{path}: enum symbols {missing} removed without a default")


def _kind(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, dict):
        return str(schema.get("type"))
    return "union"


def _short(schema: dict[str, Any]) -> str:
    return str(schema.get("name", "")).rpartition(".")[2]
