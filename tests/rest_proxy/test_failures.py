"""RestProxyApp answers every failure in the v2 error shape: dependencies away (after retries
with backoff), limits, missing topics, and its own bugs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cta.http import HttpRequest, HttpResponse
from cta.memory.broker import MemoryBroker
from cta.memory.registry import MemorySchemaRegistry
from cta.ports import DeliveryCallback, DeliveryError, EventProducer, Headers, SchemaRegistryError
from cta.rest_proxy.app import ProxyLimits, RestProxyApp
from cta.retry import Backoff
from cta.testing import expect_log
from cta.topics import TopicSpec

AVRO = "application/vnd.kafka.avro.v2+json"
SCHEMA = '{"type": "record", "name": "Blob", "fields": [{"name": "data", "type": "string"}]}'


def produce(app: RestProxyApp, topic: str, *values: str) -> HttpResponse:
    body = {"value_schema": SCHEMA, "records": [{"value": {"data": v}} for v in values]}
    return app(
        HttpRequest(
            "POST", f"/topics/{topic}", {"Content-Type": AVRO}, json.dumps(body).encode("utf-8")
        )
    )


def error_of(answer: HttpResponse) -> tuple[int, int]:
    payload = json.loads(answer.body)
    assert payload["message"]
    return answer.status, payload["error_code"]


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def broker_with(topic: str = "blobs") -> MemoryBroker:
    broker = MemoryBroker()
    broker.create_topics([TopicSpec(topic)])
    return broker


class UnreachableRegistry(MemorySchemaRegistry):
    def register(self, subject: str, schema: str) -> int:
        raise SchemaRegistryError(0, 0, f"POST {subject}: connection refused")


class FlakyProducer:
    """A producer whose broker does not answer for the first ``failures`` flushes."""

    def __init__(self, inner: EventProducer, failures: int) -> None:
        self._inner = inner
        self._failures = failures
        self._held: list[tuple[Any, ...]] = []
        self.flushes = 0

    def produce(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: Headers = (),
        timestamp_ms: int | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        self._held.append((topic, value, key, headers, timestamp_ms, on_delivery))

    def poll(self, timeout: float = 0.0) -> int:
        return 0

    def flush(self, timeout: float = 30.0) -> None:
        held, self._held = self._held, []
        if not held:
            return
        self.flushes += 1
        if self.flushes <= self._failures:
            raise DeliveryError("blobs", "Local: Message timed out")
        for topic, value, key, headers, timestamp_ms, on_delivery in held:
            self._inner.produce(topic, value, key, headers, timestamp_ms, on_delivery)
        self._inner.flush(timeout)

    def close(self) -> None:
        self._inner.close()


class FlakyLog:
    def __init__(self, broker: MemoryBroker, failures: int) -> None:
        self.broker = broker
        self.failures = failures
        self.producers: list[FlakyProducer] = []

    def producer(self, client_id: str = "cta") -> EventProducer:
        made = FlakyProducer(self.broker.producer(client_id), self.failures)
        self.producers.append(made)
        return made

    def consumer(self, group_id: str, *, client_id: str = "cta") -> Any:
        return self.broker.consumer(group_id, client_id=client_id)


def limits(sleep: Sleeps, **overrides: Any) -> ProxyLimits:
    return ProxyLimits(produce_backoff=Backoff(3, 0.25, 0.5, sleep), **overrides)


def test_an_unreachable_registry_is_503_50301() -> None:
    broker = broker_with()
    answer = produce(RestProxyApp(broker, UnreachableRegistry(), broker), "blobs", "a")
    assert error_of(answer) == (503, 50301)
    assert broker.message_count("blobs") == 0


def test_a_broker_that_comes_back_is_retried_with_backoff_and_answers_200() -> None:
    broker, sleep = broker_with(), Sleeps()
    app = RestProxyApp(FlakyLog(broker, failures=2), MemorySchemaRegistry(), broker, limits(sleep))
    answer = produce(app, "blobs", "a", "b")
    assert answer.status == 200, answer.body
    assert [o["offset"] for o in json.loads(answer.body)["offsets"]] == [0, 1]
    assert sleep.waits == [0.25, 0.5]
    assert broker.message_count("blobs") == 2


def test_a_broker_that_stays_away_is_500_50003_after_the_retries() -> None:
    broker, sleep = broker_with(), Sleeps()
    flaky = FlakyLog(broker, failures=99)
    app = RestProxyApp(flaky, MemorySchemaRegistry(), broker, limits(sleep))
    answer = produce(app, "blobs", "a")
    assert error_of(answer) == (500, 50003)
    assert "timed out" in json.loads(answer.body)["message"]
    assert flaky.producers[0].flushes == 3 and sleep.waits == [0.25, 0.5]
    assert broker.message_count("blobs") == 0


def test_a_record_over_the_broker_limit_is_413_and_the_batch_writes_nothing() -> None:
    broker = broker_with()
    app = RestProxyApp(broker, MemorySchemaRegistry(), broker, ProxyLimits(max_record_bytes=100))
    assert error_of(produce(app, "blobs", "small", "x" * 200)) == (413, 413)
    assert broker.message_count("blobs") == 0


def test_a_5_mb_record_on_default_limits_is_413_not_an_exception() -> None:
    broker = broker_with()
    app = RestProxyApp(broker, MemorySchemaRegistry(), broker)
    assert error_of(produce(app, "blobs", "x" * 5_000_000)) == (413, 413)


def test_a_body_over_the_limit_is_413() -> None:
    broker = broker_with()
    app = RestProxyApp(broker, MemorySchemaRegistry(), broker, ProxyLimits(max_body_bytes=50))
    assert error_of(produce(app, "blobs", "x" * 100)) == (413, 413)


@pytest.mark.parametrize(("auto_create", "status"), [(True, 200), (False, 404)])
def test_a_missing_topic_is_created_only_when_the_broker_allows_it(
    auto_create: bool, status: int
) -> None:
    broker = MemoryBroker()
    limits_ = ProxyLimits(auto_create_topics=auto_create)
    answer = produce(RestProxyApp(broker, MemorySchemaRegistry(), broker, limits_), "fresh", "a")
    assert answer.status == status
    if auto_create:
        assert broker.message_count("fresh") == 1
    else:
        assert error_of(answer) == (404, 40401) and "fresh" not in broker.list_topics()


def test_an_unexpected_failure_is_a_500_answer_not_an_exception() -> None:
    class Broken(MemorySchemaRegistry):
        def register(self, subject: str, schema: str) -> int:
            raise ZeroDivisionError("bug")

    broker = broker_with()
    with expect_log("cta.rest_proxy.app", "REST Proxy: POST /topics/blobs failed"):
        answer = produce(RestProxyApp(broker, Broken(), broker), "blobs", "a")
    assert error_of(answer) == (500, 500)
    assert "ZeroDivisionError" in json.loads(answer.body)["message"]
