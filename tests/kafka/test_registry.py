"""HttpSchemaRegistry's HTTP shapes, pinned with ``responses`` (the port's contract on the real
registry is in tests/contracts/test_schema_registry.py)."""

from __future__ import annotations

import json

import pytest
import responses

from cta.kafka.registry import UNREACHABLE, HttpSchemaRegistry
from cta.ports import SchemaRegistryError

BASE = "http://registry.test/apis/ccompat/v7"
SCHEMA = json.dumps(
    {"type": "record", "name": "Thing", "namespace": "t", "fields": [{"name": "a", "type": "int"}]}
)


@responses.activate
def test_register_posts_the_schema_and_caches_the_answer() -> None:
    call = responses.post(f"{BASE}/subjects/org.x-value/versions", json={"id": 7})
    registry = HttpSchemaRegistry(BASE)
    assert registry.register("org.x-value", SCHEMA) == 7
    assert registry.register("org.x-value", SCHEMA) == 7
    assert call.call_count == 1
    sent = call.calls[0].request
    assert json.loads(sent.body) == {"schema": SCHEMA}
    assert sent.headers["Content-Type"] == "application/vnd.schemaregistry.v1+json"
    # The id's schema is known without asking.
    assert registry.schema_by_id(7) == SCHEMA


@responses.activate
def test_incompatible_change_is_a_409_refusal() -> None:
    responses.post(
        f"{BASE}/subjects/s-value/versions",
        status=409,
        json={"error_code": 409, "message": "Schema being registered is incompatible"},
    )
    with pytest.raises(SchemaRegistryError) as refusal:
        HttpSchemaRegistry(BASE).register("s-value", SCHEMA)
    assert (refusal.value.status, refusal.value.error_code) == (409, 409)
    assert "incompatible" in refusal.value.message


@responses.activate
def test_schema_by_id_is_fetched_once() -> None:
    call = responses.get(f"{BASE}/schemas/ids/3", json={"schema": SCHEMA})
    registry = HttpSchemaRegistry(BASE)
    assert registry.schema_by_id(3) == SCHEMA
    assert registry.schema_by_id(3) == SCHEMA
    assert call.call_count == 1


@responses.activate
def test_latest_and_subjects() -> None:
    responses.get(
        f"{BASE}/subjects/s-value/versions/latest",
        json={"subject": "s-value", "version": 2, "id": 11, "schema": SCHEMA},
    )
    responses.get(f"{BASE}/subjects", json=["b-value", "a-key"])
    registry = HttpSchemaRegistry(BASE)
    latest = registry.latest("s-value")
    assert (latest.schema_id, latest.version, latest.schema) == (11, 2, SCHEMA)
    assert registry.subjects() == ["a-key", "b-value"]


@responses.activate
def test_unknown_subject_is_a_40401_refusal() -> None:
    responses.get(
        f"{BASE}/subjects/nope/versions/latest",
        status=404,
        json={"error_code": 40401, "message": "Subject 'nope' not found."},
    )
    with pytest.raises(SchemaRegistryError) as refusal:
        HttpSchemaRegistry(BASE).latest("nope")
    assert refusal.value.error_code == 40401


@responses.activate
def test_is_compatible_asks_against_the_latest_version() -> None:
    call = responses.post(
        f"{BASE}/compatibility/subjects/s-value/versions/latest", json={"is_compatible": False}
    )
    assert HttpSchemaRegistry(BASE).is_compatible("s-value", SCHEMA) is False
    assert json.loads(call.calls[0].request.body) == {"schema": SCHEMA}


@responses.activate
def test_a_new_subject_is_compatible_with_anything() -> None:
    responses.post(
        f"{BASE}/compatibility/subjects/new-value/versions/latest",
        status=404,
        json={"error_code": 40401, "message": "Subject not found"},
    )
    assert HttpSchemaRegistry(BASE).is_compatible("new-value", SCHEMA) is True


@responses.activate
def test_server_errors_are_retried_then_reported() -> None:
    url = f"{BASE}/schemas/ids/5"
    responses.get(url, status=503, body="busy")
    responses.get(url, json={"schema": SCHEMA})
    registry = HttpSchemaRegistry(BASE, backoff=0.0)
    assert registry.schema_by_id(5) == SCHEMA

    responses.replace(responses.GET, url, status=500, body="broken")
    with pytest.raises(SchemaRegistryError) as failure:
        HttpSchemaRegistry(BASE, attempts=2, backoff=0.0).schema_by_id(5)
    assert failure.value.status == 500


def test_an_unreachable_registry_is_reported() -> None:
    registry = HttpSchemaRegistry("http://127.0.0.1:9", attempts=2, backoff=0.0, timeout=2)
    with pytest.raises(SchemaRegistryError) as failure:
        registry.subjects()
    assert failure.value.status == UNREACHABLE
    assert "127.0.0.1:9" in failure.value.message
