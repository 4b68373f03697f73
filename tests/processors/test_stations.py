"""transform_station, the table wire format, and the in-process StationsProcessor."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cta.memory.broker import MemoryBroker
from cta.processors.stations import (
    TABLE_VALUE_NAMESPACE,
    MalformedStation,
    StationsProcessor,
    StationTable,
    TransformedStation,
    decode_table_key,
    decode_table_value,
    encode_table_key,
    encode_table_value,
    transform_station,
    transform_stations,
)
from cta.runtime import drain
from cta.testing import InProcessStack
from cta.topics import DEAD_LETTERS, STATIONS_RAW, STATIONS_TABLE
from tests.samples import raw_row

raw = raw_row


@pytest.mark.parametrize("line", ["red", "blue", "green"])
def test_transform_takes_the_flagged_line(line: str) -> None:
    assert transform_station(raw(line=line)) == TransformedStation(40380, "Clark/Lake", 16, line)


def test_red_wins_over_blue_over_green() -> None:
    assert transform_station(raw(red=True, blue=True, green=True)).line == "red"  # type: ignore[union-attr]
    assert transform_station(raw(line="green", blue=True)).line == "blue"  # type: ignore[union-attr]


def test_row_on_no_simulated_line_is_none() -> None:
    assert transform_station(raw(line=None)) is None


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({k: v for k, v in raw().items() if k != "order"}, "missing field 'order'"),
        (raw(station_id="40380"), "'station_id' must be int"),
        (raw(order=True), "'order' must be int"),
        (raw(order=None), "'order' must be int"),
        (raw(blue="true"), "'blue' must be bool"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_malformed_rows_say_why(row: Any, reason: str) -> None:
    with pytest.raises(MalformedStation, match=reason):
        transform_station(row)


def test_table_value_bytes_match_faust_record_json() -> None:
    station = TransformedStation(40380, "Clark/Lake", 16, "blue")
    assert encode_table_key(station.table_key) == b'"blue:40380"'
    assert encode_table_value(station) == (
        b'{"station_id":40380,"station_name":"Clark/Lake","order":16,"line":"blue",'
        b'"lines":"","ada":null,"latitude":null,"longitude":null,'
        b'"__faust":{"ns":"' + TABLE_VALUE_NAMESPACE.encode() + b'"}}'
    )
    assert decode_table_value(encode_table_value(station)) == station
    assert decode_table_key(b'"blue:40380"') == "blue:40380"


def test_decode_table_value_tolerates_missing_faust_field_and_rejects_junk() -> None:
    plain = b'{"station_id": 1, "station_name": "A", "order": 0, "line": "red"}'
    assert decode_table_value(plain) == TransformedStation(1, "A", 0, "red")
    with pytest.raises(MalformedStation, match="not JSON"):
        decode_table_value(b"{nope")
    with pytest.raises(MalformedStation, match="unknown line"):
        decode_table_value(b'{"station_id": 1, "station_name": "A", "order": 0, "line": "teal"}')


def test_decode_table_key_rejects_junk_as_a_malformed_station() -> None:
    with pytest.raises(MalformedStation, match="table key is not JSON"):
        decode_table_key(b"blue:40380")
    with pytest.raises(MalformedStation, match="must be a JSON string"):
        decode_table_key(b"40380")


def test_station_table_keeps_an_entry_until_its_last_stop_leaves() -> None:
    table = StationTable()
    blue = TransformedStation(40380, "Clark/Lake", 16, "blue")
    assert table.apply(30374, blue) == [("blue:40380", blue)]
    assert table.apply(30375, blue) == [("blue:40380", blue)]
    assert table.apply(30374, None) == []  # 30375 still feeds the entry
    assert table.apply(30375, None) == [("blue:40380", None)]
    green = TransformedStation(40380, "Clark/Lake", 14, "green")
    table.apply(30074, blue)
    assert table.apply(30074, green) == [("blue:40380", None), ("green:40380", green)]


@pytest.fixture
def broker() -> MemoryBroker:
    b = InProcessStack.create().broker
    return b


def produce_raw(broker: MemoryBroker, *messages: tuple[int, bytes | None]) -> None:
    producer = broker.producer()
    for stop_id, value in messages:
        producer.produce(STATIONS_RAW, value, key=json.dumps({"stop_id": stop_id}).encode())
    producer.flush()


def table_entries(broker: MemoryBroker) -> list[tuple[str, TransformedStation | None]]:
    return [
        (decode_table_key(r.key or b""), decode_table_value(r.value) if r.value else None)
        for r in broker.records(STATIONS_TABLE)
    ]


def test_processor_places_a_two_line_station_on_both_lines(broker: MemoryBroker) -> None:
    produce_raw(
        broker,
        (30374, json.dumps(raw(30374)).encode()),
        (30074, json.dumps(raw(30074, line="green", order=14)).encode()),
        (30001, json.dumps(raw(30001, line=None)).encode()),
    )
    processor = StationsProcessor(broker)
    assert drain([processor]) == 3
    assert table_entries(broker) == [
        ("blue:40380", TransformedStation(40380, "Clark/Lake", 16, "blue")),
        ("green:40380", TransformedStation(40380, "Clark/Lake", 14, "green")),
    ]
    assert processor.stats.dropped == 1 and processor.stats.written == 2
    assert broker.group_lag("stations-stream") == {(STATIONS_RAW, 0): 0}


def test_malformed_rows_go_to_dead_letters_with_reason_and_original_bytes(
    broker: MemoryBroker,
) -> None:
    missing = json.dumps({k: v for k, v in raw().items() if k != "station_name"}).encode()
    produce_raw(broker, (1, b"{not json"), (2, missing), (30374, json.dumps(raw()).encode()))
    processor = StationsProcessor(broker)
    drain([processor])

    dead = broker.records(DEAD_LETTERS)
    assert [r.value for r in dead] == [b"{not json", missing]
    reasons = [dict(r.headers)["error"].decode() for r in dead]
    assert "not JSON" in reasons[0] and "missing field 'station_name'" in reasons[1]
    assert dict(dead[0].headers)["source.offset"] == b"0"
    assert [key for key, _ in table_entries(broker)] == ["blue:40380"]
    assert processor.stats.dead_lettered == 2


def test_deleted_stops_tombstone_the_entry_once_no_stop_feeds_it(broker: MemoryBroker) -> None:
    processor = StationsProcessor(broker)
    produce_raw(
        broker,
        (30374, json.dumps(raw(30374)).encode()),
        (30375, json.dumps(raw(30375, direction_id="N")).encode()),
        (30374, None),
    )
    drain([processor])
    # Two writes (compacted to one), and no tombstone while 30375 still feeds the entry.
    assert broker.end_offsets(STATIONS_TABLE) == {0: 2}
    assert table_entries(broker) == [("blue:40380", transform_station(raw()))]
    produce_raw(broker, (30375, None), (99999, None))
    drain([processor])
    assert table_entries(broker) == [("blue:40380", None)]
    assert processor.stats.deleted == 1 and processor.stats.unknown_deletes == 1


def test_restarted_processor_resumes_after_its_commit(broker: MemoryBroker) -> None:
    produce_raw(broker, (30374, json.dumps(raw()).encode()))
    first = StationsProcessor(broker)
    drain([first])
    first.close()
    second = StationsProcessor(broker)
    assert drain([second]) == 0
    assert len(broker.records(STATIONS_TABLE)) == 1


# --- the whole 'L' columns (issue 8) ------------------------------------------------------------


def l_row(**changes: Any) -> dict[str, Any]:
    """Clark/Lake's Inner Loop platform as Debezium writes it from the whole 'L' table."""
    row = {
        **raw(line="green"),
        "stop_id": 30074,
        "lines": "green orange purple pink",
        "ada": True,
        "latitude": 41.885737,
        "longitude": -87.630886,
    }
    row.update(changes)
    return row


def test_a_platform_of_several_lines_feeds_one_entry_per_line_with_the_new_columns() -> None:
    stations = transform_stations(l_row())
    assert [s.line for s in stations] == ["green", "orange", "purple", "pink"]
    assert {(s.ada, s.latitude, s.longitude, s.lines) for s in stations} == {
        (True, 41.885737, -87.630886, "green orange purple pink")
    }
    decoded = decode_table_value(encode_table_value(stations[1]))
    assert decoded == stations[1]


def test_a_row_without_the_new_columns_still_reads_by_its_flags() -> None:
    old = {k: v for k, v in l_row().items() if k not in ("lines", "ada", "latitude", "longitude")}
    assert [(s.line, s.ada) for s in transform_stations(old)] == [("green", None)]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [({"lines": "green teal"}, "unknown line"), ({"ada": "yes"}, "'ada'"),
     ({"latitude": "41.8"}, "'latitude'")],
)
def test_bad_new_columns_are_malformed(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(MalformedStation, match=reason):
        transform_stations(l_row(**changes))


def test_an_old_table_reader_still_reads_the_new_entries() -> None:
    """A board that predates the new fields reads the four it knows and ignores the rest."""
    value = json.loads(encode_table_value(transform_stations(l_row())[0]))
    known = {k: value[k] for k in ("station_id", "station_name", "order", "line")}
    assert known == {"station_id": 40380, "station_name": "Clark/Lake", "order": 16,
                     "line": "green"}


def test_a_platform_leaving_a_line_tombstones_only_that_entry() -> None:
    table = StationTable()
    table.apply(30074, transform_stations(l_row()))
    writes = table.apply(30074, transform_stations(l_row(lines="green orange")))
    assert [(key, s is None) for key, s in writes] == [
        ("pink:40380", True), ("purple:40380", True),
        ("green:40380", False), ("orange:40380", False),
    ]  # fmt: skip
