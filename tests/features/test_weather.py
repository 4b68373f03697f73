"""Steps of features/weather.feature."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, time, timedelta
from statistics import mean
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cta import schemas, topics
from cta.domain.clock import CHICAGO
from cta.domain.events import WeatherStatus
from cta.domain.weather import WeatherModel
from cta.producers import WeatherProducer
from cta.rest_proxy.client import RestProxyError
from cta.verify import decode_all, verify_topics
from tests.features.conftest import World

pytestmark = pytest.mark.network("seed")

scenarios("weather.feature")


def _weather(world: World) -> list[dict[str, Any]]:
    return [value for _, value in decode_all(world.backend, world.records(topics.WEATHER))]


@pytest.fixture
def station() -> dict[str, Any]:
    return {}


@given(parsers.parse("a weather station reporting hourly from {day}"))
def _station(world: World, station: dict[str, Any], day: str) -> None:
    world.backend.admin.create_topics(topics.PIPELINE_TOPICS)
    start = datetime.combine(date.fromisoformat(day), time(0), tzinfo=CHICAGO)
    station["start"] = start
    station["model"] = WeatherModel(start.month, random.Random(11))


@when(parsers.parse("it reports for {days:d} days through the REST Proxy"))
def _reports(world: World, station: dict[str, Any], days: int) -> None:
    producer = WeatherProducer(world.backend.rest_proxy)
    for hour in range(days * 24):
        producer.send(station["model"].reading(station["start"] + timedelta(hours=hour)))


@then(parsers.re(r"the weather topic holds (?P<count>\d+) weather events?"))
def _count(world: World, count: str) -> None:
    assert len(world.records(topics.WEATHER)) == int(count)


@then(parsers.parse("the weather readings are stamped {clocks} in Chicago"))
def _stamped(world: World, clocks: str) -> None:
    # The event time carried in the Avro values, in time order (partitions interleave).
    stamps = [
        datetime.fromtimestamp(value["timestamp"] / 1000, CHICAGO).strftime("%H:%M")
        for value in sorted(_weather(world), key=lambda v: v["timestamp"])
    ]
    assert stamps == [c.strip() for c in clocks.split(",")]


@then("every weather event decodes with the schema registered for the weather topic")
def _decodes(world: World) -> None:
    report = verify_topics(world.backend, [topics.WEATHER])
    assert report.ok, report.failures[:5]
    assert report.counts[topics.WEATHER] > 0


@then(parsers.parse('the weather value schema is registered under "{subject}"'))
def _subject(world: World, subject: str) -> None:
    assert subject in world.backend.registry.subjects()
    registered = json.loads(world.backend.registry.latest(subject).schema)
    assert registered["name"] == json.loads(schemas.load(schemas.WEATHER_VALUE))["name"]


@then(parsers.parse("every temperature lies between {low:d} and {high:d} degrees Fahrenheit"))
def _bounds(world: World, low: int, high: int) -> None:
    temperatures = [v["temperature"] for v in _weather(world)]
    assert temperatures
    assert all(low <= t <= high for t in temperatures), (min(temperatures), max(temperatures))


@then(parsers.parse("the week's mean temperature is {side} {degrees:d} degrees Fahrenheit"))
def _mean(world: World, side: str, degrees: int) -> None:
    average = mean(v["temperature"] for v in _weather(world))
    assert (average < degrees) if side == "below" else (average > degrees), average


@then(parsers.parse("every weather status is one of {statuses}"))
def _statuses(world: World, statuses: str) -> None:
    allowed = {s.strip() for s in statuses.split(",")}
    assert allowed == {s.value for s in WeatherStatus}
    seen = {v["status"] for v in _weather(world)}
    assert seen <= allowed
    assert len(seen) > 1, "a week of weather with one status is not a random draw"


def _reading_record(temperature: Any) -> dict[str, Any]:
    return {
        "key": {"timestamp": 1_764_000_000_000},
        "value": {"temperature": temperature, "status": "sunny", "timestamp": 1_764_000_000_000},
    }


@when("a weather reading with a text temperature is posted to the REST Proxy")
def _text_temperature(world: World) -> None:
    world.backend.admin.create_topics(topics.PIPELINE_TOPICS)
    with pytest.raises(RestProxyError) as refused:
        world.backend.rest_proxy.produce_avro(
            topics.WEATHER,
            [_reading_record("warm")],
            key_schema=schemas.load(schemas.WEATHER_KEY),
            value_schema=schemas.load(schemas.WEATHER_VALUE),
        )
    world.answer = refused.value


@when(parsers.parse('a weather reading is posted with content type "{content_type}"'))
def _wrong_content_type(world: World, content_type: str) -> None:
    world.backend.admin.create_topics(topics.PIPELINE_TOPICS)
    http = world.backend.rest_proxy_http
    body = {
        "key_schema": schemas.load(schemas.WEATHER_KEY),
        "value_schema": schemas.load(schemas.WEATHER_VALUE),
        "records": [_reading_record(41.0)],
    }
    world.answer = http.session.post(
        f"{http.base_url}/topics/{topics.WEATHER}",
        data=json.dumps(body),
        headers={"Content-Type": content_type, "Accept": "application/vnd.kafka.v2+json"},
        timeout=10,
    )


@then(parsers.parse("the REST Proxy answers {status:d} with error code {code:d}"))
def _answer_code(world: World, status: int, code: int) -> None:
    assert isinstance(world.answer, RestProxyError)
    assert (world.answer.status, world.answer.error_code) == (status, code)


@then(parsers.parse("the REST Proxy answers {status:d}"))
def _answer_status(world: World, status: int) -> None:
    assert world.answer.status_code == status
    assert world.answer.json()["error_code"] == status
