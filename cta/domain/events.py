"""Events the station devices emit, as plain values.

``as_value``/``as_key`` give the Avro records (see ``cta/schemas``); enums travel as strings so
that every consumer compares names, never ordinals.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class LineColor(StrEnum):
    BLUE = "blue"
    RED = "red"
    GREEN = "green"
    BROWN = "brown"
    ORANGE = "orange"
    PINK = "pink"
    PURPLE = "purple"
    YELLOW = "yellow"


class Direction(StrEnum):
    """Simulation direction: ``b`` runs towards the last station in order, ``a`` back to 0."""

    A = "a"
    B = "b"


class TrainStatus(StrEnum):
    OUT_OF_SERVICE = "out_of_service"
    IN_SERVICE = "in_service"
    BROKEN_DOWN = "broken_down"


class WeatherStatus(StrEnum):
    SUNNY = "sunny"
    PARTLY_CLOUDY = "partly_cloudy"
    CLOUDY = "cloudy"
    WINDY = "windy"
    PRECIPITATION = "precipitation"


@dataclass(frozen=True, slots=True)
class Arrival:
    station_id: int
    train_id: str
    direction: Direction
    line: LineColor
    train_status: TrainStatus
    prev_station_id: int | None
    prev_direction: Direction | None
    timestamp_ms: int
    # Where the train is heading, as riders read it ("To Kimball", "To the Loop").
    direction_name: str | None = None

    def as_key(self) -> dict[str, Any]:
        return {"station_id": self.station_id}

    def as_value(self) -> dict[str, Any]:
        return {
            "station_id": self.station_id,
            "train_id": self.train_id,
            "direction": self.direction.value,
            "line": self.line.value,
            "train_status": self.train_status.value,
            "prev_station_id": self.prev_station_id,
            "prev_direction": None if self.prev_direction is None else self.prev_direction.value,
            "timestamp": self.timestamp_ms,
            "direction_name": self.direction_name,
        }


@dataclass(frozen=True, slots=True)
class TurnstileEntry:
    """One rider passing one turnstile."""

    station_id: int
    station_name: str
    line: LineColor
    timestamp_ms: int

    def as_key(self) -> dict[str, Any]:
        return {"station_id": self.station_id}

    def as_value(self) -> dict[str, Any]:
        return {
            "station_id": self.station_id,
            "station_name": self.station_name,
            "line": self.line.value,
            "timestamp": self.timestamp_ms,
        }


@dataclass(frozen=True, slots=True)
class WeatherReading:
    temperature: float
    status: WeatherStatus
    timestamp_ms: int

    def as_key(self) -> dict[str, Any]:
        return {"timestamp": self.timestamp_ms}

    def as_value(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "status": self.status.value,
            "timestamp": self.timestamp_ms,
        }
