from __future__ import annotations

import json
from typing import Any

import pytest

from cta.dashboard.feed import DashboardFeed
from cta.dashboard.state import DashboardState
from cta.memory.broker import MemoryBroker
from cta.memory.registry import MemorySchemaRegistry
from cta.ports import EventProducer, SchemaRegistryError
from cta.processors.stations import TransformedStation, encode_table_key, encode_table_value
from cta.runtime import drain
from cta.testing import InProcessStack
from cta.topics import (
    ARRIVALS,
    PIPELINE_TOPICS,
    STATIONS_TABLE,
    TURNSTILE_SUMMARY,
    WEATHER,
    TopicSpec,
)

# A per-station arrivals topic: the dashboard subscribes by pattern, so it must match too.
STATION_ARRIVALS = "org.chicago.cta.station.arrivals.clark_lake"


class Pipeline:
    """The dashboard's input topics on the in-process broker, with typed writers."""

    def __init__(self) -> None:
        memory = InProcessStack.create(PIPELINE_TOPICS, TopicSpec(STATION_ARRIVALS))
        self.broker: MemoryBroker = memory.broker
        self.registry: MemorySchemaRegistry = memory.registry
        self.producer: EventProducer = self.broker.producer()
        self.arrivals = memory.encoder(ARRIVALS, "arrival_value")
        self.weather = memory.encoder(WEATHER, "weather_value")

    def station(self, station: TransformedStation) -> None:
        self.producer.produce(
            STATIONS_TABLE, encode_table_value(station), key=encode_table_key(station.table_key)
        )

    def arrival(self, topic: str = ARRIVALS, **fields: Any) -> None:
        value = {
            "direction": "b", "line": "blue", "train_status": "in_service",
            "prev_station_id": None, "prev_direction": None, "timestamp": 0, **fields,
        }
        key = json.dumps(value["station_id"]).encode()
        self.producer.produce(topic, self.arrivals.encode(value), key=key)

    def raw(self, topic: str, value: bytes | None, key: bytes | None = None) -> None:
        self.producer.produce(topic, value, key=key)

    def flush(self) -> None:
        self.producer.flush()


def rows(state: DashboardState, line: str) -> dict[int, dict[str, Any]]:
    (entry,) = [e for e in state.snapshot()["lines"] if e["line"] == line]
    return {row["station_id"]: row for row in entry["stations"]}


@pytest.fixture
def pipeline() -> Pipeline:
    return Pipeline()


def test_feed_replays_every_topic_from_the_beginning(pipeline: Pipeline) -> None:
    # Arrivals land before their stations: they are applied once the stations load.
    pipeline.arrival(station_id=40380, train_id="BL001", timestamp=1)
    pipeline.arrival(STATION_ARRIVALS, station_id=40380, train_id="GL001", line="green")
    pipeline.station(TransformedStation(40380, "Clark/Lake", 10, "blue"))
    pipeline.station(TransformedStation(40380, "Clark/Lake", 14, "green"))
    pipeline.raw(TURNSTILE_SUMMARY, b'{"STATION_ID":40380,"COUNT":321}', key=b'"40380"')
    pipeline.producer.produce(
        WEATHER,
        pipeline.weather.encode({"temperature": 33.5, "status": "windy", "timestamp": 1}),
    )
    pipeline.flush()

    state = DashboardState()
    feed = DashboardFeed(pipeline.broker, pipeline.registry, state)
    assert drain([feed]) == 6
    feed.close()

    assert rows(state, "blue")[40380]["b"] == {"train_id": "BL001", "status": "in service"}
    assert rows(state, "green")[40380]["b"] == {"train_id": "GL001", "status": "in service"}
    assert rows(state, "blue")[40380]["entries"] == rows(state, "green")[40380]["entries"] == 321
    assert state.snapshot()["weather"]["label"] == "Windy"
    assert feed.errors == 0


def test_two_dashboards_each_see_everything(pipeline: Pipeline) -> None:
    pipeline.station(TransformedStation(1, "O'Hare", 0, "blue"))
    pipeline.flush()
    first, second = DashboardState(), DashboardState()
    feeds = [
        DashboardFeed(pipeline.broker, pipeline.registry, first),
        DashboardFeed(pipeline.broker, pipeline.registry, second),
    ]
    drain(feeds)
    assert feeds[0].group_id != feeds[1].group_id
    assert 1 in rows(first, "blue") and 1 in rows(second, "blue")


def test_malformed_messages_are_counted_and_skipped(pipeline: Pipeline) -> None:
    pipeline.raw(STATIONS_TABLE, b"not json", key=b'"blue:99"')
    pipeline.raw(ARRIVALS, b"\x07garbage", key=b"1")
    pipeline.raw(TURNSTILE_SUMMARY, b'{"COUNT": 3}', key=b'"x"')
    pipeline.raw(WEATHER, None)
    pipeline.station(TransformedStation(1, "O'Hare", 0, "blue"))
    pipeline.arrival(station_id=1, train_id="BL001")
    pipeline.flush()

    state = DashboardState()
    feed = DashboardFeed(pipeline.broker, pipeline.registry, state)
    drain([feed])
    assert feed.errors == 4
    assert any(reason.startswith(f"{ARRIVALS}[") for reason in feed.last_errors)
    assert state.trains("blue") == {"BL001": (1, "b")}


def test_summary_tombstone_is_ignored_and_table_tombstone_removes_the_row(
    pipeline: Pipeline,
) -> None:
    pipeline.station(TransformedStation(1, "O'Hare", 0, "blue"))
    pipeline.station(TransformedStation(2, "Rosemont", 1, "blue"))
    pipeline.raw(TURNSTILE_SUMMARY, b'{"STATION_ID":1,"COUNT":8}', key=b'"1"')
    pipeline.raw(TURNSTILE_SUMMARY, b'{"STATION_ID":2,"COUNT":4}', key=b'"2"')
    pipeline.raw(TURNSTILE_SUMMARY, None, key=b'"2"')  # the broker compacts the count away
    pipeline.raw(STATIONS_TABLE, None, key=encode_table_key("blue:2"))
    pipeline.flush()

    state = DashboardState()
    feed = DashboardFeed(pipeline.broker, pipeline.registry, state)
    drain([feed])
    assert list(rows(state, "blue")) == [1]
    assert rows(state, "blue")[1]["entries"] == 8
    assert feed.errors == 0


def test_live_updates_after_the_replay(pipeline: Pipeline) -> None:
    pipeline.station(TransformedStation(1, "O'Hare", 0, "blue"))
    pipeline.station(TransformedStation(2, "Rosemont", 1, "blue"))
    pipeline.arrival(station_id=1, train_id="BL001", timestamp=1)
    pipeline.flush()
    state = DashboardState()
    feed = DashboardFeed(pipeline.broker, pipeline.registry, state)
    drain([feed])
    pipeline.arrival(station_id=2, train_id="BL001", prev_station_id=1, prev_direction="b",
                     timestamp=2)
    pipeline.flush()
    drain([feed])
    assert state.trains("blue") == {"BL001": (2, "b")}
    assert rows(state, "blue")[1]["b"] is None


class FlakyRegistry:
    """A registry that is unreachable for its first ``outages`` lookups."""

    def __init__(self, inner: MemorySchemaRegistry, outages: int) -> None:
        self.inner = inner
        self.outages = outages

    def schema_by_id(self, schema_id: int) -> str:
        if self.outages > 0:
            self.outages -= 1
            raise SchemaRegistryError(503, 50301, "registry unavailable")
        return self.inner.schema_by_id(schema_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_registry_outage_is_raised_and_the_record_is_retried_not_lost(
    pipeline: Pipeline,
) -> None:
    pipeline.station(TransformedStation(1, "O'Hare", 0, "blue"))
    pipeline.arrival(station_id=1, train_id="BL001")
    pipeline.flush()
    state = DashboardState()
    feed = DashboardFeed(pipeline.broker, FlakyRegistry(pipeline.registry, 1), state)
    with pytest.raises(SchemaRegistryError):
        feed.pump()
    assert state.trains("blue") == {}
    drain([feed])
    assert state.trains("blue") == {"BL001": (1, "b")}
    assert feed.errors == 0


def test_feed_reads_when_the_counts_began_and_notes_when_it_last_heard(pipeline: Pipeline) -> None:
    state = DashboardState()
    feed = DashboardFeed(pipeline.broker, pipeline.registry, state)
    drain([feed])
    assert feed.heard_at is None  # nothing has come in yet
    pipeline.raw(
        TURNSTILE_SUMMARY,
        b'{"STATION_ID":40380,"COUNT":3,"FIRST_TIMESTAMP":1795428300000}',
        key=b'"40380"',
    )
    pipeline.flush()
    assert drain([feed]) == 1
    feed.close()
    assert feed.heard_at is not None
    since = state.snapshot()["header"]["counts_since"]
    assert since["timestamp"] == 1_795_428_300_000
    assert since["iso"] == "2026-11-23T04:05:00-06:00"
