"""KafkaEventLog against librdkafka's mock cluster, and against the real stack when it is up."""

from __future__ import annotations

import os

import pytest

from cta.kafka.admin import KafkaTopicAdmin
from cta.kafka.event_log import KafkaEventLog
from cta.ports import DeliveryError, EventConsumer, Record
from cta.runtime import wait_for
from cta.topics import TopicSpec


@pytest.fixture(params=["mock", pytest.param("real", marks=pytest.mark.kafka)])
def bootstrap(request: pytest.FixtureRequest) -> str:
    if request.param == "mock":
        return str(request.getfixturevalue("mock_bootstrap"))
    servers = os.environ.get("CTA_BOOTSTRAP_SERVERS")
    if not servers:
        pytest.skip("CTA_BOOTSTRAP_SERVERS not set: no real Kafka stack")
    return servers


# The mock coordinator waits a full session timeout for a closed member before the next join.
MOCK_CONSUMER_CONFIG = {"session.timeout.ms": 3000, "heartbeat.interval.ms": 500}


def event_log(bootstrap: str) -> KafkaEventLog:
    real = os.environ.get("CTA_BOOTSTRAP_SERVERS") == bootstrap
    return KafkaEventLog(bootstrap, consumer_config=None if real else MOCK_CONSUMER_CONFIG)


def make_topic(bootstrap: str, name: str, partitions: int = 2) -> None:
    """Real brokers may refuse auto-creation; the mock cluster cannot create topics by request
    and auto-creates them on first produce instead."""
    if os.environ.get("CTA_BOOTSTRAP_SERVERS") == bootstrap:
        KafkaTopicAdmin(bootstrap).create_topics([TopicSpec(name, partitions=partitions)])


def read(consumer: EventConsumer, count: int, timeout: float = 30.0) -> list[Record]:
    records: list[Record] = []

    def enough() -> bool:
        records.extend(consumer.consume(500, 0.2))
        return len(records) >= count

    wait_for(enough, timeout=timeout, what=f"{count} records")
    return records


def test_round_trip_keeps_key_value_headers_and_timestamp(bootstrap: str, unique: str) -> None:
    topic = f"rt-{unique}"
    make_topic(bootstrap, topic)
    log = event_log(bootstrap)
    producer = log.producer()
    delivered: list[tuple[int, int]] = []
    for i in range(200):
        producer.produce(
            topic,
            f"v{i}".encode(),
            key=f"k{i % 7}".encode(),
            headers=(("source", b"test"),),
            timestamp_ms=1_700_000_000_000 + i,
            on_delivery=lambda p, o: delivered.append((p, o)),
        )
    producer.flush(20)
    assert len(delivered) == 200

    consumer = log.consumer(f"g-{unique}")
    consumer.subscribe([topic])
    records = read(consumer, 200)
    consumer.close()

    by_value = {r.value: r for r in records}
    assert len(by_value) == 200
    sample = by_value[b"v8"]
    assert sample.key == b"k1"
    assert sample.headers == (("source", b"test"),)
    assert sample.timestamp_ms == 1_700_000_000_008
    assert {(r.partition, r.offset) for r in records} == set(delivered)
    # Per key, order is kept.
    k0 = [r.value for r in sorted(records, key=lambda r: r.offset) if r.key == b"k0"]
    assert k0 == [f"v{i}".encode() for i in range(0, 200, 7)]


def test_commit_then_resume_and_from_beginning_replay(bootstrap: str, unique: str) -> None:
    topic = f"cr-{unique}"
    make_topic(bootstrap, topic, partitions=1)
    log = event_log(bootstrap)
    producer = log.producer()
    for i in range(10):
        producer.produce(topic, f"a{i}".encode(), key=b"one-partition")
    producer.flush(20)

    first = log.consumer(f"g-{unique}")
    first.subscribe([topic])
    assert [r.value for r in read(first, 10)] == [f"a{i}".encode() for i in range(10)]
    first.commit()
    first.close()

    for i in range(5):
        producer.produce(topic, f"b{i}".encode(), key=b"one-partition")
    producer.flush(20)

    resumed = log.consumer(f"g-{unique}")
    resumed.subscribe([topic])
    assert [r.value for r in read(resumed, 5)] == [f"b{i}".encode() for i in range(5)]
    resumed.close()

    replay = log.consumer(f"g-{unique}")
    replay.subscribe([topic], from_beginning=True)
    values = [r.value for r in read(replay, 15)]
    replay.close()
    assert values[:10] == [f"a{i}".encode() for i in range(10)]
    assert len(values) == 15


def test_regex_subscription_sees_a_topic_created_later(bootstrap: str, unique: str) -> None:
    log = event_log(bootstrap)
    producer = log.producer()
    early = f"rx.{unique}.early"
    make_topic(bootstrap, early, partitions=1)
    producer.produce(early, b"early")
    producer.flush(20)

    consumer = log.consumer(f"g-{unique}")
    consumer.subscribe([f"^rx\\.{unique}\\..*"], from_beginning=True)
    assert [r.value for r in read(consumer, 1)] == [b"early"]

    late = f"rx.{unique}.late"
    make_topic(bootstrap, late, partitions=1)
    producer.produce(late, b"late")
    producer.flush(20)
    records = read(consumer, 1)
    consumer.close()
    # The rebalance that adds the new topic does not replay the old one.
    assert [(r.topic, r.value) for r in records] == [(late, b"late")]


def test_unacknowledged_messages_raise_delivery_error() -> None:
    # Nothing listens on port 9: every message times out.
    log = KafkaEventLog("127.0.0.1:9", producer_config={"message.timeout.ms": 300, "log_level": 2})
    producer = log.producer()
    producer.produce("nowhere", b"x")
    with pytest.raises(DeliveryError) as failure:
        producer.flush(10)
    assert failure.value.topic == "nowhere"
    assert "timed out" in failure.value.reason.lower()
    producer.flush(1)  # the failure was reported once, not kept


def test_a_full_queue_does_not_block_forever() -> None:
    log = KafkaEventLog(
        "127.0.0.1:9",
        producer_config={
            "message.timeout.ms": 200,
            "queue.buffering.max.messages": 5,
            "log_level": 2,
        },
    )
    producer = log.producer()
    with pytest.raises(DeliveryError):
        for _ in range(100):
            producer.produce("nowhere", b"x")
        producer.flush(10)


def test_an_oversized_message_is_refused_as_delivery_error() -> None:
    producer = KafkaEventLog("127.0.0.1:9").producer()
    with pytest.raises(DeliveryError, match="too large"):
        producer.produce("big", b"x" * 2_000_000)
