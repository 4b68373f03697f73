"""Steps shared by the feature files: the network, the pipeline, the simulation clock."""

from __future__ import annotations

import functools
import time as clock
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any

import pytest
from pytest_bdd import given, parsers, when

from cta import topics
from cta.backend import Backend
from cta.config import Settings
from cta.dashboard.feed import DashboardFeed
from cta.dashboard.state import DashboardState
from cta.data_l import load_network, load_network_rows
from cta.domain.clock import CHICAGO
from cta.domain.lines import Network
from cta.domain.simulation import StepEvents
from cta.pipeline import Pipeline
from cta.ports import Record, StationRow
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--network l`` or ``seed`` runs only that network's features (see the root conftest)."""
    chosen = config.getoption("--network")
    if chosen == "all":
        return
    for item in items:
        marker = item.get_closest_marker("network")
        if marker is not None and marker.args[0] != chosen:
            item.add_marker(pytest.mark.skip(reason=f"a {marker.args[0]} feature (--network)"))


@functools.cache
def cached_network(name: str, month: str | None = None) -> Network:
    return load_network(name, month)


@functools.cache
def cached_rows(name: str) -> tuple[StationRow, ...]:
    return tuple(load_network_rows(name))


def network_of(request: pytest.FixtureRequest) -> str:
    """The network a feature module runs on: its ``network`` marker (the seed's by default)."""
    marker = request.node.get_closest_marker("network")
    return str(marker.args[0]) if marker is not None else "seed"


@pytest.fixture
def network(request: pytest.FixtureRequest) -> Network:
    return cached_network(network_of(request))


@pytest.fixture
def station_rows(request: pytest.FixtureRequest) -> list[StationRow]:
    return list(cached_rows(network_of(request)))


def use_network(world: World, name: str, month: str | None = None) -> None:
    """Switch the scenario to another network or ridership month, before anything runs."""
    assert world.runner is None, "choose the network before the simulation"
    world.network = cached_network(name, month)
    world.rows = list(cached_rows(name))
    world.pipeline = Pipeline(world.backend, network=world.network, station_rows=world.rows)


@pytest.fixture
def world(
    backend: Backend, settings: Settings, network: Network, station_rows: list[StationRow]
) -> Iterator[World]:
    world = World(
        backend=backend,
        network=network,
        rows=station_rows,
        # The run's settings (a container stack's endpoints are not in the environment).
        pipeline=Pipeline(backend, network=network, station_rows=station_rows, settings=settings),
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
