"""Steps of features/turnstiles.feature."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from pytest_bdd import parsers, scenarios, then

from cta import topics
from cta.domain.clock import CHICAGO
from cta.domain.ridership import DayType
from cta.verify import decode_all, verify_topics
from tests.features.conftest import World

pytestmark = pytest.mark.network("seed")

scenarios("turnstiles.feature")

CLARK_LAKE = 40380
# Stochastic rounding (+-1) and noise (+-3) per step and line, over 24 draws: about 10 riders of
# spread; 40 is four of those, and still far below the gap between any two day types.
TOLERANCE = 40


def _entries(world: World) -> list[dict[str, Any]]:
    return [value for _, value in decode_all(world.backend, world.records(topics.TURNSTILES))]


def _hour_of(timestamp_ms: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms / 1000, CHICAGO)


@then(parsers.parse("the entries at Clark/Lake match its {day_type} ridership for those steps"))
def _clark_lake(world: World, day_type: str) -> None:
    entries = _entries(world)
    seen = sum(1 for value in entries if value["station_id"] == CLARK_LAKE)
    daily = world.network.ridership[CLARK_LAKE].daily(DayType(day_type))
    steps_per_hour = 12
    expected = sum(
        daily * world.network.curve.share(step.at.hour) / steps_per_hour for step in world.steps[1:]
    )
    assert abs(seen - expected) <= TOLERANCE, f"{seen} entries, expected about {expected:.0f}"


@then("every station of the three lines reported entries")
def _every_station(world: World) -> None:
    stations = {s.station_id for line in world.network.lines.values() for s in line.stations}
    reported = {value["station_id"] for value in _entries(world)}
    assert stations <= reported, sorted(stations - reported)


@then(
    parsers.parse(
        "the entries between {early}:00 and {early_end}:00 are at least {factor:d} times "
        "those between {late}:00 and {late_end}:00"
    )
)
def _peak(world: World, early: str, early_end: str, factor: int, late: str, late_end: str) -> None:
    per_hour = Counter(_hour_of(int(v["timestamp"])).hour for v in _entries(world))
    peak, night = per_hour[int(early)], per_hour[int(late)]
    assert night > 0
    assert peak >= factor * night, f"{peak} at {early}:00 vs {night} at {late}:00"


@then("the turnstile topic holds exactly one event per simulated entry")
def _one_event_each(world: World) -> None:
    simulated = sum(len(step.turnstiles) for step in world.steps)
    assert simulated > 0
    assert len(world.records(topics.TURNSTILES)) == simulated


@then("every turnstile event decodes with the schema registered for the turnstile topic")
def _decodes(world: World) -> None:
    world.settle()
    report = verify_topics(world.backend, [topics.TURNSTILES])
    assert report.ok, report.failures[:5]
    assert report.counts[topics.TURNSTILES] > 0


@then("every turnstile event is keyed by its station id")
def _keyed(world: World) -> None:
    pairs = decode_all(world.backend, world.records(topics.TURNSTILES))
    assert pairs
    assert all(key == {"station_id": value["station_id"]} for key, value in pairs)
