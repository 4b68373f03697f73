"""Our REST Proxy served against the real Kafka and registry: the failures seen on the native
stack (a 5 MB record dropped the connection; the Confluent quick start got 40401) now answer."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator

import pytest
import requests
from confluent_kafka.admin import AdminClient

from cta.config import Settings
from tests.rest_proxy.served import QUICK_START_BODY, QUICK_START_HEADERS, ServedProxy

AVRO = "application/vnd.kafka.avro.v2+json"
BLOB = '{"type": "record", "name": "Blob", "fields": [{"name": "data", "type": "string"}]}'


@pytest.fixture
def proxy(real_settings: Settings) -> Iterator[ServedProxy]:
    served = ServedProxy(
        [
            "--bootstrap-servers",
            real_settings.bootstrap_servers,
            "--schema-registry-url",
            real_settings.schema_registry_url,
        ],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    yield served
    served.stop()


@pytest.fixture
def fresh_topic(real_settings: Settings, unique: str) -> Iterator[str]:
    name = f"cta-test-avrotest-{unique}"
    yield name
    admin = AdminClient({"bootstrap.servers": real_settings.bootstrap_servers})
    for future in admin.delete_topics([name], operation_timeout=15).values():
        with contextlib.suppress(Exception):  # never created: nothing to delete
            future.result(timeout=15)


def test_quick_start_to_a_missing_topic_lets_the_broker_create_it(
    proxy: ServedProxy, fresh_topic: str
) -> None:
    answer = requests.post(
        f"{proxy.url}/topics/{fresh_topic}",
        data=QUICK_START_BODY,
        headers=QUICK_START_HEADERS,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["offsets"] == [{"partition": 0, "offset": 0, "error_code": None, "error": None}]
    assert body["key_schema_id"] is None and isinstance(body["value_schema_id"], int)


def test_a_5_mb_record_is_a_413_answer_and_writes_nothing(
    proxy: ServedProxy, fresh_topic: str
) -> None:
    def produce(data: str) -> requests.Response:
        body = json.dumps({"value_schema": BLOB, "records": [{"value": {"data": data}}]})
        return requests.post(
            f"{proxy.url}/topics/{fresh_topic}",
            data=body,
            headers={"Content-Type": AVRO},
            timeout=30,
        )

    refused = produce("x" * 5_000_000)
    assert (refused.status_code, refused.json()["error_code"]) == (413, 413), refused.text
    accepted = produce("small")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["offsets"][0]["offset"] == 0
