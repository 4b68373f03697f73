"""MemoryBroker: partitions, offsets, producer batching and failures, compaction, admin."""

from __future__ import annotations

import threading
import time
import zlib

import pytest

from cta.memory.broker import MemoryBroker
from cta.ports import DeliveryError
from cta.runtime import wait_for
from cta.topics import TopicSpec


@pytest.fixture
def broker() -> MemoryBroker:
    b = MemoryBroker()
    b.create_topics([TopicSpec("events", partitions=4), TopicSpec("table", compacted=True)])
    return b


def test_keys_land_where_librdkafka_puts_them(broker: MemoryBroker) -> None:
    producer = broker.producer()
    keys = [f"station-{i}".encode() for i in range(50)]
    for key in keys:
        producer.produce("events", b"v", key)
    producer.flush()
    placed = {r.key: r.partition for r in broker.records("events")}
    assert placed == {k: zlib.crc32(k) % 4 for k in keys}
    assert set(placed.values()) == {0, 1, 2, 3}


def test_partitioner_matches_real_librdkafka() -> None:
    confluent_kafka = pytest.importorskip("confluent_kafka")
    real = confluent_kafka.Producer({"test.mock.num.brokers": 1, "log_level": 0})
    placed: dict[bytes, int] = {}
    keys = [f"{i}".encode() for i in range(40000, 40040)]

    def record(error: object, message: object) -> None:
        assert error is None
        placed[message.key()] = message.partition()  # type: ignore[attr-defined]

    for key in keys:
        real.produce("mock-topic", b"v", key=key, on_delivery=record)
    assert real.flush(10) == 0
    broker = MemoryBroker()
    broker.create_topics([TopicSpec("mock-topic", partitions=4)])  # the mock's auto-create count
    producer = broker.producer()
    for key in keys:
        producer.produce("mock-topic", b"v", key)
    producer.flush()
    assert {r.key: r.partition for r in broker.records("mock-topic")} == placed


def test_offsets_timestamps_and_headers(broker: MemoryBroker) -> None:
    producer = broker.producer()
    for i in range(5):
        producer.produce("events", f"{i}".encode(), b"same", headers=(("h", b"x"),), timestamp_ms=i)
    producer.flush()
    records = broker.records("events")
    assert [r.offset for r in records] == [0, 1, 2, 3, 4]
    assert [r.value for r in records] == [b"0", b"1", b"2", b"3", b"4"]
    assert [r.timestamp_ms for r in records] == [0, 1, 2, 3, 4]
    assert records[0].headers == (("h", b"x"),)
    assert broker.end_offsets("events")[zlib.crc32(b"same") % 4] == 5


def test_keyless_messages_spread_over_partitions(broker: MemoryBroker) -> None:
    producer = broker.producer()
    for _ in range(8):
        producer.produce("events", b"v")
    producer.flush()
    assert sorted(broker.end_offsets("events").values()) == [2, 2, 2, 2]
    assert all(r.timestamp_ms > 0 for r in broker.records("events"))


def test_produce_is_batched_until_poll_or_flush(broker: MemoryBroker) -> None:
    producer = broker.producer()
    producer.produce("events", b"v", b"k")
    producer.produce("events", b"v", b"k")
    assert len(producer) in (0, 2)  # the linger timer may already have delivered
    delivered: list[tuple[int, int]] = []
    producer.produce("events", b"v", b"k", on_delivery=lambda p, o: delivered.append((p, o)))
    assert producer.poll(0) == 1
    assert delivered == [(zlib.crc32(b"k") % 4, 2)]
    assert len(producer) == 0


def test_linger_delivers_without_poll(broker: MemoryBroker) -> None:
    broker.producer().produce("events", b"v", b"k")
    wait_for(lambda: broker.message_count("events") == 1, timeout=5, what="lingering batch")


def test_unknown_topic_is_reported_not_swallowed(broker: MemoryBroker) -> None:
    producer = broker.producer()
    producer.produce("nope", b"v")
    producer.produce("nope", b"v")
    producer.produce("events", b"ok")
    with pytest.raises(DeliveryError) as failure:
        producer.flush()
    assert failure.value.topic == "nope"
    assert "unknown topic" in failure.value.reason and "2 messages" in failure.value.reason
    assert broker.message_count("events") == 1
    assert "nope" not in broker.list_topics()
    producer.flush()  # reported once


def test_failures_surface_from_poll_too(broker: MemoryBroker) -> None:
    producer = broker.producer()
    producer.produce("nope", b"v")
    with pytest.raises(DeliveryError):
        producer.poll(0)


def test_auto_create_topics() -> None:
    broker = MemoryBroker(auto_create_topics=True, default_partitions=2)
    producer = broker.producer()
    producer.produce("fresh", b"v")
    producer.flush()
    assert broker.list_topics() == {"fresh": 2}


def test_oversized_message_fails_delivery() -> None:
    broker = MemoryBroker(max_message_bytes=10)
    broker.create_topics([TopicSpec("t")])
    producer = broker.producer()
    producer.produce("t", b"x" * 11)
    producer.produce("t", b"x" * 10)
    with pytest.raises(DeliveryError, match="exceeds max 10 bytes"):
        producer.flush()
    assert [r.value for r in broker.records("t")] == [b"x" * 10]


def test_timestamps_over_an_hour_ahead_are_refused_as_kafka_4_does(broker: MemoryBroker) -> None:
    now_ms = time.time_ns() // 1_000_000
    producer = broker.producer()
    producer.produce("events", b"soon", key=b"k", timestamp_ms=now_ms + 3_000_000)
    producer.produce("events", b"tomorrow", key=b"k", timestamp_ms=now_ms + 86_400_000)
    producer.produce("events", b"last year", key=b"k", timestamp_ms=now_ms - 365 * 86_400_000)
    with pytest.raises(DeliveryError, match="failed to validate record"):
        producer.flush()
    assert [r.value for r in broker.records("events")] == [b"soon", b"last year"]


def test_compacted_topic_keeps_latest_value_per_key(broker: MemoryBroker) -> None:
    producer = broker.producer()
    for key, value in [(b"a", b"1"), (b"b", b"1"), (b"a", b"2"), (b"c", b"1"), (b"b", None)]:
        producer.produce("table", value, key)
    producer.flush()
    records = broker.records("table")
    assert [(r.offset, r.key, r.value) for r in records] == [
        (2, b"a", b"2"),
        (3, b"c", b"1"),
        (4, b"b", None),  # the tombstone stays until the cleaner removes it
    ]
    assert broker.end_offsets("table") == {0: 5}
    assert broker.drop_tombstones("table") == 1
    assert [r.key for r in broker.records("table")] == [b"a", b"c"]
    consumer = broker.consumer("reader")
    consumer.subscribe(["table"], from_beginning=True)
    assert [(r.offset, r.value) for r in consumer.consume(10)] == [(2, b"2"), (3, b"1")]


def test_create_topics_is_idempotent(broker: MemoryBroker) -> None:
    producer = broker.producer()
    producer.produce("events", b"v", b"k")
    producer.flush()
    broker.create_topics([TopicSpec("events", partitions=9), TopicSpec("more", partitions=2)])
    assert broker.list_topics() == {"events": 4, "table": 1, "more": 2}
    assert broker.message_count("events") == 1
    with pytest.raises(ValueError):
        broker.create_topics([TopicSpec("bad", partitions=0)])


def test_concurrent_producers_lose_nothing(broker: MemoryBroker) -> None:
    def run(n: int) -> None:
        producer = broker.producer()
        for i in range(2000):
            producer.produce("events", b"v", f"{n}-{i}".encode())
        producer.flush()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert broker.message_count("events") == 8000
    for partition in range(4):
        offsets = [r.offset for r in broker.records("events") if r.partition == partition]
        assert offsets == list(range(len(offsets)))
