"""Steps shared by the feature files: the network, the pipeline, the simulation clock."""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any

import pytest
from pytest_bdd import given, parsers, when

from cta import topics
from cta.dashboard.feed import DashboardFeed
from cta.dashboard.state import DashboardState
from cta.data import default_network, load_station_rows
from cta.domain.clock import CHICAGO
from cta.domain.lines import Network
from cta.domain.simulation import StepEvents
from cta.pipeline import Pipeline
from cta.ports import Backend, Record, StationRow
from cta.simulate import SimulationRunner
from cta.verify import read_all


@dataclass
class World:
    """What a scenario has built and seen so far."""

    backend: Backend
    network: Network
    rows: list[StationRow]
    pipeline: Pipeline
    runner: SimulationRunner | None = None
    steps: list[StepEvents] = field(default_factory=list)
    dashboard: DashboardState | None = None
    feed: DashboardFeed | None = None
    answer: Any = None

    def records(self, topic: str) -> list[Record]:
        self.settle()
        return read_all(self.backend, topic)

    def settle(self) -> None:
        self.pipeline.settle(feeds=(self.feed,) if self.feed is not None else ())

    def eventually(self, check: Callable[[], None], *, timeout: float = 30.0) -> None:
        """Settle, then check. A database change reaches Kafka through Connect on its own
        schedule, so on a real backend the check is retried until it passes or time runs out."""
        deadline = clock.monotonic() + timeout
        while True:
            self.settle()
            try:
                check()
                return
            except AssertionError:
                if clock.monotonic() > deadline:
                    raise

    def require_runner(self) -> SimulationRunner:
        assert self.runner is not None, "the scenario has no simulation yet"
        return self.runner

    def require_dashboard(self) -> DashboardState:
        if self.dashboard is None:
            self.dashboard, self.feed = self.pipeline.dashboard()
        self.settle()
        return self.dashboard


@pytest.fixture(scope="session")
def network() -> Network:
    return default_network()


@pytest.fixture(scope="session")
def station_rows() -> list[StationRow]:
    return load_station_rows()


@pytest.fixture
def world(backend: Backend, network: Network, station_rows: list[StationRow]) -> Iterator[World]:
    world = World(
        backend=backend,
        network=network,
        rows=station_rows,
        # The backend's own settings (a container stack's endpoints are not in the environment).
        pipeline=Pipeline(
            backend,
            network=network,
            station_rows=station_rows,
            settings=backend.extras.get("settings"),
        ),
    )
    yield world
    # Leave every consumer group, so a real broker can forget them before the next scenario.
    if world.feed is not None:
        world.feed.close()
    if world.runner is not None:
        world.runner.close()


def chicago(day: str, clock: str) -> datetime:
    """'Monday 2026-11-23' (or a bare date) and '08:00' -> Chicago local time; the weekday
    word, when given, must be the date's own (a guard against a mistyped scenario)."""
    *weekday, iso = day.split()
    moment = datetime.combine(date.fromisoformat(iso), time.fromisoformat(clock), tzinfo=CHICAGO)
    if weekday:
        assert moment.strftime("%A") == weekday[0], f"{iso} is a {moment:%A}, not {weekday[0]}"
    return moment


@given("the CTA network from our station data")
def _network(world: World) -> None:
    assert world.network.lines, "the network has no lines"


@given("the pipeline is set up")
def _pipeline(world: World) -> None:
    world.pipeline.setup()
    world.settle()


@given(parsers.parse("a simulation of {trains:d} trains per line starting on {day} at {clock}"))
def _simulation(world: World, trains: int, day: str, clock: str) -> None:
    world.backend.admin.create_topics(topics.PIPELINE_TOPICS)
    world.runner = world.pipeline.simulation(
        start=chicago(day, clock), seed=7, trains_per_line=trains
    )


@when("the simulation starts")
def _starts(world: World) -> None:
    world.steps.append(world.require_runner().step())


@when(parsers.parse("the simulation runs {count:d} steps"))
def _runs(world: World, count: int) -> None:
    runner = world.require_runner()
    for _ in range(count):
        world.steps.append(runner.step())


def latest_per_key(records: list[Record]) -> dict[bytes, bytes]:
    """What a reader of a compacted topic keeps: the last value per key, tombstones removed."""
    table: dict[bytes, bytes] = {}
    for record in records:
        assert record.key is not None
        if record.value is None:
            table.pop(record.key, None)
        else:
            table[record.key] = record.value
    return table


@when(parsers.parse('the name of stop {stop_id:d} is changed to "{name}" in the database'))
def _rename(world: World, stop_id: int, name: str) -> None:
    row = next(r for r in world.backend.stations_db.rows() if r.stop_id == stop_id)
    world.backend.stations_db.upsert(replace(row, station_name=name))
    world.settle()
