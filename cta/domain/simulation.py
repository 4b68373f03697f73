"""The station simulation: trains moving along the lines, riders, hourly weather.

Trains. Each line's trains run round its *route* (``cta.domain.patterns``): the cycle of places
(station, direction) of its service patterns' round trips. Every step each train moves to the
next place of the route; trains start at places no two of them ever share at the same step, so
no train is ever lost, duplicated or put where another one stands. For a terminal-to-terminal
line of ``n`` stations the route is the original's ``2(n-1)`` slots: slot ``p < n-1`` is station
``p`` in direction ``b`` (towards the last station), slot ``p >= n-1`` is station ``2(n-1)-p`` in
direction ``a``; the first station only holds b-trains and the last only a-trains. There, trains
start at slots 0, s, 2s, ... with ``s = floor(2(n-1) / trains)``: the original's placement.

``placement()`` puts the trains on the line and takes the first weather reading, whatever the
minute, so a board has weather from its first snapshot rather than at the next full hour. Each
``step()`` advances the clock first, then emits: weather when the simulated minute is 0, then
per line (in the network's order) every station's turnstile entries, one event per rider, then one
arrival per train. Everything is stamped with the simulated time in epoch ms. The same network,
seed, train counts, step and start give the same events.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from cta.domain.clock import SimClock, epoch_ms
from cta.domain.events import (
    Arrival,
    Direction,
    LineColor,
    TrainStatus,
    TurnstileEntry,
    WeatherReading,
)
from cta.domain.lines import Line, Network
from cta.domain.patterns import Place, build_route, spread
from cta.domain.ridership import DEFAULT_NOISE_BOUND, TurnstileModel
from cta.domain.weather import WeatherModel

DEFAULT_STEP = timedelta(minutes=5)
DEFAULT_TRAINS_PER_LINE = 10
# Default spacing on the whole 'L': one train per this many places of a line's route.
PLACES_PER_TRAIN = 6

TrainCounts = int | Mapping[LineColor, int] | None


@dataclass(frozen=True, slots=True)
class StepEvents:
    at: datetime
    arrivals: list[Arrival]
    turnstiles: list[TurnstileEntry]
    weather: WeatherReading | None


def train_capacity(station_count: int) -> int:
    """Most trains a line of ``station_count`` stations holds: one per direction per station,
    except the terminals, which each hold one."""
    return max(0, 2 * (station_count - 1))


def train_id(color: LineColor | Line, number: int) -> str:
    prefix = color.id_prefix if isinstance(color, Line) else f"{color.value[0].upper()}L"
    return f"{prefix}{number:03d}"


def scaled_trains(line: Line) -> int:
    """Trains for a line by its length: one per ``PLACES_PER_TRAIN`` places of its route, odd on
    a line with two patterns so that consecutive trains alternate between them."""
    places = len(build_route(line.service_patterns, {}))
    count = max(1, round(places / PLACES_PER_TRAIN))
    if len(line.service_patterns) > 1 and count % 2 == 0:
        count += 1
    return count


class LineTrains:
    """The trains of one line and their places on the line's route (see the module docstring)."""

    def __init__(self, line: Line, count: int, names: Mapping[int, str] | None = None) -> None:
        self.line = line
        names = names if names is not None else {s.station_id: s.name for s in line.stations}
        self.route: tuple[Place, ...] = build_route(line.service_patterns, names)
        try:
            starts = spread(self.route, count, even=not line.patterns)
        except ValueError as exc:
            raise ValueError(
                f"the {line.color} line ({len(line)} stations) {exc}"
            ) from None
        self._index = {s.station_id: n for n, s in enumerate(line.stations)}
        self._loop = len(self.route)
        self._slots = {train_id(line, n): start for n, start in enumerate(starts)}

    def _position(self, slot: int) -> tuple[int, Direction]:
        place = self.route[slot]
        return self._index[place.station_id], place.direction

    def positions(self) -> dict[str, tuple[int, Direction]]:
        return {tid: self._position(slot) for tid, slot in self._slots.items()}

    def places(self) -> dict[str, Place]:
        return {tid: self.route[slot] for tid, slot in self._slots.items()}

    def _arrival(self, tid: str, slot: int, prev_slot: int | None, timestamp_ms: int) -> Arrival:
        place = self.route[slot]
        prev_station_id: int | None = None
        prev_direction: Direction | None = None
        if prev_slot is not None:
            prev = self.route[prev_slot]
            prev_station_id, prev_direction = prev.station_id, prev.direction
        return Arrival(
            station_id=place.station_id,
            train_id=tid,
            direction=place.direction,
            line=self.line.color,
            train_status=TrainStatus.IN_SERVICE,
            prev_station_id=prev_station_id,
            prev_direction=prev_direction,
            timestamp_ms=timestamp_ms,
            direction_name=place.direction_name,
        )

    def placement(self, timestamp_ms: int) -> list[Arrival]:
        return [self._arrival(tid, slot, None, timestamp_ms) for tid, slot in self._slots.items()]

    def move(self, timestamp_ms: int) -> list[Arrival]:
        arrivals = []
        for tid, slot in self._slots.items():
            moved = (slot + 1) % self._loop
            self._slots[tid] = moved
            arrivals.append(self._arrival(tid, moved, slot, timestamp_ms))
        return arrivals


def train_counts(network: Network, requested: TrainCounts) -> dict[LineColor, int]:
    """Trains per line: ``requested`` (one count for all, or per line) over the network's
    defaults, over DEFAULT_TRAINS_PER_LINE."""
    defaults = network.trains or {}
    counts = {
        color: defaults.get(color, DEFAULT_TRAINS_PER_LINE) for color in network.lines
    }
    if isinstance(requested, int):
        return dict.fromkeys(counts, requested)
    if requested:
        unknown = sorted(set(requested) - set(counts))
        if unknown:
            raise ValueError(f"no such line(s) in the network: {unknown}")
        counts.update(requested)
    return counts


class Simulation:
    """Drives the lines of a ``Network`` one step at a time; see the module docstring."""

    def __init__(
        self,
        network: Network,
        *,
        seed: int = 0,
        trains_per_line: TrainCounts = None,
        step: timedelta = DEFAULT_STEP,
        start: datetime,
        noise_bound: int = DEFAULT_NOISE_BOUND,
    ) -> None:
        self.network = network
        self._clock = SimClock(start, step)
        self._lines = list(network.lines.values())
        counts = train_counts(network, trains_per_line)
        names = network.station_names()
        self._trains = {
            line.color: LineTrains(line, counts[line.color], names) for line in self._lines
        }
        self._turnstiles = TurnstileModel.for_stations(
            network.ridership,
            network.curve,
            step,
            [line.station_ids for line in self._lines],
            noise_bound=noise_bound,
        )
        # Separate streams, so weather draws never shift the riders and vice versa.
        self._rider_rng = random.Random(f"riders:{seed}")
        self._weather = WeatherModel(self._clock.now.month, random.Random(f"weather:{seed}"))
        self._placed = False

    @property
    def now(self) -> datetime:
        """The current simulated time, Chicago local."""
        return self._clock.now

    @property
    def turnstile_model(self) -> TurnstileModel:
        return self._turnstiles

    def positions(self, line: LineColor) -> dict[str, tuple[int, Direction]]:
        """Train id -> (station index on the line, direction), for the current step."""
        return self._trains[line].positions()

    def places(self, line: LineColor) -> dict[str, Place]:
        """Train id -> its place on the line's route (station, direction, pattern)."""
        return self._trains[line].places()

    def _weather_due(self, at: datetime) -> WeatherReading | None:
        return self._weather.reading(at) if at.minute == 0 else None

    def placement(self) -> StepEvents:
        """The initial arrivals (no previous station) and the first weather reading, whatever
        the minute. Call it once, before the first ``step()``."""
        if self._placed or self._clock.ticks:
            raise RuntimeError("placement() runs once, before the first step()")
        self._placed = True
        at = self.now
        timestamp = epoch_ms(at)
        arrivals = [
            a for line in self._lines for a in self._trains[line.color].placement(timestamp)
        ]
        return StepEvents(at, arrivals, [], self._weather.reading(at))

    def _riders(self, line: Line, at: datetime, timestamp: int) -> list[TurnstileEntry]:
        entries: list[TurnstileEntry] = []
        for station in line.stations:
            count = self._turnstiles.entries(station.station_id, at, self._rider_rng)
            entry = TurnstileEntry(station.station_id, station.name, line.color, timestamp)
            entries.extend([entry] * count)
        return entries

    def step(self) -> StepEvents:
        at = self._clock.advance()
        timestamp = epoch_ms(at)
        weather = self._weather_due(at)
        arrivals: list[Arrival] = []
        turnstiles: list[TurnstileEntry] = []
        for line in self._lines:
            turnstiles.extend(self._riders(line, at, timestamp))
            arrivals.extend(self._trains[line.color].move(timestamp))
        return StepEvents(at, arrivals, turnstiles, weather)
