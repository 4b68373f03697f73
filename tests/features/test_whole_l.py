"""Steps of features/whole_l.feature: the whole 'L' on either backend."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cta import topics
from cta.domain.events import LineColor
from cta.domain.ridership import DayType
from cta.processors.stations import decode_table_value
from cta.verify import decode_all
from tests.features.conftest import World, chicago, latest_per_key, use_network

pytestmark = pytest.mark.network("l")

scenarios("whole_l.feature")

CLARK_LAKE, BERWYN, ARGYLE = 40380, 40340, 41200
# Stochastic rounding (+-1) and noise (+-3) per step and line: Clark/Lake has six lines, so 72
# draws over 12 steps, about 18 riders of spread; 80 is over four of those, and far below the gap
# between any two of the months compared.
TOLERANCE = 80


def arrivals(world: World) -> list[dict[str, Any]]:
    values = [value for _, value in decode_all(world.backend, world.records(topics.ARRIVALS))]
    return sorted(values, key=lambda v: v["timestamp"])


def names(world: World) -> dict[int, str]:
    return world.network.station_names()


def station_id(world: World, name: str) -> int:
    found = [sid for sid, station in names(world).items() if station == name]
    assert len(found) == 1, f"{name!r} names {len(found)} stations"
    return found[0]


def board(world: World) -> dict[str, Any]:
    return world.require_dashboard().snapshot()


@given("the whole 'L' network")
def _whole_l(world: World) -> None:
    assert world.network.name == "l" and len(world.network.lines) == 8


@given(parsers.parse("the whole 'L' network with the ridership of {month}"))
def _whole_l_month(world: World, month: str) -> None:
    use_network(world, "l", month)
    assert world.network.month == month


def _start(world: World, day: str, clock: str, trains: dict[LineColor, int] | None) -> None:
    world.backend.admin.create_topics(topics.PIPELINE_TOPICS)
    world.runner = world.pipeline.simulation(
        start=chicago(day, clock), seed=7, trains_per_line=trains
    )


@given(parsers.parse("a simulation with one {line} train starting on {day} at {clock}"))
def _one_train(world: World, line: str, day: str, clock: str) -> None:
    _start(world, day, clock, {LineColor(line): 1})


@given(parsers.parse("a simulation with the default trains starting on {day} at {clock}"))
def _default_trains(world: World, day: str, clock: str) -> None:
    _start(world, day, clock, None)


@then("the stations table holds these stations per line")
def _stations_per_line(world: World, datatable: list[list[str]]) -> None:
    expected = {line: int(count) for line, count in datatable[1:]}
    table = latest_per_key(world.records(topics.STATIONS_TABLE))
    per_line = Counter(decode_table_value(value).line for value in table.values())
    assert dict(per_line) == expected


@then("the dashboard shows every line's stations in running order per pattern")
def _board_order(world: World) -> None:
    expected = {c.value: list(line.station_ids) for c, line in world.network.lines.items()}

    def check() -> None:
        shown = {
            line["line"]: [s["station_id"] for s in line["stations"]]
            for line in board(world)["lines"]
        }
        assert list(shown) == list(expected)  # page order: Red, Blue, Brown, Green...
        assert shown == expected

    # A new board's consumer may still be joining its group on a real broker.
    world.eventually(check)


@then("every platform row in the stations table carries its lines, ADA and coordinates")
def _new_columns(world: World) -> None:
    rows = [json.loads(r.value) for r in world.records(topics.STATIONS_RAW) if r.value]
    assert len({row["stop_id"] for row in rows}) == 300
    for row in rows:
        assert isinstance(row["lines"], str) and isinstance(row["ada"], bool), row
        assert 41.7 < row["latitude"] < 42.1 and -87.95 < row["longitude"] < -87.6, row
    table = latest_per_key(world.records(topics.STATIONS_TABLE)).values()
    clark = [s for s in map(decode_table_value, table) if s.station_id == CLARK_LAKE]
    assert {s.line for s in clark} == {"blue", "brown", "green", "orange", "pink", "purple"}
    assert all(s.ada is True and s.latitude and s.longitude for s in clark)


def _trail(world: World, train: str) -> list[dict[str, Any]]:
    trail = [v for v in arrivals(world) if v["train_id"] == train]
    assert trail, f"no arrival of {train}"
    return trail


@then(
    parsers.parse(
        "train {train} ran {terminal}, the {line} Line to {last}, the Loop from {first_loop} to "
        "{last_loop}, and back to {home}"
    )
)
def _loop_trip(
    world: World, train: str, terminal: str, line: str, last: str, first_loop: str,
    last_loop: str, home: str,
) -> None:  # fmt: skip
    pattern = world.network.lines[LineColor(line.lower())].service_patterns[0]
    trunk, loop = list(pattern.trunk), list(pattern.loop)
    n = names(world)
    assert (n[trunk[0]], n[trunk[-1]], n[loop[0]], n[loop[-1]]) == (
        terminal, last, first_loop, last_loop
    )
    expected = [*trunk, *loop, *reversed(trunk[1:]), station_id(world, home)]
    ran = [v["station_id"] for v in _trail(world, train)]
    assert [n[s] for s in ran] == [n[s] for s in expected]


@then(
    parsers.parse(
        'its arrivals were named "{inbound}" on the way in and "{outbound}" from the Loop on'
    )
)
def _named(world: World, inbound: str, outbound: str) -> None:
    trail = _trail(world, "BR000")
    pattern = world.network.lines[LineColor.BROWN].service_patterns[0]
    way_in = len(pattern.trunk)
    assert {v["direction_name"] for v in trail[:way_in]} == {inbound}
    assert {v["direction_name"] for v in trail[way_in:-1]} == {outbound}


@then(parsers.parse("train {train} reached {first} and then {second}"))
def _branches(world: World, train: str, first: str, second: str) -> None:
    ends = {station_id(world, first): first, station_id(world, second): second}
    reached = [ends[v["station_id"]] for v in _trail(world, train) if v["station_id"] in ends]
    assert reached == [first, second]


@then("every arrival after placement names the station it left")
def _left(world: World) -> None:
    where: dict[str, tuple[int, str]] = {}
    for value in arrivals(world):
        train = value["train_id"]
        if train in where:
            assert (value["prev_station_id"], value["prev_direction"]) == where[train], value
        else:
            assert value["prev_station_id"] is None
        where[train] = (value["station_id"], value["direction"])
    assert where


@when(parsers.parse("the simulation runs up to {count:d} steps watched by the dashboard"))
def _watched(world: World, count: int) -> None:
    runner = world.require_runner()
    seen: set[str] = set()
    for _ in range(count):
        world.steps.append(runner.step())
        for line in board(world)["lines"]:
            for station in line["stations"]:
                if station["station_id"] == CLARK_LAKE and (station["a"] or station["b"]):
                    seen.add(line["line"])
        if len(seen) == 6:
            break
    world.answer = seen


@then("the dashboard showed trains of six lines at Clark/Lake")
def _six_lines(world: World) -> None:
    assert world.answer == {"blue", "brown", "green", "orange", "pink", "purple"}


@then(parsers.parse("Clark/Lake's average weekday entries in the data are {average:f}"))
def _average(world: World, average: float) -> None:
    assert world.network.ridership[CLARK_LAKE].weekday == pytest.approx(average)


@then("the entries at Clark/Lake match that weekday ridership for those steps")
def _entries(world: World) -> None:
    values = [v for _, v in decode_all(world.backend, world.records(topics.TURNSTILES))]
    seen = sum(1 for v in values if v["station_id"] == CLARK_LAKE)
    daily = world.network.ridership[CLARK_LAKE].daily(DayType.WEEKDAY)
    expected = sum(daily * world.network.curve.share(s.at.hour) / 12 for s in world.steps[1:])
    assert abs(seen - expected) <= TOLERANCE, f"{seen} entries, expected about {expected:.0f}"
    lines = {v["line"] for v in values if v["station_id"] == CLARK_LAKE}
    assert lines == {"blue", "brown", "green", "orange", "pink", "purple"}


def _red_row(world: World, station: int) -> dict[str, Any]:
    red = next(line for line in board(world)["lines"] if line["line"] == "red")
    return next(s for s in red["stations"] if s["station_id"] == station)


@then("the dashboard shows Berwyn as closed on the red line")
def _berwyn_closed(world: World) -> None:
    assert _red_row(world, BERWYN)["closed"] is True


@then("no turnstile event comes from Berwyn")
def _no_berwyn(world: World) -> None:
    values = [v for _, v in decode_all(world.backend, world.records(topics.TURNSTILES))]
    assert values and not any(v["station_id"] == BERWYN for v in values)


@then("Argyle is open on the dashboard")
def _argyle(world: World) -> None:
    row = _red_row(world, ARGYLE)
    assert row["closed"] is False
