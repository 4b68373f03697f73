"""Service patterns: the order a line's trains run in, and the cyclic route built from them.

A pattern lists its stations in running order, terminal first. A pattern without a Loop runs
terminal to terminal and back (Red, Blue, Yellow, each Green branch); a pattern with a Loop runs
from its terminal to the Loop, once round it in the line's direction, and back (Brown, Orange,
Pink, Purple): the Loop is not a terminal, so no train ever turns there.

A line's *route* is the cycle of places its trains move through, one place per step: every
pattern's round trip in turn. A place is a station and a direction:

* ``b``: away from the pattern's terminal (towards the far terminal, or the Loop);
* ``a``: back towards the terminal. A train on the Loop is already on its way home, so it runs
  as ``a``; CTA signs do the same (a Brown train on the Outer Loop reads "Kimball").

Directions carry the name riders read on the train: "To <terminal>" and, towards the Loop,
"To the Loop". For a terminal-to-terminal pattern of ``n`` stations the round trip is the
original system's ``2(n-1)`` slots: the first station only holds b-trains, the last only a-trains.
A line with two patterns (Green) runs them alternately, so each train serves both branches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cta.domain.events import Direction

TO_THE_LOOP = "To the Loop"


@dataclass(frozen=True, slots=True)
class Pattern:
    """One service pattern: station ids in running order; ``loop_start`` is the index of the
    first Loop station (None: the pattern runs terminal to terminal)."""

    pattern_id: str
    stations: tuple[int, ...]
    loop_start: int | None = None

    def __post_init__(self) -> None:
        if len(self.stations) < 2:
            raise ValueError(f"pattern {self.pattern_id} needs at least two stations")
        if len(set(self.stations)) != len(self.stations):
            raise ValueError(f"pattern {self.pattern_id} lists a station twice")
        if self.loop_start is not None and not 1 <= self.loop_start < len(self.stations) - 1:
            raise ValueError(f"pattern {self.pattern_id}: the Loop must follow a station")

    @property
    def terminal(self) -> int:
        return self.stations[0]

    @property
    def far_terminal(self) -> int | None:
        """The other terminal; None when the pattern goes round the Loop instead."""
        return self.stations[-1] if self.loop_start is None else None

    @property
    def trunk(self) -> tuple[int, ...]:
        return self.stations if self.loop_start is None else self.stations[: self.loop_start]

    @property
    def loop(self) -> tuple[int, ...]:
        return () if self.loop_start is None else self.stations[self.loop_start :]


@dataclass(frozen=True, slots=True)
class Place:
    """Where a train is: a station, its direction code and name, and the pattern it runs."""

    station_id: int
    direction: Direction
    direction_name: str
    pattern_id: str


def direction_names(pattern: Pattern, names: Mapping[int, str]) -> dict[Direction, str]:
    """The names riders read: b "To <far terminal>" or "To the Loop", a "To <terminal>"."""
    far = pattern.far_terminal
    return {
        Direction.A: f"To {names.get(pattern.terminal, pattern.terminal)}",
        Direction.B: TO_THE_LOOP if far is None else f"To {names.get(far, far)}",
    }


def round_trip(pattern: Pattern, names: Mapping[int, str]) -> list[Place]:
    """The places of one round trip, from the terminal (direction b) back to it."""
    named = direction_names(pattern, names)

    def place(station_id: int, direction: Direction) -> Place:
        return Place(station_id, direction, named[direction], pattern.pattern_id)

    trunk = pattern.trunk
    if pattern.loop_start is None:
        out = [place(s, Direction.B) for s in trunk[:-1]]
        back = [place(s, Direction.A) for s in reversed(trunk[1:])]
        return out + back
    out = [place(s, Direction.B) for s in trunk]
    loop = [place(s, Direction.A) for s in pattern.loop]
    back = [place(s, Direction.A) for s in reversed(trunk[1:])]
    return out + loop + back


def build_route(patterns: Sequence[Pattern], names: Mapping[int, str]) -> tuple[Place, ...]:
    """The line's cycle of places: each pattern's round trip in turn."""
    if not patterns:
        raise ValueError("a line needs at least one pattern")
    return tuple(p for pattern in patterns for p in round_trip(pattern, names))


def clashing_offsets(route: Sequence[Place]) -> frozenset[int]:
    """Offsets ``d`` such that two trains ``d`` places apart would, at some step, stand at the
    same station in the same direction (only possible where patterns share stations)."""
    length = len(route)
    where: dict[tuple[int, Direction], list[int]] = {}
    for index, place in enumerate(route):
        where.setdefault((place.station_id, place.direction), []).append(index)
    offsets: set[int] = set()
    for indices in where.values():
        for i in indices:
            for j in indices:
                if i != j:
                    offsets.add((j - i) % length)
    return frozenset(offsets)


def spread(route: Sequence[Place], count: int, *, even: bool) -> list[int]:
    """Starting indices of ``count`` trains on ``route``, none ever sharing a place.

    ``even`` keeps the original system's placement (0, s, 2s... with ``s = len // count``);
    otherwise trains start at ``floor(n * len / count)``, moved on to the next index that clashes
    with no train placed before. Raises ValueError when the route cannot hold them."""
    length = len(route)
    clashes = clashing_offsets(route)
    capacity = length - len(clashes) if clashes else length
    if not 1 <= count <= capacity:
        raise ValueError(f"holds 1 to {capacity} trains, not {count}")
    if even and not clashes:
        spacing = length // count
        return [n * spacing for n in range(count)]
    starts: list[int] = []
    for n in range(count):
        candidate = n * length // count
        for _ in range(length):
            taken = candidate in starts
            if not taken and all((candidate - s) % length not in clashes for s in starts):
                break
            candidate = (candidate + 1) % length
        else:
            raise ValueError(f"holds fewer than {count} trains without two sharing a place")
        starts.append(candidate)
    return starts
