"""Steps of features/dashboard.feature."""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cta import topics
from cta.dashboard.page import render_page
from cta.dashboard.state import DashboardState
from cta.processors.stations import decode_table_value
from cta.verify import decode_all
from tests.features.conftest import World, latest_per_key

pytestmark = pytest.mark.network("seed")

scenarios("dashboard.feature")


def board(world: World) -> dict[str, Any]:
    return world.require_dashboard().snapshot()


@then(
    parsers.parse(
        "the dashboard shows {blue:d} blue, {red:d} red and {green:d} green stations in order"
    )
)
def _stations(world: World, blue: int, red: int, green: int) -> None:
    lines = {entry["line"]: entry["stations"] for entry in board(world)["lines"]}
    assert {line: len(stations) for line, stations in lines.items()} == {
        "blue": blue,
        "red": red,
        "green": green,
    }
    for line, stations in lines.items():
        expected = [s.station_id for s in world.network.lines[line].stations]
        assert [s["station_id"] for s in stations] == expected


def _trains(snapshot: dict[str, Any]) -> Counter[str]:
    return Counter(
        station[direction]["train_id"]
        for entry in snapshot["lines"]
        for station in entry["stations"]
        for direction in ("a", "b")
        if station[direction] is not None
    )


@then(parsers.parse("the dashboard shows each of the {count:d} running trains exactly once"))
def _each_train_once(world: World, count: int) -> None:
    trains = _trains(board(world))
    assert len(trains) == count, sorted(trains)
    assert set(trains.values()) == {1}


@then("the dashboard shows turnstile counts and the weather")
def _counts_and_weather(world: World) -> None:
    snapshot = board(world)
    produced = Counter(e.station_id for step in world.steps for e in step.turnstiles)
    shown = {
        station["station_id"]: station["entries"]
        for entry in snapshot["lines"]
        for station in entry["stations"]
    }
    assert produced and all(shown[sid] == n for sid, n in produced.items())
    weather = snapshot["weather"]
    assert weather is not None and weather["status"]


@then("the dashboard shows the weather")
def _weather_shown(world: World) -> None:
    def shown() -> None:
        weather = board(world)["weather"]
        assert weather is not None and weather["label"]

    world.eventually(shown)


@then(
    parsers.parse(
        "the dashboard header shows {time} {zone} on {date}, {day_type} ridership"
    )
)
def _header_clock(world: World, time: str, zone: str, date: str, day_type: str) -> None:
    def shown() -> None:
        clock = board(world)["header"]["clock"]
        assert clock is not None
        assert (clock["time"], clock["zone"], clock["date"]) == (time, zone, date)
        assert clock["day_type"] == day_type.replace("/", "_")
        page = render_page(board(world))
        assert f">{time}</time>" in page and f"{clock['day_label']} ridership" in page

    world.eventually(shown)


@then(parsers.parse('the dashboard says "{words}"'))
def _dashboard_says(world: World, words: str) -> None:
    world.eventually(lambda: _says(board(world), words))


def _says(snapshot: dict[str, Any], words: str) -> None:
    since = snapshot["header"]["counts_since"]
    assert since is not None and since["label"] == words
    assert words in render_page(snapshot)


@then(parsers.parse('the dashboard page shows "{name}" as text, not markup'))
def _escaped(world: World, name: str) -> None:
    dashboard = world.require_dashboard()

    def rendered_as_text() -> None:
        page = render_page(dashboard.snapshot())
        assert html.escape(name, quote=False) in page
        assert name not in page

    world.eventually(rendered_as_text)


@given("a dashboard that has not seen the stations yet")
def _fresh_dashboard(world: World) -> None:
    world.answer = DashboardState()


@when("the dashboard reads the arrivals before the stations")
def _arrivals_first(world: World) -> None:
    state: DashboardState = world.answer
    for _, value in decode_all(world.backend, world.records(topics.ARRIVALS)):
        state.apply_arrival(value)
    assert not any(entry["stations"] for entry in state.snapshot()["lines"])
    for table_value in latest_per_key(world.records(topics.STATIONS_TABLE)).values():
        state.apply_station(decode_table_value(table_value))
    world.dashboard = state
