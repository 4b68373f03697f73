"""Load our fixtures (see fixtures/README.md) into domain values.

Every bad row raises ``DataError`` naming the file and line ("fixtures/stops.csv:12: ..."), so a
broken fixture is found at start-up, not as a wrong number on the dashboard. Quirks of the source
figures are handled here on purpose and nowhere else: the ``95th/Ran Ryan`` typo is corrected by
``NAME_CORRECTIONS``; stops on no simulated line (``none``) keep all three line flags False.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from cta import resources
from cta.domain.lines import Network, build_lines
from cta.domain.ridership import HOURS_PER_DAY, DayTypeRidership, HourlyCurve
from cta.ports import StationRow

FIXTURES_ENV = "CTA_FIXTURES_DIR"
STOPS_FILE = "stops.csv"
RIDERSHIP_FILE = "ridership.csv"
CURVE_FILE = "hourly_curve.csv"

STOPS_HEADER = (
    "stop_id",
    "direction",
    "stop_name",
    "station_name",
    "descriptive_name",
    "station_id",
    "order",
    "line",
)
RIDERSHIP_HEADER = ("station_id", "station_name", "weekday", "saturday", "sunday_holiday")
CURVE_HEADER = ("hour", "share")

DIRECTIONS = frozenset({"N", "S", "E", "W"})
LINE_VALUES = ("red", "blue", "green", "none")

# (station_id, name as written in the source) -> corrected name; applied to the station name and
# the descriptive name of stops.
NAME_CORRECTIONS: dict[tuple[int, str], str] = {
    (40450, "95th/Ran Ryan"): "95th/Dan Ryan",
    (40450, "95th/Ran Ryan (Red Line)"): "95th/Dan Ryan (Red Line)",
}

T = TypeVar("T")


class DataError(ValueError):
    """A fixture file is missing or holds a bad row."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        where = _display(path) if line is None else f"{_display(path)}:{line}"
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def fixtures_dir() -> Path:
    """``$CTA_FIXTURES_DIR`` if set, else the fixtures shipped with the package (the
    checkout's ``fixtures/`` folder; see ``cta.resources``)."""
    configured = os.environ.get(FIXTURES_ENV)
    if configured:
        return Path(configured)
    return resources.fixtures_dir()


def _rows(path: Path, header: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for each data row, after checking the header and column counts."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise DataError(path, None, f"cannot read: {exc.strerror or exc}") from exc
    with handle:
        reader = csv.reader(handle, strict=True)
        try:
            first = next(reader, None)
            if first is None or tuple(first) != header:
                raise DataError(path, 1, f"expected header {','.join(header)}, got {first}")
            for fields in reader:
                if not fields:
                    continue  # a blank line carries no data
                if len(fields) != len(header):
                    raise DataError(
                        path,
                        reader.line_num,
                        f"expected {len(header)} columns, got {len(fields)}",
                    )
                yield reader.line_num, fields
        except csv.Error as exc:
            raise DataError(path, reader.line_num, f"malformed CSV: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise DataError(path, None, f"not UTF-8: {exc}") from exc


def _parse(path: Path, line: int, column: str, raw: str, convert: Callable[[str], T]) -> T:
    try:
        return convert(raw)
    except ValueError:
        raise DataError(path, line, f"{column} {raw!r} is not a valid value") from None


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError(raw)
    return value


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or value < 0:
        raise ValueError(raw)
    return value


def _text(raw: str) -> str:
    if not raw.strip():
        raise ValueError(raw)
    return raw


def _one_of(*allowed: str) -> Callable[[str], str]:
    def check(raw: str) -> str:
        if raw not in allowed:
            raise ValueError(raw)
        return raw

    return check


class RowFields:
    """The columns of one CSV row, parsed on request with file:line errors."""

    def __init__(self, path: Path, line: int, values: dict[str, str]) -> None:
        self.path, self.line, self._values = path, line, values

    def __call__(self, column: str, convert: Callable[[str], T]) -> T:
        return _parse(self.path, self.line, column, self._values[column], convert)


def _stop_rows(path: Path, header: tuple[str, ...]) -> Iterator[tuple[RowFields, int]]:
    """The rows of a stops file with their ``stop_id``, refusing a stop id seen before."""
    seen: dict[int, int] = {}
    for line, fields in _rows(path, header):
        field = RowFields(path, line, dict(zip(header, fields, strict=True)))
        stop_id = field("stop_id", _non_negative_int)
        if stop_id in seen:
            raise DataError(
                path, line, f"duplicate stop_id {stop_id} (first on line {seen[stop_id]})"
            )
        seen[stop_id] = line
        yield field, stop_id


def _correct(station_id: int, name: str) -> str:
    return NAME_CORRECTIONS.get((station_id, name), name)


def load_station_rows(path: Path | None = None) -> list[StationRow]:
    """Every stop of ``stops.csv`` (230 in our fixtures), in file order."""
    path = path or fixtures_dir() / STOPS_FILE
    rows: list[StationRow] = []
    for field, stop_id in _stop_rows(path, STOPS_HEADER):
        station_id = field("station_id", _non_negative_int)
        on_line = field("line", _one_of(*LINE_VALUES))
        rows.append(
            StationRow(
                stop_id=stop_id,
                direction_id=field("direction", _one_of(*sorted(DIRECTIONS))),
                stop_name=field("stop_name", _text),
                station_name=_correct(station_id, field("station_name", _text)),
                station_descriptive_name=_correct(station_id, field("descriptive_name", _text)),
                station_id=station_id,
                order=field("order", _non_negative_int),
                red=on_line == "red",
                blue=on_line == "blue",
                green=on_line == "green",
            )
        )
    return rows


def load_ridership(path: Path | None = None) -> dict[int, DayTypeRidership]:
    """station_id -> average daily entries by day type."""
    path = path or fixtures_dir() / RIDERSHIP_FILE
    ridership: dict[int, DayTypeRidership] = {}
    first_seen: dict[int, int] = {}
    for line, fields in _rows(path, RIDERSHIP_HEADER):
        station_raw, _name, weekday, saturday, sunday = fields
        station_id = _parse(path, line, "station_id", station_raw, _non_negative_int)
        if station_id in ridership:
            raise DataError(
                path,
                line,
                f"duplicate station_id {station_id} (first on line {first_seen[station_id]})",
            )
        first_seen[station_id] = line
        ridership[station_id] = DayTypeRidership(
            weekday=_parse(path, line, "weekday", weekday, _non_negative_float),
            saturday=_parse(path, line, "saturday", saturday, _non_negative_float),
            sunday_holiday=_parse(path, line, "sunday_holiday", sunday, _non_negative_float),
        )
    return ridership


def load_hourly_curve(path: Path | None = None) -> HourlyCurve:
    """The share of a day's entries per local hour; each hour 0-23 exactly once."""
    path = path or fixtures_dir() / CURVE_FILE
    shares: dict[int, float] = {}
    last_line = 1
    for line, (hour_raw, share_raw) in _rows(path, CURVE_HEADER):
        last_line = line
        hour = _parse(path, line, "hour", hour_raw, _non_negative_int)
        if hour >= HOURS_PER_DAY:
            raise DataError(path, line, f"hour {hour} is outside 0-23")
        if hour in shares:
            raise DataError(path, line, f"duplicate hour {hour}")
        share = _parse(path, line, "share", share_raw, _non_negative_float)
        if share > 1.0:
            raise DataError(path, line, f"share {share} is above 1")
        shares[hour] = share
    missing = sorted(set(range(HOURS_PER_DAY)) - set(shares))
    if missing:
        raise DataError(path, last_line, f"missing hour(s) {missing}")
    return HourlyCurve(tuple(shares[hour] for hour in range(HOURS_PER_DAY)))


def default_network(directory: Path | None = None) -> Network:
    """Lines, ridership and hourly curve from the fixtures directory (see ``fixtures_dir``)."""
    directory = directory or fixtures_dir()
    stops_path = directory / STOPS_FILE
    ridership_path = directory / RIDERSHIP_FILE
    try:
        lines = build_lines(load_station_rows(stops_path))
    except DataError:
        raise
    except ValueError as exc:
        raise DataError(stops_path, None, str(exc)) from exc
    network = Network(
        lines=lines,
        ridership=load_ridership(ridership_path),
        curve=load_hourly_curve(directory / CURVE_FILE),
    )
    missing = network.stations_without_ridership()
    if missing:
        raise DataError(ridership_path, None, f"no row for simulated station(s) {missing}")
    return network
