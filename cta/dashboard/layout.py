"""How the board lays out a network of service patterns (the whole 'L').

The seed network needs no layout: its three lines are drawn from the stations table alone, by
``order``, as the original board did. The whole 'L' needs what the table cannot say: each line's
stations in running order *per pattern* (the Loop in the order the line runs round it, both of
Green's south branches), the direction names riders read, official colours, and which stations
are closed in the ridership month. ``BoardLayout.from_network`` takes them from the ``Network``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cta.domain.events import Direction
from cta.domain.lines import Line, Network
from cta.domain.patterns import direction_names

LOOP = "The Loop"


@dataclass(frozen=True, slots=True)
class LineLayout:
    line: str
    name: str
    color: str
    station_ids: tuple[int, ...]
    # station id -> the part of the line it is on ("" for the trunk, "The Loop", "... branch")
    sections: dict[int, str]
    directions: dict[str, str]

    def as_json(self) -> dict[str, object]:
        return {"line": self.line, "name": self.name, "color": self.color}


Coordinates = dict[int, tuple[float, float]]  # station id -> (latitude, longitude)


def loop_name(loop: tuple[int, ...], coordinates: Coordinates) -> str:
    """"The Loop", with the way round it when the stations' coordinates tell: the shoelace
    area of the stations in running order (x east, y north) is positive when they run
    counter-clockwise (the Outer Loop track) and negative clockwise (the Inner Loop)."""
    points = [coordinates[s] for s in loop if s in coordinates]
    if len(points) < 3:
        return LOOP
    area = sum(
        lon1 * lat2 - lon2 * lat1
        for (lat1, lon1), (lat2, lon2) in zip(points, points[1:] + points[:1], strict=True)
    )
    return f"{LOOP}: Outer Loop, counter-clockwise" if area > 0 else (
        f"{LOOP}: Inner Loop, clockwise"
    )


def _line_layout(line: Line, names: dict[int, str], coordinates: Coordinates) -> LineLayout:
    patterns = line.service_patterns
    sections: dict[int, str] = {}
    shared = set(patterns[0].stations)
    for pattern in patterns[1:]:
        shared &= set(pattern.stations)
    for pattern in patterns:
        loop = loop_name(pattern.loop, coordinates)
        for station_id in pattern.loop:
            sections[station_id] = loop
        if len(patterns) > 1 and pattern.far_terminal is not None:
            branch = f"{names.get(pattern.far_terminal, pattern.far_terminal)} branch"
            for station_id in pattern.stations:
                if station_id not in shared:
                    sections[station_id] = branch
    towards_a = direction_names(patterns[0], names)[Direction.A]
    towards_b = sorted({direction_names(p, names)[Direction.B] for p in patterns})
    b_label = towards_b[0] if len(towards_b) == 1 else "To " + " / ".join(
        name.removeprefix("To ") for name in towards_b
    )
    return LineLayout(
        line=line.color.value,
        name=line.display_name,
        color=line.color_hex or "#888888",
        station_ids=line.station_ids,
        sections=sections,
        directions={"a": towards_a, "b": b_label},
    )


@dataclass(frozen=True, slots=True)
class BoardLayout:
    lines: tuple[LineLayout, ...]
    closed: frozenset[int]
    month: str | None
    # Station id -> (latitude, longitude), for the map (cta.dashboard.netmap).
    coordinates: Coordinates = field(default_factory=dict)

    @classmethod
    def from_network(cls, network: Network, coordinates: Coordinates | None = None) -> BoardLayout:
        names = network.station_names()
        return cls(
            tuple(_line_layout(line, names, coordinates or {}) for line in network.lines.values()),
            frozenset(network.closed),
            network.month,
            dict(coordinates or {}),
        )

    def line(self, name: str) -> LineLayout | None:
        return next((layout for layout in self.lines if layout.line == name), None)
