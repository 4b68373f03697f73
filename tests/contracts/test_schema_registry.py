"""The SchemaRegistry port's contract: Confluent's subjects, versions, global ids and BACKWARD
checks, on the in-process registry and on the real one."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from cta.ports import SchemaRegistry, SchemaRegistryError


def weather(*extra_fields: dict[str, Any], temperature: str = "double") -> str:
    fields = [{"name": "temperature", "type": temperature}, {"name": "status", "type": "string"}]
    record = {"type": "record", "name": "Weather", "namespace": "t"}
    return json.dumps({**record, "fields": fields + list(extra_fields)})


@pytest.fixture
def subject() -> str:
    return f"cta-contract-{uuid.uuid4().hex[:10]}-value"


def test_registering_again_finds_the_same_id_even_reformatted(
    schema_registry: SchemaRegistry, subject: str
) -> None:
    first = schema_registry.register(subject, weather())
    assert schema_registry.register(subject, json.dumps(json.loads(weather()), indent=4)) == first
    latest = schema_registry.latest(subject)
    assert (latest.schema_id, latest.version, latest.subject) == (first, 1, subject)
    assert json.loads(schema_registry.schema_by_id(first)) == json.loads(weather())
    assert subject in schema_registry.subjects()


def test_a_compatible_evolution_adds_a_version(
    schema_registry: SchemaRegistry, subject: str
) -> None:
    first = schema_registry.register(subject, weather())
    evolved = weather({"name": "wind", "type": "double", "default": 0.0})
    assert schema_registry.is_compatible(subject, evolved) is True
    second = schema_registry.register(subject, evolved)
    assert second != first
    latest = schema_registry.latest(subject)
    assert (latest.schema_id, latest.version) == (second, 2)


def test_an_incompatible_change_is_a_409_refusal(
    schema_registry: SchemaRegistry, subject: str
) -> None:
    schema_registry.register(subject, weather())
    breaking = weather({"name": "wind", "type": "double"})  # no default: old data lacks it
    assert schema_registry.is_compatible(subject, breaking) is False
    with pytest.raises(SchemaRegistryError) as refused:
        schema_registry.register(subject, breaking)
    assert refused.value.status == 409
    assert schema_registry.latest(subject).version == 1


def test_an_unknown_subject_or_id_is_a_404(schema_registry: SchemaRegistry, subject: str) -> None:
    with pytest.raises(SchemaRegistryError) as missing:
        schema_registry.latest(subject)
    assert missing.value.status == 404
    with pytest.raises(SchemaRegistryError) as unknown:
        schema_registry.schema_by_id(987_654_321)
    assert unknown.value.status == 404


def test_registering_an_older_version_again_adds_no_version(
    schema_registry: SchemaRegistry, subject: str
) -> None:
    # Confluent looks the schema up among all of the subject's versions, not only the latest:
    # a producer still holding version 1 finds its id, and version 2 stays the latest.
    first = schema_registry.register(subject, weather())
    second = schema_registry.register(
        subject, weather({"name": "wind", "type": "double", "default": 0.0})
    )
    assert schema_registry.register(subject, weather()) == first
    latest = schema_registry.latest(subject)
    assert (latest.schema_id, latest.version) == (second, 2)
