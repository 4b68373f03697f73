"""Serialization formats of KSQL sources and sinks: row decoding, key and value encoding.

Supported: value formats AVRO (Confluent wire format, schema from the registry) and JSON; key
formats KAFKA (Kafka's primitive serializers), JSON, AVRO (a one-field record key is unwrapped)
and NONE. Inferred and decoded column names are upper-cased, as ksqlDB does.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import Any

from cta.avro import AvroDecoder, WireFormatError
from cta.ksql.statements import ColumnDef
from cta.ports import SchemaRegistryError

KEY_FORMATS = frozenset({"KAFKA", "JSON", "AVRO", "NONE"})
VALUE_FORMATS = frozenset({"AVRO", "JSON"})
SINK_KEY_FORMATS = frozenset({"KAFKA", "JSON"})
SINK_VALUE_FORMATS = frozenset({"JSON"})

_AVRO_TYPES = {
    "int": "INTEGER",
    "long": "BIGINT",
    "string": "STRING",
    "double": "DOUBLE",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "bytes": "BYTES",
}
_KAFKA_NUMBERS = {
    "INTEGER": struct.Struct(">i"),
    "BIGINT": struct.Struct(">q"),
    "DOUBLE": struct.Struct(">d"),
}


class DecodeError(ValueError):
    """A record that does not match its source's format; the reason goes to the dead letters."""


def columns_from_avro(schema_text: str) -> tuple[ColumnDef, ...]:
    """Value columns inferred from a registered Avro record schema."""
    schema = json.loads(schema_text)
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise ValueError("the registered value schema is not an Avro record")
    return tuple(
        ColumnDef(str(field["name"]).upper(), _sql_type(field["type"]))
        for field in schema["fields"]
    )


def _sql_type(avro_type: Any) -> str:
    if isinstance(avro_type, list):
        branches = [t for t in avro_type if t != "null"]
        return _sql_type(branches[0]) if len(branches) == 1 else "STRUCT<...>"
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if logical == "timestamp-millis":
            return "TIMESTAMP"
        inner = avro_type.get("type")
        if inner == "array":
            return f"ARRAY<{_sql_type(avro_type['items'])}>"
        if inner == "map":
            return f"MAP<STRING, {_sql_type(avro_type['values'])}>"
        if inner == "enum":
            return "STRING"
        if inner == "record":
            return "STRUCT<...>"
        return _sql_type(inner)
    return _AVRO_TYPES.get(str(avro_type), "STRING")


class RowDecoder:
    """Turns a source record's key and value bytes into a row of its declared columns."""

    def __init__(
        self,
        columns: tuple[ColumnDef, ...],
        key_format: str,
        value_format: str,
        avro: AvroDecoder,
    ) -> None:
        self._value_columns = [c.name for c in columns if not c.key]
        self._key_column = next((c for c in columns if c.key), None)
        self._key_format = key_format
        self._value_format = value_format
        self._avro = avro
        self._matches: dict[tuple[str, ...], tuple[tuple[str, str | None], ...]] = {}

    def decode(self, key: bytes | None, value: bytes) -> dict[str, Any]:
        fields = self._value_fields(value)
        # Columns match fields case-insensitively; the match depends only on the field names,
        # which repeat record after record, so it is worked out once per set of names.
        names = tuple(fields)
        matches = self._matches.get(names)
        if matches is None:
            by_upper = {name.upper(): name for name in names}
            matches = tuple((col, by_upper.get(col.upper())) for col in self._value_columns)
            if len(self._matches) < 64:
                self._matches[names] = matches
        row = {col: None if field is None else fields[field] for col, field in matches}
        if self._key_column is not None:
            row[self._key_column.name] = decode_key(
                key, self._key_column.type, self._key_format, self._avro
            )
        return row

    def _value_fields(self, value: bytes) -> Mapping[str, Any]:
        if self._value_format == "AVRO":
            try:
                return self._avro.decode(value)
            except (WireFormatError, SchemaRegistryError) as exc:
                raise DecodeError(f"value is not Avro of a registered schema: {exc}") from exc
        try:
            decoded = json.loads(value)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DecodeError(f"value is not JSON: {exc}") from exc
        if not isinstance(decoded, dict):
            raise DecodeError(f"JSON value is a {type(decoded).__name__}, not an object")
        return decoded


def decode_key(key: bytes | None, sql_type: str, key_format: str, avro: AvroDecoder) -> Any:
    if key is None or key_format == "NONE":
        return None
    try:
        if key_format == "JSON":
            return json.loads(key)
        if key_format == "AVRO":
            record = avro.decode(key)
            return next(iter(record.values())) if len(record) == 1 else record
        if sql_type in _KAFKA_NUMBERS:
            return _KAFKA_NUMBERS[sql_type].unpack(key)[0]
        return key.decode("utf-8")
    except (ValueError, struct.error, WireFormatError, SchemaRegistryError) as exc:
        raise DecodeError(f"key is not {key_format} {sql_type}: {exc}") from exc


def encode_key(value: Any, sql_type: str, key_format: str) -> bytes:
    if key_format == "JSON":
        return json.dumps(value, separators=(",", ":")).encode("utf-8")
    if sql_type in _KAFKA_NUMBERS:
        return _KAFKA_NUMBERS[sql_type].pack(value)
    return str(value).encode("utf-8")


def encode_value(row: Mapping[str, Any]) -> bytes:
    """A JSON sink value: ``{"STATION_ID": 40380, "COUNT": 3}``."""
    return json.dumps(row, separators=(",", ":")).encode("utf-8")
