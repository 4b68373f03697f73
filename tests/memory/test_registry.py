"""MemorySchemaRegistry: Confluent's ids, versions, compatibility levels and errors."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from cta.memory.registry import MemorySchemaRegistry
from cta.ports import SchemaRegistryError
from cta.schemas import load


def weather(*extra_fields: dict[str, Any], temperature: str = "double") -> str:
    fields = [{"name": "temperature", "type": temperature}, {"name": "status", "type": "string"}]
    return json.dumps({"type": "record", "name": "Weather", "fields": fields + list(extra_fields)})


def test_versions_start_at_one_and_ids_are_global() -> None:
    registry = MemorySchemaRegistry()
    key_id = registry.register("t-key", load("weather_key"))
    value_id = registry.register("t-value", load("weather_value"))
    assert (key_id, value_id) == (1, 2)
    # The same schema under another subject keeps its id and starts that subject at version 1.
    assert registry.register("other-value", load("weather_value")) == value_id
    latest = registry.latest("other-value")
    assert (latest.schema_id, latest.version, latest.subject) == (2, 1, "other-value")
    assert registry.subjects() == ["other-value", "t-key", "t-value"]


def test_registering_again_adds_no_version_even_with_other_whitespace() -> None:
    registry = MemorySchemaRegistry()
    first = registry.register("s", weather())
    pretty = json.dumps(json.loads(weather()), indent=4)
    assert registry.register("s", pretty) == first
    assert registry.versions("s") == [1]
    assert registry.lookup("s", pretty).version == 1


def test_compatible_evolution_adds_a_version() -> None:
    registry = MemorySchemaRegistry()
    registry.register("s", weather())
    evolved = weather({"name": "wind", "type": "double", "default": 0.0})
    new_id = registry.register("s", evolved)
    assert registry.versions("s") == [1, 2]
    assert registry.latest("s").schema_id == new_id
    assert json.loads(registry.schema_by_id(new_id)) == json.loads(evolved)
    assert registry.version("s", 1).schema_id == 1


def test_incompatible_schema_is_refused_with_reasons() -> None:
    registry = MemorySchemaRegistry()
    registry.register("s", weather())
    bad = weather({"name": "wind", "type": "double"}, temperature="int")
    assert registry.is_compatible("s", bad) is False
    with pytest.raises(SchemaRegistryError) as refused:
        registry.register("s", bad)
    assert (refused.value.status, refused.value.error_code) == (409, 409)
    assert "Weather.temperature" in refused.value.message
    assert "Weather.wind: field added without a default" in refused.value.message
    assert registry.versions("s") == [1]


def test_compatibility_none_and_per_subject_levels() -> None:
    registry = MemorySchemaRegistry()
    registry.register("s", weather())
    registry.register("loose", weather())
    registry.set_compatibility("NONE", subject="loose")
    bad = weather(temperature="int")
    assert registry.register("loose", bad) > 0
    assert registry.compatibility("loose") == "NONE"
    assert registry.compatibility("s") == "BACKWARD"
    with pytest.raises(SchemaRegistryError):
        registry.register("s", bad)
    registry.set_compatibility("NONE")
    assert registry.register("s", bad) > 0
    with pytest.raises(SchemaRegistryError) as invalid:
        registry.set_compatibility("SOMETIMES")
    assert invalid.value.status == 422


def test_forward_full_and_transitive_levels() -> None:
    v1 = weather()
    v2 = weather({"name": "wind", "type": "double", "default": 0.0})
    v3 = weather({"name": "wind", "type": "double"})  # needs wind: v1 data lacks it
    dropped = json.dumps(
        {"type": "record", "name": "Weather", "fields": [{"name": "status", "type": "string"}]}
    )
    forward = MemorySchemaRegistry("FORWARD")
    forward.register("s", v1)
    assert forward.is_compatible("s", dropped) is False  # old readers need temperature
    full = MemorySchemaRegistry("FULL")
    full.register("s", v1)
    assert full.is_compatible("s", v2) is True
    assert full.is_compatible("s", dropped) is False
    transitive = MemorySchemaRegistry("BACKWARD_TRANSITIVE")
    transitive.register("s", v1)
    transitive.register("s", v2)
    assert transitive.is_compatible("s", v3) is False
    plain = MemorySchemaRegistry()
    plain.register("s", v1)
    plain.register("s", v2)
    assert plain.is_compatible("s", v3) is True  # only the latest (v2, with the default) counts


UNKNOWN_TYPE = '{"type": "record", "name": "X", "fields": [{"name": "a", "type": "integer"}]}'


@pytest.mark.parametrize("schema", ["{not json", UNKNOWN_TYPE, '"nope"'])
def test_invalid_schema_is_422(schema: str) -> None:
    with pytest.raises(SchemaRegistryError) as invalid:
        MemorySchemaRegistry().register("s", schema)
    assert (invalid.value.status, invalid.value.error_code) == (422, 42201)


def test_unknown_subject_version_and_id() -> None:
    registry = MemorySchemaRegistry()
    registry.register("s", weather())
    cases = [
        (lambda: registry.latest("nope"), 40401),
        (lambda: registry.versions("nope"), 40401),
        (lambda: registry.version("s", 2), 40402),
        (lambda: registry.schema_by_id(99), 40403),
        (lambda: registry.lookup("s", load("weather_key")), 40403),
    ]
    for call, code in cases:
        with pytest.raises(SchemaRegistryError) as missing:
            call()
        assert (missing.value.status, missing.value.error_code) == (404, code)


def test_concurrent_registration_gives_one_id() -> None:
    registry = MemorySchemaRegistry()
    ids: list[int] = []
    threads = [
        threading.Thread(target=lambda: ids.append(registry.register("s", weather())))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(ids) == {1}
    assert registry.versions("s") == [1]
