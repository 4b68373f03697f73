"""kafka_backend wiring: offline (nothing connects while building) and on the real stack."""

from __future__ import annotations

import json

import pytest

from cta.config import Settings
from cta.connect.client import ConnectClient
from cta.kafka import kafka_backend
from cta.kafka.admin import KafkaTopicAdmin
from cta.kafka.event_log import KafkaEventLog
from cta.kafka.registry import HttpSchemaRegistry
from cta.kafka.stations_db import PostgresStationDatabase
from cta.ksql.client import KsqlClient
from cta.ksql.engine import KsqlEngine
from cta.rest_proxy.client import RestProxyClient
from cta.topics import subject_for

OFFLINE = Settings(backend="kafka", bootstrap_servers="127.0.0.1:9")


def test_backend_wires_the_real_adapters() -> None:
    backend = kafka_backend(OFFLINE)
    assert backend.name == "kafka"
    assert isinstance(backend.log, KafkaEventLog)
    assert backend.log.bootstrap_servers == "127.0.0.1:9"
    assert isinstance(backend.admin, KafkaTopicAdmin)
    assert isinstance(backend.registry, HttpSchemaRegistry)
    assert backend.registry.url == OFFLINE.schema_registry_url
    assert isinstance(backend.rest_proxy, RestProxyClient)
    assert isinstance(backend.connect, ConnectClient)
    assert isinstance(backend.stations_db, PostgresStationDatabase)


def test_without_a_ksql_server_the_engine_runs_in_process() -> None:
    backend = kafka_backend(OFFLINE)
    assert isinstance(backend.ksql, KsqlClient)
    assert isinstance(backend.extras["ksql_engine"], KsqlEngine)
    assert backend.extras["pumps"]() == []  # no queries submitted yet


def test_with_a_ksql_server_its_client_is_used() -> None:
    settings = Settings(backend="kafka", bootstrap_servers="127.0.0.1:9", ksql_url="http://k:8088")
    backend = kafka_backend(settings)
    assert isinstance(backend.ksql, KsqlClient)
    assert "ksql_engine" not in backend.extras
    assert backend.extras["pumps"]() == []


@pytest.mark.kafka
def test_backend_reaches_the_real_stack(real_settings: Settings, unique: str) -> None:
    backend = kafka_backend(real_settings)
    schema = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]})
    subject = subject_for(f"cta-backend-{unique}", is_key=False)
    schema_id = backend.registry.register(subject, schema)
    assert json.loads(backend.registry.schema_by_id(schema_id)) == json.loads(schema)
    assert "__consumer_offsets" in backend.admin.list_topics()
