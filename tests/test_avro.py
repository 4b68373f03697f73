"""Confluent wire-format Avro through the in-process registry."""

from __future__ import annotations

import struct

import pytest

from cta.avro import AvroDecoder, AvroEncoder, WireFormatError
from cta.memory.registry import MemorySchemaRegistry
from cta.schemas import load

ARRIVAL = {
    "station_id": 40380,
    "train_id": "BL003",
    "direction": "b",
    "line": "blue",
    "train_status": "in_service",
    "prev_station_id": None,
    "prev_direction": "a",
    "timestamp": 1_700_000_000_000,
    "direction_name": "To Forest Park",
}


def test_round_trip_and_header() -> None:
    registry = MemorySchemaRegistry()
    key_encoder = AvroEncoder(registry, "arrivals-key", load("arrival_key"))
    value_encoder = AvroEncoder(registry, "arrivals-value", load("arrival_value"))
    data = value_encoder.encode(ARRIVAL)
    assert data[0] == 0
    assert struct.unpack(">I", data[1:5])[0] == value_encoder.schema_id == 2
    decoder = AvroDecoder(registry)
    assert decoder.decode(data) == ARRIVAL
    assert decoder.decode(key_encoder.encode({"station_id": 7})) == {"station_id": 7}
    assert registry.latest("arrivals-value").schema_id == 2


def test_encoders_of_one_schema_share_the_id() -> None:
    registry = MemorySchemaRegistry()
    first = AvroEncoder(registry, "a-value", load("weather_value"))
    second = AvroEncoder(registry, "b-value", load("weather_value"))
    assert first.schema_id == second.schema_id
    assert first.encode({"temperature": 1.5, "status": "sunny", "timestamp": 1})[:5] == (
        b"\x00" + struct.pack(">I", first.schema_id)
    )


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\x00", b"\x01\x00\x00\x00\x01abc", b"\x00\x00\x00\x00\x01"],
    ids=["empty", "short", "bad-magic", "truncated-body"],
)
def test_corrupt_messages_raise_wire_format_error(data: bytes) -> None:
    registry = MemorySchemaRegistry()
    AvroEncoder(registry, "w-value", load("weather_value"))
    with pytest.raises(WireFormatError):
        AvroDecoder(registry).decode(data)


def test_unknown_schema_id_is_a_registry_error() -> None:
    from cta.ports import SchemaRegistryError

    with pytest.raises(SchemaRegistryError) as missing:
        AvroDecoder(MemorySchemaRegistry()).decode(b"\x00\x00\x00\x00\x09abc")
    assert missing.value.error_code == 40403
