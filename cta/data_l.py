"""Load the whole 'L' from ``fixtures/l/`` (see fixtures/README.md) into domain values.

As in ``cta.data``, every bad row raises ``DataError`` naming the file and line. Four files:
``lines.csv`` (page order, names, colours, train-id prefixes), ``patterns.csv`` (each pattern's
stations in running order), ``stops.csv`` (every platform, with its lines, ADA and coordinates)
and ``ridership.csv`` (day-type averages per station per month, 2001-01 to 2024-04).

A station with no entries in the chosen month (no row, or zero on every day type: Berwyn and
Lawrence from 2021 on) is *closed*: it stays on its line, with no riders.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from cta.data import (
    CURVE_FILE,
    DataError,
    _non_negative_float,
    _non_negative_int,
    _one_of,
    _parse,
    _rows,
    _stop_rows,
    _text,
    fixtures_dir,
    load_hourly_curve,
)
from cta.domain.events import LineColor
from cta.domain.lines import Line, Network, Station
from cta.domain.patterns import Pattern
from cta.domain.ridership import DayTypeRidership
from cta.domain.simulation import scaled_trains
from cta.ports import StationRow

L_DIR = "l"
LINES_FILE = "lines.csv"
PATTERNS_FILE = "patterns.csv"
STOPS_FILE = "stops.csv"
RIDERSHIP_FILE = "ridership.csv"

LINES_HEADER = ("line", "name", "color", "train_prefix")
PATTERNS_HEADER = ("pattern", "line", "seq", "station_id", "section")
STOPS_HEADER = (
    "stop_id",
    "direction",
    "stop_name",
    "station_name",
    "descriptive_name",
    "station_id",
    "ada",
    "latitude",
    "longitude",
    "lines",
)
RIDERSHIP_HEADER = ("station_id", "month", "weekday", "saturday", "sunday_holiday")

LINE_NAMES = tuple(color.value for color in LineColor)
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

T = TypeVar("T")


def l_dir(directory: Path | None = None) -> Path:
    return directory or fixtures_dir() / L_DIR


class NetworkChoiceError(ValueError):
    """A network or ridership month that the data does not have (a user's choice, not a bug)."""


@dataclass(frozen=True, slots=True)
class LineInfo:
    color: LineColor
    name: str
    color_hex: str
    train_prefix: str


def _hex_color(raw: str) -> str:
    if not re.fullmatch(r"[0-9A-Fa-f]{6}", raw):
        raise ValueError(raw)
    return f"#{raw.upper()}"


def _prefix(raw: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", raw):
        raise ValueError(raw)
    return raw


def _month(raw: str) -> str:
    if not MONTH.fullmatch(raw):
        raise ValueError(raw)
    return raw


def _yes_no(raw: str) -> bool:
    return _one_of("yes", "no")(raw) == "yes"


def _degrees(low: float, high: float) -> Callable[[str], float]:
    def check(raw: str) -> float:
        value = float(raw)
        if not low <= value <= high:
            raise ValueError(raw)
        return value

    return check


def _line_list(raw: str) -> str:
    names = raw.split()
    if any(name not in LINE_NAMES for name in names) or len(set(names)) != len(names):
        raise ValueError(raw)
    return " ".join(names)


def load_lines(path: Path | None = None) -> dict[LineColor, LineInfo]:
    """Line -> its name, colour and train prefix, in page order."""
    path = path or l_dir() / LINES_FILE
    lines: dict[LineColor, LineInfo] = {}
    for line, (color_raw, name, hex_raw, prefix_raw) in _rows(path, LINES_HEADER):
        color = LineColor(_parse(path, line, "line", color_raw, _one_of(*LINE_NAMES)))
        if color in lines:
            raise DataError(path, line, f"duplicate line {color}")
        prefix = _parse(path, line, "train_prefix", prefix_raw, _prefix)
        if any(info.train_prefix == prefix for info in lines.values()):
            raise DataError(path, line, f"train_prefix {prefix} is taken by another line")
        lines[color] = LineInfo(
            color,
            _parse(path, line, "name", name, _text),
            _parse(path, line, "color", hex_raw, _hex_color),
            prefix,
        )
    return lines


def load_patterns(path: Path | None = None) -> dict[LineColor, list[Pattern]]:
    """Line -> its patterns, in file order; rows of a pattern are consecutive, seq 0, 1, 2..."""
    path = path or l_dir() / PATTERNS_FILE
    rows: dict[str, tuple[LineColor, list[int], int | None]] = {}
    last_line = 1
    for line, (pattern_id, line_raw, seq_raw, station_raw, section_raw) in _rows(
        path, PATTERNS_HEADER
    ):
        last_line = line
        color = LineColor(_parse(path, line, "line", line_raw, _one_of(*LINE_NAMES)))
        seq = _parse(path, line, "seq", seq_raw, _non_negative_int)
        station_id = _parse(path, line, "station_id", station_raw, _non_negative_int)
        section = _parse(path, line, "section", section_raw, _one_of("line", "loop"))
        known = rows.setdefault(_parse(path, line, "pattern", pattern_id, _text), (color, [], None))
        pattern_line, stations, loop_start = known
        if pattern_line is not color:
            raise DataError(path, line, f"pattern {pattern_id} is on {pattern_line}, not {color}")
        if seq != len(stations):
            raise DataError(
                path, line, f"pattern {pattern_id}: seq {seq}, expected {len(stations)}"
            )
        if station_id in stations:
            raise DataError(path, line, f"pattern {pattern_id} lists station {station_id} twice")
        if section == "loop" and loop_start is None:
            loop_start = seq
        elif section == "line" and loop_start is not None:
            raise DataError(path, line, f"pattern {pattern_id}: a line station after the Loop")
        stations.append(station_id)
        rows[pattern_id] = (color, stations, loop_start)
    patterns: dict[LineColor, list[Pattern]] = {}
    for pattern_id, (color, stations, loop_start) in rows.items():
        try:
            pattern = Pattern(pattern_id, tuple(stations), loop_start)
        except ValueError as exc:
            raise DataError(path, last_line, str(exc)) from None
        patterns.setdefault(color, []).append(pattern)
    return patterns


@dataclass(frozen=True, slots=True)
class Stop:
    """One platform of ``stops.csv``."""

    stop_id: int
    direction: str
    stop_name: str
    station_name: str
    descriptive_name: str
    station_id: int
    ada: bool
    latitude: float
    longitude: float
    lines: tuple[str, ...]


def load_stops(path: Path | None = None) -> list[Stop]:
    """Every platform row of ``stops.csv``, in file order."""
    path = path or l_dir() / STOPS_FILE
    stops: list[Stop] = []
    for field, stop_id in _stop_rows(path, STOPS_HEADER):
        stops.append(
            Stop(
                stop_id=stop_id,
                direction=field("direction", _one_of("N", "S", "E", "W")),
                stop_name=field("stop_name", _text),
                station_name=field("station_name", _text),
                descriptive_name=field("descriptive_name", _text),
                station_id=field("station_id", _non_negative_int),
                ada=field("ada", _yes_no),
                latitude=field("latitude", _degrees(-90.0, 90.0)),
                longitude=field("longitude", _degrees(-180.0, 180.0)),
                lines=tuple(field("lines", _line_list).split()),
            )
        )
    return stops


def load_monthly_ridership(
    path: Path | None = None,
) -> dict[str, dict[int, DayTypeRidership]]:
    """Month ("2019-10") -> station id -> day-type averages."""
    path = path or l_dir() / RIDERSHIP_FILE
    months: dict[str, dict[int, DayTypeRidership]] = {}
    for line, (station_raw, month_raw, weekday, saturday, sunday) in _rows(
        path, RIDERSHIP_HEADER
    ):
        station_id = _parse(path, line, "station_id", station_raw, _non_negative_int)
        month = _parse(path, line, "month", month_raw, _month)
        stations = months.setdefault(month, {})
        if station_id in stations:
            raise DataError(path, line, f"duplicate row for station {station_id} in {month}")
        stations[station_id] = DayTypeRidership(
            weekday=_parse(path, line, "weekday", weekday, _non_negative_float),
            saturday=_parse(path, line, "saturday", saturday, _non_negative_float),
            sunday_holiday=_parse(path, line, "sunday_holiday", sunday, _non_negative_float),
        )
    return months


@dataclass(frozen=True, slots=True)
class WholeL:
    """Everything ``fixtures/l/`` holds, parsed once; ``network(month)`` picks a month."""

    lines: dict[LineColor, LineInfo]
    patterns: dict[LineColor, list[Pattern]]
    stops: list[Stop]
    ridership: dict[str, dict[int, DayTypeRidership]]
    directory: Path

    @property
    def latest_month(self) -> str:
        return max(self.ridership)

    def station_names(self) -> dict[int, str]:
        return {s.station_id: s.station_name for s in self.stops}

    def _line(self, info: LineInfo, names: dict[int, str]) -> Line:
        patterns = tuple(self.patterns.get(info.color, ()))
        if not patterns:
            raise DataError(self.directory / PATTERNS_FILE, None, f"no pattern for {info.color}")
        ordered: list[int] = []
        for pattern in patterns:
            ordered.extend(s for s in pattern.stations if s not in ordered)
        missing = [s for s in ordered if s not in names]
        if missing:
            raise DataError(self.directory / STOPS_FILE, None, f"no stop for station(s) {missing}")
        stations = tuple(
            Station(station_id, names[station_id], order, info.color)
            for order, station_id in enumerate(ordered)
        )
        return Line(info.color, stations, patterns, info.name, info.color_hex, info.train_prefix)

    def network(self, month: str | None = None) -> Network:
        month = month or self.latest_month
        if month not in self.ridership:
            first, last = min(self.ridership), max(self.ridership)
            raise NetworkChoiceError(
                f"no ridership for {month}: the data covers {first} to {last}"
            )
        names = self.station_names()
        lines = {color: self._line(info, names) for color, info in self.lines.items()}
        served = {sid for line in lines.values() for sid in line.station_ids}
        figures = self.ridership[month]
        closed = frozenset(
            sid
            for sid in served
            if sid not in figures
            or not (figures[sid].weekday or figures[sid].saturday or figures[sid].sunday_holiday)
        )
        none = DayTypeRidership(0.0, 0.0, 0.0)
        ridership = {sid: none if sid in closed else figures[sid] for sid in served}
        return Network(
            lines=lines,
            ridership=ridership,
            curve=load_hourly_curve(fixtures_dir() / CURVE_FILE),
            month=month,
            closed=closed,
            trains={color: scaled_trains(line) for color, line in lines.items()},
            name="l",
        )

    def station_rows(self) -> list[StationRow]:
        """The stations table: one row per platform. ``order`` is the station's position on
        the first line stopping there (the board draws running order from the patterns)."""
        network = self.network()
        rows: list[StationRow] = []
        for stop in self.stops:
            order = 0
            if stop.lines:
                ids = network.lines[LineColor(stop.lines[0])].station_ids
                order = ids.index(stop.station_id) if stop.station_id in ids else 0
            rows.append(
                StationRow(
                    stop_id=stop.stop_id,
                    direction_id=stop.direction,
                    stop_name=stop.stop_name,
                    station_name=stop.station_name,
                    station_descriptive_name=stop.descriptive_name,
                    station_id=stop.station_id,
                    order=order,
                    red="red" in stop.lines,
                    blue="blue" in stop.lines,
                    green="green" in stop.lines,
                    lines=" ".join(stop.lines),
                    ada=stop.ada,
                    latitude=stop.latitude,
                    longitude=stop.longitude,
                )
            )
        return rows


def load_whole_l(directory: Path | None = None) -> WholeL:
    directory = l_dir(directory)
    whole = WholeL(
        lines=load_lines(directory / LINES_FILE),
        patterns=load_patterns(directory / PATTERNS_FILE),
        stops=load_stops(directory / STOPS_FILE),
        ridership=load_monthly_ridership(directory / RIDERSHIP_FILE),
        directory=directory,
    )
    unknown = sorted(set(whole.patterns) - set(whole.lines))
    if unknown:
        raise DataError(directory / PATTERNS_FILE, None, f"patterns of unknown line(s) {unknown}")
    return whole


NETWORKS = ("l", "seed")
DEFAULT_NETWORK = "l"


def load_network(name: str = DEFAULT_NETWORK, month: str | None = None) -> Network:
    """``l``: the whole 'L' for ``month`` (default: the latest in the data); ``seed``: the
    original three lines with their October 2018 figures (no other month exists for them)."""
    if name == "seed":
        if month:
            raise NetworkChoiceError(
                "the seed network has October 2018 figures only: drop --month"
            )
        from cta.data import default_network

        return default_network()
    if name != "l":
        raise NetworkChoiceError(f"unknown network {name!r}: choose from {', '.join(NETWORKS)}")
    return load_whole_l().network(month)


def load_network_rows(name: str = DEFAULT_NETWORK) -> list[StationRow]:
    """The stations table rows of a network."""
    if name == "seed":
        from cta.data import load_station_rows

        return load_station_rows()
    if name != "l":
        raise NetworkChoiceError(f"unknown network {name!r}: choose from {', '.join(NETWORKS)}")
    return load_whole_l().station_rows()
