"""kafka_backend wiring: offline (nothing connects while building) and on the real stack."""

from __future__ import annotations

import json

import pytest

from cta import topics
from cta.bootstrap.kafka import FaustStationsWorker, kafka_backend
from cta.config import Settings
from cta.connect.client import ConnectClient
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
    with kafka_backend(OFFLINE) as backend:
        assert backend.name == "kafka"
        assert isinstance(backend.log, KafkaEventLog)
        assert backend.log.bootstrap_servers == "127.0.0.1:9"
        assert isinstance(backend.admin, KafkaTopicAdmin)
        assert isinstance(backend.registry, HttpSchemaRegistry)
        assert backend.registry.url == OFFLINE.schema_registry_url
        assert isinstance(backend.rest_proxy, RestProxyClient)
        assert isinstance(backend.connect, ConnectClient)
        assert isinstance(backend.stations_db, PostgresStationDatabase)
        assert backend.rest_proxy_http.base_url == OFFLINE.rest_proxy_url


def test_the_stations_processor_runs_out_of_process_and_settles_over_a_network() -> None:
    backend = kafka_backend(OFFLINE)
    assert [type(p) for p in backend.out_of_process] == [FaustStationsWorker]
    assert backend.remote_groups == {"stations-stream": (topics.STATIONS_RAW,)}
    assert backend.stations_processor is None
    assert backend.settle.quiet_rounds > 1 and backend.settle.poll_timeout > 0
    backend.close()
    backend.close()  # idempotent


def test_without_a_ksql_server_the_engine_runs_in_process() -> None:
    with kafka_backend(OFFLINE) as backend:
        assert isinstance(backend.ksql, KsqlClient)
        assert isinstance(backend.ksql_engine, KsqlEngine)
        assert backend.pumps() == []  # no queries submitted yet


def test_with_a_ksql_server_its_client_is_used() -> None:
    settings = Settings(backend="kafka", bootstrap_servers="127.0.0.1:9", ksql_url="http://k:8088")
    with kafka_backend(settings) as backend:
        assert isinstance(backend.ksql, KsqlClient)
        assert backend.ksql_engine is None
        assert backend.pumps() == []


@pytest.mark.kafka
def test_backend_reaches_the_real_stack(real_settings: Settings, unique: str) -> None:
    with kafka_backend(real_settings) as backend:
        schema = json.dumps(
            {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}
        )
        subject = subject_for(f"cta-backend-{unique}", is_key=False)
        schema_id = backend.registry.register(subject, schema)
        assert json.loads(backend.registry.schema_by_id(schema_id)) == json.loads(schema)
        assert "__consumer_offsets" in backend.admin.list_topics()
