"""Steps of features/stations.feature."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cta import topics
from cta.ports import StationRow
from cta.processors.stations import TransformedStation, decode_table_value, encode_table_key
from tests.features.conftest import World, latest_per_key

pytestmark = pytest.mark.network("seed")

scenarios("stations.feature")

COLUMNS = {
    "stop_id",
    "direction_id",
    "stop_name",
    "station_name",
    "station_descriptive_name",
    "station_id",
    "order",
    "red",
    "blue",
    "green",
}
# Columns the whole 'L' added (issue 8): the seed's rows carry them empty.
ADDED_COLUMNS = {"lines", "ada", "latitude", "longitude"}


def stations_table(world: World) -> list[TransformedStation]:
    table = latest_per_key(world.records(topics.STATIONS_TABLE))
    return [decode_table_value(value) for value in table.values()]


@then(parsers.parse("the raw stations topic holds {count:d} rows"))
def _raw_count(world: World, count: int) -> None:
    rows = [r for r in world.records(topics.STATIONS_RAW) if r.value is not None]
    stop_ids = {json.loads(r.value or b"")["stop_id"] for r in rows}
    assert len(rows) == count and len(stop_ids) == count


@then("every raw row carries the ten columns of the stations table")
def _raw_columns(world: World) -> None:
    for record in world.records(topics.STATIONS_RAW):
        assert set(json.loads(record.value or b"")) == COLUMNS | ADDED_COLUMNS


@then(
    parsers.parse(
        "the stations table holds {blue:d} blue, {red:d} red and {green:d} green stations"
    )
)
def _table_counts(world: World, blue: int, red: int, green: int) -> None:
    per_line = Counter(station.line for station in stations_table(world))
    assert per_line == {"blue": blue, "red": red, "green": green}


@then("every station in the stations table has the line and order of our station data")
def _table_matches_data(world: World) -> None:
    expected = {
        (line.value, s.station_id): (s.name, s.order)
        for line, stations in world.network.lines.items()
        for s in stations.stations
    }
    actual = {(s.line, s.station_id): (s.station_name, s.order) for s in stations_table(world)}
    assert actual == expected


@then("Clark/Lake is in the stations table on the blue and the green line")
def _clark_lake(world: World) -> None:
    lines = {s.line for s in stations_table(world) if s.station_id == 40380}
    assert lines == {"blue", "green"}


@then("the two Harlem stations of the blue line are two stations")
def _harlems(world: World) -> None:
    harlems = {
        s.station_id
        for s in stations_table(world)
        if s.line == "blue" and s.station_name == "Harlem"
    }
    assert harlems == {40750, 40980}


@then("rows on no simulated line were dropped and counted")
def _dropped(world: World) -> None:
    on_lines = {r.station_id for r in world.rows if r.red or r.blue or r.green}
    off_lines = {r.station_id for r in world.rows} - on_lines
    assert off_lines, "the data has no row off the simulated lines"
    in_table = {s.station_id for s in stations_table(world)}
    assert not in_table & off_lines
    processor = world.backend.stations_processor
    if processor is not None:  # the Faust worker counts in its own process
        assert processor.stats.dropped == sum(
            1 for r in world.rows if not (r.red or r.blue or r.green)
        )


@then(parsers.parse('the dashboard shows the {line} line station {station_id:d} as "{name}"'))
def _dashboard_name(world: World, line: str, station_id: int, name: str) -> None:
    dashboard = world.require_dashboard()

    def shown() -> None:
        board_line = next(e for e in dashboard.snapshot()["lines"] if e["line"] == line)
        names = [s["name"] for s in board_line["stations"] if s["station_id"] == station_id]
        assert names == [name]

    world.eventually(shown)


@when("a malformed row is written to the raw stations topic")
def _malformed(world: World) -> None:
    producer = world.backend.log.producer("feature-test")
    producer.produce(
        topics.STATIONS_RAW, b'{"stop_id": 39999, "station_id": "forty"', key=b'{"stop_id": 39999}'
    )
    producer.flush()
    world.settle()


@then("the dead-letter topic holds that row with a reason")
def _dead_letter(world: World) -> None:
    letters = world.records(topics.DEAD_LETTERS)
    assert len(letters) == 1
    assert letters[0].value == b'{"stop_id": 39999, "station_id": "forty"'
    reason = dict(letters[0].headers).get("error", b"").decode()
    assert reason, "the dead letter carries no reason"


@then(parsers.parse("the stations table still holds {count:d} station entries"))
def _still(world: World, count: int) -> None:
    assert len(stations_table(world)) == count


@given(parsers.parse('the dashboard shows the {line} line station {station_id:d} as "{name}"'))
def _dashboard_name_given(world: World, line: str, station_id: int, name: str) -> None:
    _dashboard_name(world, line, station_id, name)


def _station_rows(world: World, station_id: int) -> list[StationRow]:
    rows = [r for r in world.rows if r.station_id == station_id]
    assert rows, f"no stop row of station {station_id} in our data"
    return rows


@when(parsers.parse("the rows of station {station_id:d} are deleted from the database"))
def _delete_station(world: World, station_id: int) -> None:
    for row in _station_rows(world, station_id):
        world.backend.stations_db.delete(row.stop_id)
    world.settle()


@when(parsers.parse("the rows of station {station_id:d} are inserted again"))
def _reinsert_station(world: World, station_id: int) -> None:
    for row in _station_rows(world, station_id):
        world.backend.stations_db.upsert(row)
    world.settle()


@when(parsers.parse("every stop of station {station_id:d} is taken off every line in the database"))
def _off_every_line(world: World, station_id: int) -> None:
    for row in _station_rows(world, station_id):
        world.backend.stations_db.upsert(replace(row, red=False, blue=False, green=False))
    world.settle()


def _ends_with_tombstone(world: World, topic: str, key: bytes) -> None:
    """The last record of ``key`` is a real tombstone (no value), and no record of that key
    carries a value that is not a JSON object (Debezium's JSON ``null`` text is not a delete)."""

    def check() -> None:
        mine = [r for r in world.records(topic) if r.key == key]
        assert mine, f"{topic} holds no record for {key!r}"
        assert mine[-1].value is None, f"last record for {key!r} is {mine[-1].value!r}"
        assert all(r.value is None or r.value.startswith(b"{") for r in mine), [
            r.value for r in mine
        ]

    world.eventually(check)


@then(
    parsers.parse(
        "the raw stations topic ends with a tombstone for every stop of station {station_id:d}"
    )
)
def _raw_tombstones(world: World, station_id: int) -> None:
    for row in _station_rows(world, station_id):
        key = json.dumps({"stop_id": row.stop_id}, separators=(",", ":")).encode()
        _ends_with_tombstone(world, topics.STATIONS_RAW, key)
    assert world.records(topics.DEAD_LETTERS) == [], "a delete was dead-lettered"


@then(parsers.parse('the stations table topic ends with a tombstone for "{entry}"'))
def _table_tombstone(world: World, entry: str) -> None:
    _ends_with_tombstone(world, topics.STATIONS_TABLE, encode_table_key(entry))


@then(parsers.parse("the dashboard no longer shows station {station_id:d} on the {line} line"))
def _dashboard_gone(world: World, station_id: int, line: str) -> None:
    dashboard = world.require_dashboard()

    def gone() -> None:
        board_line = next(e for e in dashboard.snapshot()["lines"] if e["line"] == line)
        assert station_id not in [s["station_id"] for s in board_line["stations"]]

    world.eventually(gone)
