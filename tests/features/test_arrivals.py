"""Steps of features/arrivals.feature."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cta import schemas, topics
from cta.avro import SchemaRejected
from cta.domain.events import LineColor
from cta.producers import DeviceProducer
from cta.verify import decode_all, verify_topics
from tests.features.conftest import World

pytestmark = pytest.mark.network("seed")

scenarios("arrivals.feature")


def arrivals(world: World) -> list[dict[str, Any]]:
    values = [value for _, value in decode_all(world.backend, world.records(topics.ARRIVALS))]
    return sorted(values, key=lambda v: v["timestamp"])


def by_time(values: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for value in values:
        grouped[value["timestamp"]].append(value)
    return dict(sorted(grouped.items()))


@then(parsers.parse("the arrivals topic holds {count:d} arrival events"))
def _count(world: World, count: int) -> None:
    assert len(world.records(topics.ARRIVALS)) == count


@then("no placement event names a previous station")
def _placement_has_no_previous(world: World) -> None:
    first = next(iter(by_time(arrivals(world)).values()))
    assert len(first) == 30
    assert all(v["prev_station_id"] is None and v["prev_direction"] is None for v in first)


@then(parsers.parse("the {line} line has trains {first} to {last} each exactly once"))
def _train_ids(world: World, line: str, first: str, last: str) -> None:
    placement = next(iter(by_time(arrivals(world)).values()))
    ids = [v["train_id"] for v in placement if v["line"] == line]
    prefix, low, high = first[:2], int(first[2:]), int(last[2:])
    assert sorted(ids) == [f"{prefix}{n:03d}" for n in range(low, high + 1)]


@then(parsers.parse("every step moved each of the {count:d} trains exactly once"))
def _each_train_once(world: World, count: int) -> None:
    steps = list(by_time(arrivals(world)).values())
    assert len(steps) == len(world.steps)
    for step in steps:
        ids = [v["train_id"] for v in step]
        assert len(ids) == count and len(set(ids)) == count


@then("every arrival after placement names the station and direction its train left")
def _previous_station(world: World) -> None:
    where: dict[str, tuple[int, str]] = {}
    checked = 0
    for value in arrivals(world):
        train = value["train_id"]
        if train in where:
            assert (value["prev_station_id"], value["prev_direction"]) == where[train], value
            checked += 1
        else:
            assert value["prev_station_id"] is None
        where[train] = (value["station_id"], value["direction"])
    assert checked > 0


@then(parsers.parse("every arrival decodes with the schema registered for the arrivals topic"))
def _arrivals_decode(world: World) -> None:
    world.settle()
    report = verify_topics(world.backend, [topics.ARRIVALS])
    assert report.ok, report.failures[:5]
    assert report.counts[topics.ARRIVALS] > 0


def _line_values(world: World, line: str) -> list[dict[str, Any]]:
    return [v for v in arrivals(world) if v["line"] == line]


@then(
    parsers.parse("trains arriving at the first station of the {line} line travel in direction b")
)
def _first_station(world: World, line: str) -> None:
    first = world.network.lines[LineColor(line)].stations[0].station_id
    at_first = [v for v in _line_values(world, line) if v["station_id"] == first]
    assert at_first, f"no train reached the first station of the {line} line"
    assert {v["direction"] for v in at_first} == {"b"}


@then(parsers.parse("trains arriving at the last station of the {line} line travel in direction a"))
def _last_station(world: World, line: str) -> None:
    last = world.network.lines[LineColor(line)].stations[-1].station_id
    at_last = [v for v in _line_values(world, line) if v["station_id"] == last]
    assert at_last, f"no train reached the last station of the {line} line"
    assert {v["direction"] for v in at_last} == {"a"}


def _replay(world: World, line: str) -> list[dict[str, tuple[int, str]]]:
    """The line's train positions after each step, rebuilt from the events alone."""
    positions: dict[str, tuple[int, str]] = {}
    history = []
    for step in by_time(_line_values(world, line)).values():
        for value in step:
            positions[value["train_id"]] = (value["station_id"], value["direction"])
        history.append(dict(positions))
    return history


@then(parsers.parse("no two trains of the {line} line ever held the same slot"))
def _no_collision(world: World, line: str) -> None:
    for positions in _replay(world, line):
        slots = list(positions.values())
        assert len(slots) == len(set(slots)), positions


@then(parsers.parse("the {line} line still has {count:d} distinct trains"))
def _still_there(world: World, line: str, count: int) -> None:
    last = _replay(world, line)[-1]
    assert len(last) == count
    # and the last step moved every one of them
    final_step = list(by_time(_line_values(world, line)).values())[-1]
    assert sorted(v["train_id"] for v in final_step) == sorted(last)


@then("the arrivals topic has more than one partition")
def _partitions(world: World) -> None:
    assert world.backend.admin.list_topics()[topics.ARRIVALS] > 1


@then("all arrivals of each station are on one partition in event-time order")
def _per_station_order(world: World) -> None:
    records = world.records(topics.ARRIVALS)
    decoded = decode_all(world.backend, records)
    partitions: dict[int, set[int]] = defaultdict(set)
    stamps: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for record, (key, value) in zip(records, decoded, strict=True):
        assert key["station_id"] == value["station_id"]
        partitions[key["station_id"]].add(record.partition)
        stamps[key["station_id"]].append((record.offset, value["timestamp"]))
    assert all(len(p) == 1 for p in partitions.values())
    used = set().union(*partitions.values())
    assert len(used) > 1, "every station landed on one partition"
    for station, seen in stamps.items():
        times = [t for _, t in sorted(seen)]
        assert times == sorted(times), f"station {station} out of order"


@given("the arrival producer has registered its schema")
def _registered(world: World) -> None:
    world.backend.admin.create_topics(topics.PIPELINE_TOPICS)
    DeviceProducer.arrivals(world.backend.log.producer("feature-test"), world.backend.registry)


@when("a producer starts with an arrival schema that adds a required field")
def _incompatible(world: World) -> None:
    schema = json.loads(schemas.load(schemas.ARRIVAL_VALUE))
    schema["fields"].append({"name": "car_count", "type": "int"})
    try:
        DeviceProducer(
            world.backend.log.producer("feature-test"),
            world.backend.registry,
            topics.ARRIVALS,
            key_schema=schemas.load(schemas.ARRIVAL_KEY),
            value_schema=json.dumps(schema),
        )
    except SchemaRejected as exc:
        world.answer = exc
    else:
        world.answer = None


@then("the registry refuses the schema as incompatible")
def _refused(world: World) -> None:
    assert isinstance(world.answer, SchemaRejected), "the incompatible schema was accepted"
    assert world.answer.status == 409


@then(parsers.parse('the producer\'s error names the subject "{subject}"'))
def _names_subject(world: World, subject: str) -> None:
    assert world.answer.subject == subject
    assert subject in str(world.answer) and "incompatible" in str(world.answer)


@then("the registered arrival schema is unchanged")
def _unchanged(world: World) -> None:
    latest = world.backend.registry.latest(topics.subject_for(topics.ARRIVALS, is_key=False))
    fields = [f["name"] for f in json.loads(latest.schema)["fields"]]
    assert "car_count" not in fields and "train_id" in fields
