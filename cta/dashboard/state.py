"""What the dashboard shows, as a pure in-memory model fed by decoded topic values.

Stations are kept per (line, station_id): Clark/Lake and Roosevelt carry the same id on two lines.
Each line also indexes where every train is, so a train is never shown in two slots, even when
an event was lost or delivered twice. Arrivals and counts for stations not loaded yet are kept and
applied when the station arrives (the original dropped them, a start-up race).

The feed thread writes while the web server reads: every method takes one lock.

With a ``BoardLayout`` (the whole 'L') the board shows the layout's lines in their official
colours, each line's stations in running order per pattern with the part of the line they are on
(the Loop, a branch), the direction names riders read, and closed stations as closed; without
one (the seed network) it is the original three-line board.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from time import time
from typing import Any

from cta.dashboard.header import header
from cta.dashboard.layout import BoardLayout
from cta.dashboard.station_detail import (
    HourlyCounts,
    TypicalDay,
    chicago_day,
    hourly_block,
    trains_by_direction,
)

# Page order and colours: the dashboard shows Blue, Red, then Green.
LINE_COLORS: dict[str, str] = {"blue": "#1E90FF", "red": "#DC143C", "green": "#32CD32"}
DIRECTIONS = ("a", "b")

Slot = dict[str, str]
TrainPosition = tuple[int, str]


@dataclass(slots=True)
class _Station:
    station_id: int
    name: str
    order: int
    a: Slot | None = None
    b: Slot | None = None
    entries: int = 0

    def slot(self, direction: str) -> Slot | None:
        return self.a if direction == "a" else self.b

    def set_slot(self, direction: str, value: Slot | None) -> None:
        if direction == "a":
            self.a = value
        else:
            self.b = value

    def as_json(self) -> dict[str, Any]:
        return {
            "station_id": self.station_id,
            "name": self.name,
            "order": self.order,
            "a": None if self.a is None else dict(self.a),
            "b": None if self.b is None else dict(self.b),
            "entries": self.entries,
        }


@dataclass(frozen=True, slots=True)
class _Arrival:
    line: str
    station_id: int
    train_id: str
    direction: str
    status: str
    prev_station_id: int | None
    prev_direction: str | None
    timestamp_ms: int | None
    direction_name: str | None = None


def _field(source: Any, name: str) -> Any:
    """A field of a mapping or an attribute of an object; KeyError names a missing one."""
    if isinstance(source, Mapping):
        if name not in source:
            raise KeyError(f"missing field {name!r}")
        return source[name]
    if not hasattr(source, name):
        raise KeyError(f"missing field {name!r}")
    return getattr(source, name)


def _text(value: Any) -> str:
    # Enums (LineColor, Direction...) travel by their value, never their repr.
    return str(getattr(value, "value", value))


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


def _direction(value: Any, name: str) -> str:
    text = _text(value)
    if text not in DIRECTIONS:
        raise ValueError(f"{name} must be 'a' or 'b', got {value!r}")
    return text


def _parse_arrival(value: Mapping[str, Any]) -> _Arrival:
    prev_id = value.get("prev_station_id")
    prev_direction = value.get("prev_direction")
    timestamp = value.get("timestamp")
    heading = value.get("direction_name")
    return _Arrival(
        line=_text(_field(value, "line")),
        station_id=_int(_field(value, "station_id"), "station_id"),
        train_id=_text(_field(value, "train_id")),
        direction=_direction(_field(value, "direction"), "direction"),
        status=_text(_field(value, "train_status")).replace("_", " "),
        prev_station_id=None if prev_id is None else _int(prev_id, "prev_station_id"),
        prev_direction=(
            None if prev_direction is None else _direction(prev_direction, "prev_direction")
        ),
        timestamp_ms=None if timestamp is None else _int(timestamp, "timestamp"),
        direction_name=None if heading is None else _text(heading),
    )


class DashboardState:
    """Stations, trains, turnstile counts and weather; ``version`` moves on every change."""

    def __init__(
        self, layout: BoardLayout | None = None, *, typical: TypicalDay | None = None
    ) -> None:
        self.layout = layout
        self.typical = typical  # the ridership month's typical day (station detail)
        self._colors = (
            {line.line: line.color for line in layout.lines} if layout is not None else LINE_COLORS
        )
        self._lock = threading.RLock()
        self._version = 0
        self._stations: dict[tuple[str, int], _Station] = {}
        self._trains: dict[str, dict[str, TrainPosition]] = {line: {} for line in self._colors}
        self._last_seen: dict[tuple[str, str], int] = {}
        self._pending: dict[tuple[str, str], _Arrival] = {}
        self._counts: dict[int, int] = {}
        self._weather: dict[str, Any] | None = None
        # The header's moments, from event times in the values (epoch ms, simulated clock).
        self._latest_event_ms: int | None = None
        # Station -> earliest entry its count includes; None: it counts entries of unknown time.
        self._first_counted_ms: dict[int, int | None] = {}
        self.ignored = 0  # well-formed values this board cannot show (unknown line, stale)
        self._hourly = HourlyCounts()  # TURNSTILE_HOURLY: station -> hour window -> count
        self._ada: dict[int, bool] = {}  # from the stations table's whole-'L' rows

    @property
    def version(self) -> int:
        with self._lock:
            return self._version

    def _changed(self) -> None:
        self._version += 1

    def _saw_event_time(self, timestamp_ms: int | None) -> bool:
        """Move the board's simulated clock on (never back: partitions interleave)."""
        if timestamp_ms is None:
            return False
        if self._latest_event_ms is not None and timestamp_ms <= self._latest_event_ms:
            return False
        self._latest_event_ms = timestamp_ms
        return True

    # --- inputs -------------------------------------------------------------------------------

    def apply_station(self, station: Any) -> bool:
        """Add or update one station row (an object or mapping with station_id, station_name,
        order, line). Rows of lines the board does not show are ignored. Returns whether the
        board changed."""
        line = _text(_field(station, "line"))
        station_id = _int(_field(station, "station_id"), "station_id")
        name = _text(_field(station, "station_name"))
        order = _int(_field(station, "order"), "order")
        ada = station.get("ada") if isinstance(station, Mapping) else getattr(station, "ada", None)
        with self._lock:
            if isinstance(ada, bool):
                self._ada[station_id] = ada
            if line not in self._colors:
                self.ignored += 1
                return False
            key = (line, station_id)
            row = self._stations.get(key)
            changed = False
            if row is None:
                row = _Station(station_id, name, order, entries=self._counts.get(station_id, 0))
                self._stations[key] = row
                changed = True
            elif (row.name, row.order) != (name, order):
                row.name, row.order = name, order
                changed = True
            waiting = sorted(
                (p for p in self._pending.values() if (p.line, p.station_id) == key),
                key=lambda p: p.timestamp_ms or 0,
            )
            for arrival in waiting:
                del self._pending[(arrival.line, arrival.train_id)]
                changed = self._place(arrival) or changed
            if changed:
                self._changed()
            return changed

    def remove_station(self, line: str, station_id: int) -> bool:
        """Drop one station row (a table tombstone); trains shown there leave the board."""
        with self._lock:
            row = self._stations.pop((line, station_id), None)
            if row is None:
                return False
            trains = self._trains.get(line, {})
            for slot in (row.a, row.b):
                if slot is not None:
                    trains.pop(slot["train_id"], None)
            self._changed()
            return True

    def apply_arrival(self, value: Mapping[str, Any]) -> bool:
        """Move a train to the station it arrived at (the decoded Avro arrival value).

        Raises KeyError/ValueError for a malformed value. An arrival older than one already
        applied for the same train is ignored, since partitions may deliver out of order."""
        arrival = _parse_arrival(value)
        with self._lock:
            if arrival.line not in self._colors:
                self.ignored += 1
                return False
            clock_moved = self._saw_event_time(arrival.timestamp_ms)
            seen_key = (arrival.line, arrival.train_id)
            last = self._last_seen.get(seen_key)
            if arrival.timestamp_ms is not None:
                if last is not None and arrival.timestamp_ms < last:
                    self.ignored += 1
                    if clock_moved:
                        self._changed()
                    return clock_moved
                self._last_seen[seen_key] = arrival.timestamp_ms
            if (arrival.line, arrival.station_id) not in self._stations:
                # The train has left wherever we showed it; show it again once its station loads.
                self._pending[seen_key] = arrival
                changed = self._remove_train(arrival.line, arrival.train_id)
            else:
                self._pending.pop(seen_key, None)
                changed = self._place(arrival)
            changed = changed or clock_moved
            if changed:
                self._changed()
            return changed

    def apply_summary(
        self, station_id: int, count: int, first_timestamp: int | None = None
    ) -> bool:
        """Set the turnstile count on every line row of ``station_id`` (kept for later rows).

        ``first_timestamp`` is the earliest entry time the count includes (the summary's
        FIRST_TIMESTAMP); the board says its counts run since the earliest of them. A count
        without it (a summary written before the column existed) makes that start unknown."""
        station_id = _int(station_id, "STATION_ID")
        count = _int(count, "COUNT")
        first = None if first_timestamp is None else _int(first_timestamp, "FIRST_TIMESTAMP")
        with self._lock:
            self._counts[station_id] = count
            changed = False
            if (first is not None or count > 0) and (
                station_id not in self._first_counted_ms
                or self._first_counted_ms[station_id] != first
            ):
                self._first_counted_ms[station_id] = first
                changed = True
            for line in self._colors:
                row = self._stations.get((line, station_id))
                if row is not None and row.entries != count:
                    row.entries = count
                    changed = True
            if changed:
                self._changed()
            return changed

    def apply_hourly(self, station_id: int, window_start_ms: int, count: int) -> bool:
        """One TURNSTILE_HOURLY row: ``count`` entries at ``station_id`` in the event-time hour
        starting at ``window_start_ms``. Returns whether the board changed."""
        station_id = _int(station_id, "STATION_ID")
        start = _int(window_start_ms, "WINDOW_START")
        count = _int(count, "COUNT")
        if count < 0:
            raise ValueError(f"COUNT must not be negative, got {count}")
        with self._lock:
            changed = self._hourly.apply(station_id, start, count)
            if changed:
                self._changed()
            return changed

    def apply_weather(self, value: Mapping[str, Any]) -> bool:
        temperature = _field(value, "temperature")
        if isinstance(temperature, bool) or not isinstance(temperature, int | float):
            raise ValueError(f"temperature must be a number, got {temperature!r}")
        status = _text(_field(value, "status"))
        raw_timestamp = value.get("timestamp")
        timestamp = None if raw_timestamp is None else _int(raw_timestamp, "timestamp")
        weather = {
            "temperature": float(temperature),
            "status": status,
            "label": status.replace("_", " ").title(),
            "timestamp": timestamp,
        }
        with self._lock:
            changed = self._saw_event_time(timestamp)
            shown = None if self._weather is None else self._weather["timestamp"]
            if timestamp is not None and shown is not None and timestamp < shown:
                # An older reading from another partition: the board keeps the newer one.
                self.ignored += 1
            elif weather != self._weather:
                self._weather = weather
                changed = True
            if changed:
                self._changed()
            return changed

    # --- slot bookkeeping (lock held) ---------------------------------------------------------

    def _remove_train(self, line: str, train_id: str) -> bool:
        position = self._trains[line].pop(train_id, None)
        if position is None:
            return False
        station_id, direction = position
        row = self._stations.get((line, station_id))
        if row is not None:
            slot = row.slot(direction)
            if slot is not None and slot["train_id"] == train_id:
                row.set_slot(direction, None)
        return True

    def _place(self, arrival: _Arrival) -> bool:
        line, trains = arrival.line, self._trains[arrival.line]
        row = self._stations[(line, arrival.station_id)]
        target = (arrival.station_id, arrival.direction)
        new_slot = {"train_id": arrival.train_id, "status": arrival.status}
        if arrival.direction_name is not None:
            new_slot["heading"] = arrival.direction_name
        changed = trains.get(arrival.train_id) != target or row.slot(arrival.direction) != new_slot
        # The train index always points at the slot showing the train, so removing the train
        # clears its previous slot (prev_station_id/prev_direction) and any stale duplicate.
        self._remove_train(line, arrival.train_id)
        old_slot = row.slot(arrival.direction)
        if old_slot is not None and old_slot["train_id"] != arrival.train_id:
            # The train shown there has been overtaken by events: it is no longer anywhere.
            trains.pop(old_slot["train_id"], None)
        row.set_slot(arrival.direction, new_slot)
        trains[arrival.train_id] = target
        return changed

    # --- outputs ------------------------------------------------------------------------------

    def station_detail(self, station_id: int) -> dict[str, Any] | None:
        """The station panel's JSON (see docs/dashboard.md), None for a station not on the
        board: name, lines in page order, ADA, trains at or approaching it per direction name,
        and today's entries per hour against the typical curve. "Today" is the simulated day of
        the board's clock (the newest hour counted when no event time came yet)."""
        with self._lock:
            rows = {line: row for (line, sid), row in self._stations.items() if sid == station_id}
            if not rows:
                return None
            lines = [line for line in self._colors if line in rows]
            trains = trains_by_direction(self.layout, self._line_rows, lines, station_id)
            clock = self._latest_event_ms or self._hourly.newest_ms()
            day = chicago_day(clock) if clock is not None else chicago_day(int(time() * 1000))
            return {
                "station_id": station_id,
                "name": rows[lines[0]].name,
                "lines": lines,
                "ada": self._ada.get(station_id),
                "trains": trains,
                "hourly": hourly_block(self._hourly, self.typical, station_id, day),
            }

    def _line_rows(self, line: str) -> dict[int, _Station]:
        """Station id -> row of one line (lock held)."""
        return {sid: row for (ln, sid), row in self._stations.items() if ln == line}

    def hourly_entries(self, station_id: int, day: date) -> list[int]:
        """Entries per Chicago local hour of ``day`` at ``station_id`` (TURNSTILE_HOURLY)."""
        with self._lock:
            return self._hourly.entries_on(station_id, day)

    def lines(self) -> tuple[str, ...]:
        """The lines this board shows, in page order."""
        return tuple(self._colors)

    def trains(self, line: str) -> dict[str, TrainPosition]:
        """Train id -> (station_id, direction) of every train shown on ``line``."""
        with self._lock:
            return dict(self._trains.get(line, {}))

    def pending(self) -> int:
        """Arrivals waiting for their station row."""
        with self._lock:
            return len(self._pending)

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows, JSON-able; lines in page order, stations by ``order``."""
        with self._lock:
            snapshot: dict[str, Any] = {
                "version": self._version,
                "header": header(self._latest_event_ms, self._first_counted_ms.values()),
                "weather": None if self._weather is None else dict(self._weather),
            }
            if self.layout is None:
                snapshot["lines"] = self._seed_lines()
            else:
                snapshot["month"] = self.layout.month
                snapshot["lines"] = self._layout_lines(self.layout)
            return snapshot

    def _seed_lines(self) -> list[dict[str, Any]]:
        """The original board's lines (lock held): Blue, Red, Green, stations by ``order``."""
        lines = []
        for line, color in LINE_COLORS.items():
            rows = sorted(
                (row for (ln, _), row in self._stations.items() if ln == line),
                key=lambda row: (row.order, row.station_id),
            )
            lines.append({"line": line, "color": color, "stations": [r.as_json() for r in rows]})
        return lines

    def _layout_lines(self, layout: BoardLayout) -> list[dict[str, Any]]:
        """The whole 'L' lines (lock held): per line its name, colour, direction names and
        stations in the layout's running order, each with its section and closed flag."""
        lines = []
        for line in layout.lines:
            rank = {sid: n for n, sid in enumerate(line.station_ids)}
            rows = sorted(
                (row for (ln, _), row in self._stations.items() if ln == line.line),
                key=lambda row: (rank.get(row.station_id, len(rank)), row.order, row.station_id),
            )
            stations = []
            for row in rows:
                shown = row.as_json()
                shown["section"] = line.sections.get(row.station_id, "")
                shown["closed"] = row.station_id in layout.closed
                stations.append(shown)
            lines.append(
                {**line.as_json(), "directions": dict(line.directions), "stations": stations}
            )
        return lines
