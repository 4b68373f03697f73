"""The real native stack end to end: needs CTA_STACK_TESTS=1 (it starts JVMs and downloads
from Maven Central on a cold cache). Uses the running stack when ``.stack/endpoints.env``
points at a healthy one; otherwise starts a private stack on free ports and stops it after."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from cta import schemas
from cta.stack import StackConfig, StackEndpoints, down, status, up
from cta.stack.connect import POSTGRES_CONNECTOR
from cta.stack.connect import healthy as connect_healthy
from cta.stack.kafka import healthy as kafka_healthy
from cta.stack.rest_proxy import missing_reason

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.skipif(
        os.environ.get("CTA_STACK_TESTS") != "1", reason="set CTA_STACK_TESTS=1 to run"
    ),
]


def _running(endpoints: StackEndpoints) -> bool:
    try:
        return kafka_healthy(endpoints.bootstrap_servers) and connect_healthy(endpoints.connect_url)
    except Exception:
        return False


@pytest.fixture(scope="module")
def stack() -> Iterator[StackEndpoints]:
    shared = StackConfig()
    existing = StackEndpoints.read(shared.endpoints_file)
    if existing is not None and _running(existing):
        yield existing
        return
    # Not under pytest's tmp dir: that is private to root, and Postgres runs as `postgres`.
    state = Path(tempfile.mkdtemp(prefix="cta-stack-test-"))
    state.chmod(0o755)
    config = StackConfig(state_dir=state).with_free_ports()
    try:
        yield up(config)
    finally:
        down(config)
        shutil.rmtree(state, ignore_errors=True)


def test_a_message_goes_through_the_broker(stack: StackEndpoints) -> None:
    topic = f"cta.stack.test.{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": stack.bootstrap_servers})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(30)
    producer = Producer({"bootstrap.servers": stack.bootstrap_servers})
    producer.produce(topic, key=b"40380", value=b"hello")
    assert producer.flush(30) == 0
    consumer = Consumer(
        {
            "bootstrap.servers": stack.bootstrap_servers,
            "group.id": f"test-{topic}",
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.subscribe([topic])
        message = None
        for _ in range(60):
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                break
        assert message is not None and message.error() is None
        assert (message.key(), message.value()) == (b"40380", b"hello")
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    assert admin.delete_topics([topic])[topic].result(30) is None


def test_apicurio_serves_our_schema_client_with_backward_checks(stack: StackEndpoints) -> None:
    client = SchemaRegistryClient({"url": stack.schema_registry_url})
    subject = f"cta-stack-test-{uuid.uuid4().hex[:8]}-value"
    text = schemas.load(schemas.WEATHER_VALUE)
    schema_id = client.register_schema(subject, Schema(text, "AVRO"))
    assert json.loads(client.get_schema(schema_id).schema_str or "") == json.loads(text)
    # The same schema with other whitespace finds the same id (canonical hash lookups).
    pretty = json.dumps(json.loads(text), indent=2)
    assert client.lookup_schema(subject, Schema(pretty, "AVRO")).schema_id == schema_id
    incompatible = json.loads(text)
    incompatible["fields"].append({"name": "required_without_default", "type": "string"})
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(subject, Schema(json.dumps(incompatible), "AVRO"))
    assert refused.value.http_status_code == 409


def test_connect_lists_the_debezium_postgres_connector(stack: StackEndpoints) -> None:
    plugins = requests.get(f"{stack.connect_url}/connector-plugins", timeout=10).json()
    assert POSTGRES_CONNECTOR in {p["class"] for p in plugins}


def test_the_rest_proxy_lists_topics(stack: StackEndpoints) -> None:
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    assert requests.get(f"{stack.rest_proxy_url}/topics", timeout=10).status_code == 200


def test_the_database_accepts_the_application_role_with_logical_wal(
    stack: StackEndpoints,
) -> None:
    with psycopg.connect(stack.database_url, connect_timeout=10) as conn:
        row = conn.execute("SHOW wal_level").fetchone()
        assert row == ("logical",)


def test_status_reports_services_and_topics(stack: StackEndpoints) -> None:
    shared = StackConfig()
    if StackEndpoints.read(shared.endpoints_file) != stack:
        pytest.skip("status of a private stack is covered when it is the shared one")
    report = status(shared)
    states = {s.name: s.state for s in report.services}
    assert states["kafka"] == "running" and states["connect"] == "running"
    assert "cta-connect-configs" in report.topics
    assert not report.errors
