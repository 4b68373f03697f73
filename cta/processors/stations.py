"""Raw station rows -> the stations table: the pure transform and its in-process runner.

The raw topic carries one flat JSON row per platform stop (what Debezium's unwrap + JsonConverter
write). The table topic carries one entry per *(line, station)*:

* key: the JSON string ``"<line>:<station_id>"`` (``b'"blue:40380"'``). A station has one stop row
  per direction and some stations (Clark/Lake, Roosevelt) serve two simulated lines with a
  different ``order`` on each. Keying by ``station_id`` alone would let compaction keep only the
  last line written, so Clark/Lake would vanish from one line of the board. With the line in the
  key, compaction keeps exactly one entry per place on the board, and the stop rows of one
  direction pair collapse into one entry.
* value: the JSON Faust's table changelog writes for a ``faust.Record``: the fields in
  declaration order plus ``"__faust": {"ns": TABLE_VALUE_NAMESPACE}``, compact separators.

The whole 'L' (issue 8) added columns to the stations table: ``lines`` (the lines stopping at the
platform, space-separated), ``ada``, ``latitude``, ``longitude``. A row with ``lines`` feeds one
entry per line listed (Clark/Lake's Inner Loop platform: Green, Orange, Purple, Pink); a row
without it (the seed's rows, or a producer that predates the columns) feeds the one entry of its
first red/blue/green flag, as before. The new values travel in the entry, after the original four
fields, so a reader that knows only those four still reads it.

Deletes: a tombstone on the raw topic (a deleted stop row, key ``{"stop_id": N}``) removes that stop
from ``StationTable``; when a (line, station) entry has no stop row left, a tombstone is written
for its key so the board drops it. The stop -> entry index lives in the processor's memory, so a
delete for a stop the process has not seen since it started is counted and logged, not guessed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cta.ports import EventLog, Headers, Record
from cta.topics import DEAD_LETTERS, STATIONS_RAW, STATIONS_TABLE

log = logging.getLogger(__name__)

# The seed's line flag columns, in the order a row flagged twice is read.
LINES = ("red", "blue", "green")
# Every line a table entry may name.
TABLE_LINES = ("red", "blue", "brown", "green", "orange", "purple", "pink", "yellow")
# The Faust app declares its Record with this namespace, so both writers emit the same bytes.
TABLE_VALUE_NAMESPACE = "cta.processors.stations.TransformedStation"
GROUP_ID = "stations-stream"


@dataclass(frozen=True, slots=True)
class TransformedStation:
    station_id: int
    station_name: str
    order: int
    line: str
    # From the whole 'L' columns; empty/None for rows without them.
    lines: str = ""
    ada: bool | None = None
    latitude: float | None = None
    longitude: float | None = None

    @property
    def table_key(self) -> str:
        return f"{self.line}:{self.station_id}"

    def as_json(self) -> dict[str, Any]:
        return {
            "station_id": self.station_id,
            "station_name": self.station_name,
            "order": self.order,
            "line": self.line,
            "lines": self.lines,
            "ada": self.ada,
            "latitude": self.latitude,
            "longitude": self.longitude,
        }


class MalformedStation(ValueError):
    """A raw row that cannot be read as a station; the message says why."""


def _field(raw: Mapping[str, Any], name: str, kind: type) -> Any:
    if name not in raw:
        raise MalformedStation(f"missing field {name!r}")
    value = raw[name]
    # bool is an int subclass: a flag where a number belongs (or the reverse) is still wrong.
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        raise MalformedStation(
            f"field {name!r} must be {kind.__name__}, got {type(value).__name__} {value!r}"
        )
    return value


def _parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedStation(f"{what} is not JSON: {exc}") from exc


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    payload = _parse_json(data, what)
    if not isinstance(payload, dict):
        raise MalformedStation(f"{what} must be a JSON object, got {payload!r}")
    return payload


def _optional(raw: Mapping[str, Any], name: str, kinds: tuple[type, ...]) -> Any:
    """An added column: absent or null is None; otherwise it must have one of ``kinds``."""
    value = raw.get(name)
    if value is None:
        return None
    if (bool not in kinds and isinstance(value, bool)) or not isinstance(value, kinds):
        raise MalformedStation(f"field {name!r} has the wrong type: {value!r}")
    return value


def transform_stations(raw: Mapping[str, Any]) -> list[TransformedStation]:
    """One raw stop row -> its station on each line stopping at the platform (see the module
    docstring); empty when on none."""
    if not isinstance(raw, Mapping):
        raise MalformedStation(f"row must be a JSON object, got {type(raw).__name__}")
    station_id = _field(raw, "station_id", int)
    station_name = _field(raw, "station_name", str)
    order = _field(raw, "order", int)
    flags = {line: _field(raw, line, bool) for line in LINES}
    listed = _optional(raw, "lines", (str,))
    lines = listed.split() if listed else []
    unknown = [name for name in lines if name not in TABLE_LINES]
    if unknown:
        raise MalformedStation(f"unknown line(s) {unknown} in 'lines'")
    if not lines:
        first = next((name for name in LINES if flags[name]), None)
        lines = [first] if first is not None else []
    ada = _optional(raw, "ada", (bool,))
    latitude = _optional(raw, "latitude", (int, float))
    longitude = _optional(raw, "longitude", (int, float))
    return [
        TransformedStation(
            station_id,
            station_name,
            order,
            line,
            listed or "",
            ada,
            None if latitude is None else float(latitude),
            None if longitude is None else float(longitude),
        )
        for line in lines
    ]


def transform_station(raw: Mapping[str, Any]) -> TransformedStation | None:
    """One raw stop row -> its station on the first line stopping there; None when on none."""
    stations = transform_stations(raw)
    return stations[0] if stations else None


def encode_table_key(key: str) -> bytes:
    return json.dumps(key).encode("utf-8")


def decode_table_key(data: bytes) -> str:
    key = _parse_json(data, "table key")
    if not isinstance(key, str):
        raise MalformedStation(f"table key must be a JSON string, got {key!r}")
    return key


def encode_table_value(station: TransformedStation) -> bytes:
    payload = {**station.as_json(), "__faust": {"ns": TABLE_VALUE_NAMESPACE}}
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def decode_table_value(data: bytes) -> TransformedStation:
    """A table value (ours or Faust's) -> TransformedStation; the ``__faust`` field is ignored."""
    payload = _json_object(data, "table value")
    line = _field(payload, "line", str)
    if line not in TABLE_LINES:
        raise MalformedStation(f"unknown line {line!r}")
    latitude = _optional(payload, "latitude", (int, float))
    longitude = _optional(payload, "longitude", (int, float))
    return TransformedStation(
        _field(payload, "station_id", int),
        _field(payload, "station_name", str),
        _field(payload, "order", int),
        line,
        _optional(payload, "lines", (str,)) or "",
        _optional(payload, "ada", (bool,)),
        None if latitude is None else float(latitude),
        None if longitude is None else float(longitude),
    )


TableWrite = tuple[str, TransformedStation | None]


class StationTable:
    """Which table entries each stop row feeds; turns stop changes into table writes.

    ``apply(stop_id, stations)`` records that stop's current stations (one per line stopping at
    the platform; None or empty: deleted or on no line) and returns the writes: tombstones for
    entries the stop left when no other stop still feeds them, then the new entries.
    """

    def __init__(self) -> None:
        self._entries_of_stop: dict[int, set[str]] = {}
        self._stops_of_entry: dict[str, set[int]] = {}

    def knows(self, stop_id: int) -> bool:
        return stop_id in self._entries_of_stop

    def apply(
        self,
        stop_id: int,
        stations: TransformedStation | Sequence[TransformedStation] | None,
    ) -> list[TableWrite]:
        if stations is None:
            stations = []
        elif isinstance(stations, TransformedStation):
            stations = [stations]
        writes: list[TableWrite] = []
        new_keys = {station.table_key for station in stations}
        for old_key in sorted(self._entries_of_stop.pop(stop_id, set()) - new_keys):
            stops = self._stops_of_entry[old_key]
            stops.discard(stop_id)
            if not stops:
                del self._stops_of_entry[old_key]
                writes.append((old_key, None))
        if new_keys:
            self._entries_of_stop[stop_id] = new_keys
        for station in stations:
            self._stops_of_entry.setdefault(station.table_key, set()).add(stop_id)
            writes.append((station.table_key, station))
        return writes


def stop_id_from_key(key: bytes | None) -> int:
    """The stop id of a raw record key ``{"stop_id": N}``."""
    if key is None:
        raise MalformedStation("tombstone without a key")
    return int(_field(_json_object(key, "key"), "stop_id", int))


def stop_id_of(row: Mapping[str, Any], key: bytes | None) -> int:
    if "stop_id" in row:
        return int(_field(row, "stop_id", int))
    return stop_id_from_key(key)


@dataclass(slots=True)
class StationsStats:
    consumed: int = 0
    written: int = 0
    deleted: int = 0
    dropped: int = 0
    dead_lettered: int = 0
    unknown_deletes: int = 0


def dead_letter_headers(topic: str, partition: int, offset: int, reason: str) -> Headers:
    return (
        ("error", reason.encode("utf-8")),
        ("source.topic", topic.encode("utf-8")),
        ("source.partition", str(partition).encode("ascii")),
        ("source.offset", str(offset).encode("ascii")),
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one raw record asks of the table: writes, or a dead letter with its reason."""

    writes: tuple[TableWrite, ...] = ()
    dead_letter_reason: str | None = None
    dropped: bool = False
    unknown_delete: bool = False


def decide(table: StationTable, key: bytes | None, value: bytes | None) -> Outcome:
    """The table writes for one raw record: the whole processing decision, shared by the
    in-process runner and the Faust agent so that both write the same table."""
    try:
        if value is None:
            stop_id = stop_id_from_key(key)
            if not table.knows(stop_id):
                return Outcome(unknown_delete=True)
            return Outcome(tuple(table.apply(stop_id, None)))
        row = _parse_json(value, "value")
        stations = transform_stations(row)
        stop_id = stop_id_of(row, key)
    except MalformedStation as exc:
        return Outcome(dead_letter_reason=str(exc))
    return Outcome(tuple(table.apply(stop_id, stations)), dropped=not stations)


class StationsProcessor:
    """In-process runner: STATIONS_RAW -> STATIONS_TABLE, bad rows -> DEAD_LETTERS."""

    name = "stations-stream"

    def __init__(self, log_: EventLog, *, group_id: str = GROUP_ID, batch: int = 500) -> None:
        self._consumer = log_.consumer(group_id, client_id=self.name)
        self._consumer.subscribe([STATIONS_RAW])
        self._producer = log_.producer(client_id=self.name)
        self._batch = batch
        self.table = StationTable()
        self.stats = StationsStats()

    def pump(self, timeout: float = 0.0) -> int:
        records = self._consumer.consume(self._batch, timeout)
        if not records:
            return 0
        for record in records:
            self._handle(record)
        # Commit only once every write of the batch is acknowledged: a crash replays, never loses.
        self._producer.flush()
        self._consumer.commit()
        return len(records)

    def close(self) -> None:
        try:
            self._producer.flush()
        finally:
            self._producer.close()
            self._consumer.close()

    def _handle(self, record: Record) -> None:
        self.stats.consumed += 1
        outcome = decide(self.table, record.key, record.value)
        if outcome.dead_letter_reason is not None:
            self._dead_letter(record, outcome.dead_letter_reason)
            return
        if outcome.unknown_delete:
            self.stats.unknown_deletes += 1
            log.warning("delete of a stop not seen since start (%s): table left as is", record.key)
        self.stats.dropped += outcome.dropped
        for key, station in outcome.writes:
            value = encode_table_value(station) if station is not None else None
            self._producer.produce(STATIONS_TABLE, value, key=encode_table_key(key))
            if station is None:
                self.stats.deleted += 1
            else:
                self.stats.written += 1

    def _dead_letter(self, record: Record, reason: str) -> None:
        self.stats.dead_lettered += 1
        log.warning(
            "dead-lettering %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason
        )
        self._producer.produce(
            DEAD_LETTERS,
            record.value,
            key=record.key,
            headers=dead_letter_headers(record.topic, record.partition, record.offset, reason),
        )
