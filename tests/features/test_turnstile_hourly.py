"""Steps of features/turnstile_hourly.feature."""

from __future__ import annotations

import json
import struct
from collections import Counter
from datetime import date, datetime
from typing import Any

import pytest
from pytest_bdd import parsers, scenarios, then

from cta import topics
from cta.domain.clock import CHICAGO
from cta.ksql.client import statement_files
from cta.ksql.engine import OFFSET_RESET, KsqlEngine
from cta.ksql.windowed_query import WindowedCountQuery
from tests.features.conftest import World, latest_per_key

pytestmark = pytest.mark.network("seed")

scenarios("turnstile_hourly.feature")

HOUR_MS = 3_600_000


def hourly(world: World) -> dict[tuple[int, int], dict[str, Any]]:
    """(station id, window start) -> the latest TURNSTILE_HOURLY row, read off the key."""
    table = latest_per_key(world.records(topics.TURNSTILE_HOURLY))
    rows = {}
    for key, value in table.items():
        station, start = json.loads(key[:-8]), struct.unpack(">q", key[-8:])[0]
        rows[(station, start)] = json.loads(value)
    return rows


def produced_per_hour(world: World) -> Counter[tuple[int, int]]:
    return Counter(
        (entry.station_id, entry.timestamp_ms - entry.timestamp_ms % HOUR_MS)
        for step in world.steps
        for entry in step.turnstiles
    )


@then("the TURNSTILE_HOURLY counts per station and hour equal the turnstile events produced")
def _per_hour(world: World) -> None:
    produced = produced_per_hour(world)
    assert sum(produced.values()) > 0
    assert len({start for _, start in produced}) == 2, "the run should span two hours"
    counts = {key: row["COUNT"] for key, row in hourly(world).items()}
    assert counts == dict(produced)


@then("every TURNSTILE_HOURLY key is its station id then its window start as 8 bytes")
def _keys(world: World) -> None:
    for (station, start), row in hourly(world).items():
        assert (row["STATION_ID"], row["WINDOW_START"]) == (station, start)
        assert row["WINDOW_END"] == start + HOUR_MS
        assert start % HOUR_MS == 0


@then("the sum of the TURNSTILE_HOURLY counts equals the sum of the TURNSTILE_SUMMARY counts")
def _same_total(world: World) -> None:
    summary = latest_per_key(world.records(topics.TURNSTILE_SUMMARY))
    total = sum(json.loads(value)["COUNT"] for value in summary.values())
    assert sum(row["COUNT"] for row in hourly(world).values()) == total


@then("a KSQL engine started afresh restores every TURNSTILE_HOURLY count from its sink")
def _restored(world: World) -> None:
    counts = {key: row["COUNT"] for key, row in hourly(world).items()}
    backend = world.backend
    engine = KsqlEngine(backend.log, backend.admin, backend.registry)
    try:
        for path in statement_files():
            engine.execute(path.read_text(encoding="utf-8"), {OFFSET_RESET: "earliest"})
        (query,) = [q for q in engine.queries() if isinstance(q, WindowedCountQuery)]
        assert query.counts() == counts
        assert query.stats.restored_rows >= len(counts)
    finally:
        engine.close()


@then(
    parsers.parse(
        "the station detail of every station with entries shows its TURNSTILE_HOURLY counts "
        "for {day}"
    )
)
def _detail(world: World, day: str) -> None:
    the_day = date.fromisoformat(day)
    expected: dict[int, list[int]] = {}
    for (station, start), row in hourly(world).items():
        moment = datetime.fromtimestamp(start / 1000, CHICAGO)
        if moment.date() == the_day:
            expected.setdefault(station, [0] * 24)[moment.hour] += row["COUNT"]
    assert expected

    def check() -> None:
        state = world.require_dashboard()
        for station, hours in expected.items():
            detail = state.station_detail(station)
            assert detail is not None, station
            assert detail["hourly"]["day"] == day
            assert detail["hourly"]["entries"] == hours
            assert len(detail["hourly"]["typical"]) == 24

    world.eventually(check)
