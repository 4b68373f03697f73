"""The simulated lines, built from the stations table.

A station is identified by its ``station_id``, never by its name: the Blue line has two different
stations named "Harlem" (40750 and 40980), and the original simulation, which grouped by name,
merged them. Rows flagged for no simulated line (Brown/Purple platforms) are left out. A station
on two lines (Clark/Lake 40380, Roosevelt 41400) appears on each, with that line's ``order``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise

from cta.domain.events import LineColor
from cta.domain.patterns import Pattern
from cta.domain.ridership import DayTypeRidership, HourlyCurve
from cta.ports import StationRow

# The order lines are simulated and listed in.
LINE_ORDER: tuple[LineColor, ...] = (LineColor.BLUE, LineColor.RED, LineColor.GREEN)


@dataclass(frozen=True, slots=True)
class Station:
    station_id: int
    name: str
    order: int
    line: LineColor


@dataclass(frozen=True, slots=True)
class Line:
    """A line's stations, sorted by ``order``, and the patterns its trains run.

    With no ``patterns`` the line runs terminal to terminal along ``stations`` (index 0 is one
    terminal, the last the other): the seed network's three lines. ``train_prefix`` starts the
    ids of its trains (seed: the colour's initial and ``L``, ``BL003``)."""

    color: LineColor
    stations: tuple[Station, ...]
    patterns: tuple[Pattern, ...] = ()
    name: str = ""
    color_hex: str = ""
    train_prefix: str = ""

    def __len__(self) -> int:
        return len(self.stations)

    @property
    def station_ids(self) -> tuple[int, ...]:
        return tuple(station.station_id for station in self.stations)

    @property
    def service_patterns(self) -> tuple[Pattern, ...]:
        """The explicit patterns, or the one terminal-to-terminal pattern along ``stations``."""
        if self.patterns:
            return self.patterns
        return (Pattern(self.color.value, self.station_ids),)

    @property
    def id_prefix(self) -> str:
        return self.train_prefix or f"{self.color.value[0].upper()}L"

    @property
    def display_name(self) -> str:
        return self.name or self.color.value.title()


@dataclass(frozen=True, slots=True)
class Network:
    """Everything the simulation needs: the lines, station ridership and the hourly curve."""

    lines: Mapping[LineColor, Line]
    ridership: Mapping[int, DayTypeRidership]
    curve: HourlyCurve
    # The ridership month ("2024-04"); None for the seed's single month.
    month: str | None = None
    # Stations with no entries in ``month`` (Berwyn and Lawrence from 2021): shown as closed.
    closed: frozenset[int] = frozenset()
    # Default trains per line; a line not listed runs DEFAULT_TRAINS_PER_LINE.
    trains: Mapping[LineColor, int] | None = None
    name: str = "seed"

    def station_names(self) -> dict[int, str]:
        return {s.station_id: s.name for line in self.lines.values() for s in line.stations}

    def stations_without_ridership(self) -> list[int]:
        """Ids of stations on a simulated line that have no ridership figures."""
        served = {sid for line in self.lines.values() for sid in line.station_ids}
        return sorted(served - set(self.ridership))


def _line_of(row: StationRow) -> LineColor | None:
    flagged = [
        color
        for color, flag in (
            (LineColor.RED, row.red),
            (LineColor.BLUE, row.blue),
            (LineColor.GREEN, row.green),
        )
        if flag
    ]
    if len(flagged) > 1:
        raise ValueError(f"stop {row.stop_id} is flagged for several lines: {flagged}")
    return flagged[0] if flagged else None


def build_lines(rows: Iterable[StationRow]) -> dict[LineColor, Line]:
    """Group stop rows into stations per line, by ``station_id``, sorted by ``order``.

    Raises ValueError when a station's stops disagree on its order, or two stations of one line
    share an order: either would make the line's sequence ambiguous.
    """
    grouped: dict[LineColor, dict[int, Station]] = {color: {} for color in LINE_ORDER}
    for row in sorted(rows, key=lambda r: r.stop_id):
        color = _line_of(row)
        if color is None:
            continue
        known = grouped[color].get(row.station_id)
        if known is None:
            grouped[color][row.station_id] = Station(
                row.station_id, row.station_name, row.order, color
            )
        elif known.order != row.order:
            raise ValueError(
                f"{color} station {row.station_id} has stops at orders {known.order} and "
                f"{row.order} (stop {row.stop_id})"
            )
    lines: dict[LineColor, Line] = {}
    for color in LINE_ORDER:
        stations = sorted(grouped[color].values(), key=lambda s: s.order)
        for before, after in pairwise(stations):
            if before.order == after.order:
                raise ValueError(
                    f"{color} stations {before.station_id} and {after.station_id} share "
                    f"order {before.order}"
                )
        lines[color] = Line(color, tuple(stations))
    return lines
