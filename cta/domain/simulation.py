"""The station simulation: trains moving along the lines, riders, hourly weather.

Trains. A line of ``n`` stations has ``2(n-1)`` slots on a loop: slot ``p < n-1`` is station ``p``
in direction ``b`` (towards the last station), slot ``p >= n-1`` is station ``2(n-1)-p`` in
direction ``a`` (back towards index 0). So the first station only holds b-trains and the last only
a-trains, every other station has one slot per direction, and a b-train reaching the last station
arrives there as direction ``a`` (and an a-train reaching index 0 as ``b``). Every step each train
moves to the next slot; distinct slots stay distinct, so no train is ever lost, duplicated or put
in an occupied slot. Trains start at slots 0, s, 2s, ... with ``s = floor(2(n-1) / trains)``: the
original's placement (index 0, s, 2s... in direction b, wrapping back in direction a).

``placement()`` puts the trains on the line and takes the first weather reading, whatever the
minute, so a board has weather from its first snapshot rather than at the next full hour. Each
``step()`` advances the clock first, then emits: weather when the simulated minute is 0, then
per line (blue, red, green) every station's turnstile entries, one event per rider, then one
arrival per train. Everything is stamped with the simulated time in epoch ms. The same network,
seed, train count, step and start give the same events.
"""

from __future__ import annotations

import random
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
from cta.domain.lines import LINE_ORDER, Line, Network
from cta.domain.ridership import DEFAULT_NOISE_BOUND, TurnstileModel
from cta.domain.weather import WeatherModel

DEFAULT_STEP = timedelta(minutes=5)
DEFAULT_TRAINS_PER_LINE = 10


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


def train_id(color: LineColor, number: int) -> str:
    return f"{color.value[0].upper()}L{number:03d}"


class LineTrains:
    """The trains of one line and their slots on the line's loop (see the module docstring)."""

    def __init__(self, line: Line, count: int) -> None:
        capacity = train_capacity(len(line))
        if not 1 <= count <= capacity:
            raise ValueError(
                f"the {line.color} line ({len(line)} stations) holds 1 to {capacity} trains, "
                f"not {count}"
            )
        self.line = line
        self._loop = capacity
        spacing = capacity // count
        self._slots = {train_id(line.color, n): n * spacing for n in range(count)}

    def _position(self, slot: int) -> tuple[int, Direction]:
        last = len(self.line) - 1
        if slot < last:
            return slot, Direction.B
        return self._loop - slot, Direction.A

    def positions(self) -> dict[str, tuple[int, Direction]]:
        return {tid: self._position(slot) for tid, slot in self._slots.items()}

    def _arrival(self, tid: str, slot: int, prev_slot: int | None, timestamp_ms: int) -> Arrival:
        index, direction = self._position(slot)
        prev_station_id: int | None = None
        prev_direction: Direction | None = None
        if prev_slot is not None:
            prev_index, prev_direction = self._position(prev_slot)
            prev_station_id = self.line.stations[prev_index].station_id
        return Arrival(
            station_id=self.line.stations[index].station_id,
            train_id=tid,
            direction=direction,
            line=self.line.color,
            train_status=TrainStatus.IN_SERVICE,
            prev_station_id=prev_station_id,
            prev_direction=prev_direction,
            timestamp_ms=timestamp_ms,
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


class Simulation:
    """Drives the lines of a ``Network`` one step at a time; see the module docstring."""

    def __init__(
        self,
        network: Network,
        *,
        seed: int = 0,
        trains_per_line: int = DEFAULT_TRAINS_PER_LINE,
        step: timedelta = DEFAULT_STEP,
        start: datetime,
        noise_bound: int = DEFAULT_NOISE_BOUND,
    ) -> None:
        self.network = network
        self._clock = SimClock(start, step)
        self._lines = [network.lines[color] for color in LINE_ORDER if color in network.lines]
        self._trains = {line.color: LineTrains(line, trains_per_line) for line in self._lines}
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
