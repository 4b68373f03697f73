"""RestProxyClient <-> RestProxyApp over the memory broker, through the in-process transport."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from cta.avro import AvroDecoder
from cta.http import in_process_session
from cta.memory.broker import MemoryBroker
from cta.memory.registry import MemorySchemaRegistry
from cta.rest_proxy.app import RestProxyApp
from cta.rest_proxy.client import RestProxyClient, RestProxyError
from cta.schemas import load
from cta.testing import InProcessStack
from cta.topics import WEATHER, TopicSpec

BASE = "http://rest-proxy.test"
INT_WEATHER = json.dumps(
    {
        "type": "record",
        "name": "Weather",
        "fields": [{"name": "temperature", "type": "int"}, {"name": "status", "type": "string"}],
    }
)


class Stack:
    def __init__(self) -> None:
        memory = InProcessStack.create([TopicSpec(WEATHER)])
        self.broker, self.registry = memory.broker, memory.registry
        self.session = memory.session(BASE, RestProxyApp(self.broker, self.registry, self.broker))
        self.client = RestProxyClient(BASE, session=self.session)

    def post(self, path: str, body: Any, content_type: str) -> requests.Response:
        data = body if isinstance(body, str) else json.dumps(body)
        return self.session.post(BASE + path, data=data, headers={"Content-Type": content_type})


@pytest.fixture
def stack() -> Stack:
    return Stack()


def weather(ts: int, temperature: float = 71.5) -> dict[str, Any]:
    return {
        "key": {"timestamp": ts},
        "value": {"temperature": temperature, "status": "sunny", "timestamp": ts},
    }


def test_happy_path_produces_wire_format_avro(stack: Stack) -> None:
    result = stack.client.produce_avro(
        WEATHER,
        [weather(1), weather(2)],
        key_schema=load("weather_key"),
        value_schema=load("weather_value"),
    )
    assert result.key_schema_id == stack.registry.latest(f"{WEATHER}-key").schema_id
    assert result.value_schema_id == stack.registry.latest(f"{WEATHER}-value").schema_id
    assert [(o.partition, o.offset) for o in result.offsets] == [(0, 0), (0, 1)]
    decoder = AvroDecoder(stack.registry)
    records = stack.broker.records(WEATHER)
    assert [decoder.decode(r.value) for r in records if r.value] == [
        weather(1)["value"],
        weather(2)["value"],
    ]
    assert decoder.decode(records[0].key or b"") == {"timestamp": 1}


def test_schema_ids_are_reused_on_later_calls(stack: Stack) -> None:
    sent: list[dict[str, Any]] = []
    original = stack.session.send

    def spy(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        sent.append(json.loads(request.body or b"{}"))
        return original(request, **kwargs)

    stack.session.send = spy  # type: ignore[method-assign]
    schemas = {"key_schema": load("weather_key"), "value_schema": load("weather_value")}
    first = stack.client.produce_avro(WEATHER, [weather(1)], **schemas)
    second = stack.client.produce_avro(WEATHER, [weather(2)], **schemas)
    assert "value_schema" in sent[0] and "value_schema_id" not in sent[0]
    assert sent[1]["value_schema_id"] == first.value_schema_id
    assert sent[1]["key_schema_id"] == first.key_schema_id
    assert second.value_schema_id == first.value_schema_id
    assert second.offsets[0].offset == 1
    assert stack.registry.versions(f"{WEATHER}-value") == [1]


def test_float_into_int_schema_is_422_and_nothing_is_written(stack: Stack) -> None:
    with pytest.raises(RestProxyError) as refused:
        stack.client.produce_avro(
            WEATHER,
            [{"key": None, "value": {"temperature": 70, "status": "sunny"}},
             {"key": None, "value": {"temperature": 71.5, "status": "sunny"}}],
            key_schema=load("weather_key"),
            value_schema=INT_WEATHER,
        )
    assert (refused.value.status, refused.value.error_code) == (422, 42202)
    assert "records[1].value" in refused.value.message
    assert "Weather.temperature: expected int, got 71.5" in refused.value.message
    assert stack.broker.message_count(WEATHER) == 0


def test_wrong_content_type_is_415(stack: Stack) -> None:
    answer = stack.post(f"/topics/{WEATHER}", {"records": [{"value": 1}]}, "application/json")
    assert answer.status_code == 415
    assert answer.json()["error_code"] == 415
    assert answer.headers["Content-Type"] == "application/vnd.kafka.v2+json"


def test_unknown_topic_is_404_40401(stack: Stack) -> None:
    with pytest.raises(RestProxyError) as missing:
        stack.client.produce_avro(
            "nope", [weather(1)], key_schema=load("weather_key"), value_schema=load("weather_value")
        )
    assert (missing.value.status, missing.value.error_code) == (404, 40401)
    assert missing.value.message == "Topic not found"
    assert stack.registry.subjects() == []


def test_unknown_topic_without_admin_is_still_404() -> None:
    broker = MemoryBroker()
    session = in_process_session(BASE, RestProxyApp(broker, MemorySchemaRegistry()))
    answer = session.post(
        f"{BASE}/topics/nope",
        data=json.dumps({"records": [{"value": {"a": 1}}]}),
        headers={"Content-Type": "application/vnd.kafka.json.v2+json"},
    )
    assert (answer.status_code, answer.json()["error_code"]) == (404, 40401)


def test_incompatible_schema_is_409_with_reasons(stack: Stack) -> None:
    stack.client.produce_avro(
        WEATHER, [weather(1)], key_schema=load("weather_key"), value_schema=load("weather_value")
    )
    with pytest.raises(RestProxyError) as refused:
        stack.client.produce_avro(
            WEATHER,
            [{"key": {"timestamp": 2}, "value": {"temperature": 70, "status": "sunny"}}],
            key_schema=load("weather_key"),
            value_schema=INT_WEATHER,
        )
    assert (refused.value.status, refused.value.error_code) == (409, 409)
    assert "Weather.temperature" in refused.value.message
    assert stack.broker.message_count(WEATHER) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, 400),
        ({"records": []}, 422, 422),
        ({"records": [{"value": {"temperature": 1.0, "status": "x", "timestamp": 1}}]}, 422, 42201),
        ({"value_schema": "{bad", "records": [{"value": {}}]}, 422, 42201),
        ({"value_schema_id": 999, "records": [{"value": {}}]}, 404, 40403),
        ({"value_schema": INT_WEATHER, "records": [{"value": {"status": "x"}}]}, 422, 42202),
        ({"value_schema": INT_WEATHER, "records": [{"partition": 0, "value": {}}]}, 422, 42202),
    ],
    ids=["malformed", "empty", "no-schema", "bad-schema", "unknown-id", "missing", "partition"],
)
def test_bad_requests_get_documented_errors(
    stack: Stack, body: Any, status: int, code: int
) -> None:
    answer = stack.post(f"/topics/{WEATHER}", body, "application/vnd.kafka.avro.v2+json")
    assert (answer.status_code, answer.json()["error_code"]) == (status, code)
    assert answer.json()["message"]
    assert stack.broker.message_count(WEATHER) == 0


def test_union_values_use_avro_json_encoding(stack: Stack) -> None:
    schema = load("arrival_value")
    value = {
        "station_id": 1, "train_id": "BL1", "direction": "a", "line": "blue",
        "train_status": "in_service", "prev_station_id": {"int": 7}, "prev_direction": None,
        "timestamp": 5,
    }
    ok = stack.post(f"/topics/{WEATHER}", {"value_schema": schema, "records": [{"value": value}]},
                    "application/vnd.kafka.avro.v2+json")
    assert ok.status_code == 200, ok.text
    decoded = AvroDecoder(stack.registry).decode(stack.broker.records(WEATHER)[0].value or b"")
    assert decoded["prev_station_id"] == 7 and decoded["prev_direction"] is None
    bare = {**value, "prev_station_id": 7}
    refused = stack.post(
        f"/topics/{WEATHER}",
        {"value_schema": schema, "records": [{"value": bare}]},
        "application/vnd.kafka.avro.v2+json",
    )
    assert refused.json()["error_code"] == 42202
    assert "Arrival.prev_station_id" in refused.json()["message"]


def test_json_and_binary_embedded_formats(stack: Stack) -> None:
    as_json = stack.post(f"/topics/{WEATHER}", {"records": [{"key": "k", "value": {"a": [1]}}]},
                         "application/vnd.kafka.json.v2+json")
    as_binary = stack.post(f"/topics/{WEATHER}", {"records": [{"value": "aGVsbG8="}]},
                           "application/vnd.kafka.binary.v2+json")
    assert as_json.status_code == as_binary.status_code == 200
    assert as_json.json()["value_schema_id"] is None
    assert [(r.key, r.value) for r in stack.broker.records(WEATHER)] == [
        (b'"k"', b'{"a":[1]}'),
        (None, b"hello"),
    ]


def test_topic_metadata(stack: Stack) -> None:
    listed = stack.session.get(f"{BASE}/topics")
    assert listed.json() == [WEATHER]
    described = stack.session.get(f"{BASE}/topics/{WEATHER}").json()
    assert described["name"] == WEATHER and len(described["partitions"]) == 1
    missing = stack.session.get(f"{BASE}/topics/nope")
    assert (missing.status_code, missing.json()["error_code"]) == (404, 40401)
