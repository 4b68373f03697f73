"""MemoryConsumer beyond the port's contract (tests/contracts/): blocking polls, close."""

from __future__ import annotations

import threading

import pytest

from cta.memory.broker import MemoryBroker
from cta.runtime import wait_for
from cta.topics import TopicSpec


@pytest.fixture
def broker() -> MemoryBroker:
    b = MemoryBroker()
    b.create_topics([TopicSpec("events", partitions=4)])
    return b


def fill(broker: MemoryBroker, topic: str, count: int, start: int = 0) -> None:
    producer = broker.producer()
    for i in range(start, start + count):
        producer.produce(topic, f"{i}".encode(), f"k{i}".encode())
    producer.flush()


def values(records: list) -> set[int]:  # type: ignore[type-arg]
    return {int(r.value) for r in records}


def test_poll_waits_for_data_from_another_thread(broker: MemoryBroker) -> None:
    consumer = broker.consumer("g")
    consumer.subscribe(["events"])
    got: list[int] = []
    reader = threading.Thread(target=lambda: got.extend(values(consumer.consume(10, 10.0))))
    reader.start()
    wait_for(lambda: reader.is_alive(), timeout=5, what="reader started")
    fill(broker, "events", 1)
    reader.join(10)
    assert got == [0]


def test_closed_consumer_refuses_to_consume(broker: MemoryBroker) -> None:
    consumer = broker.consumer("g")
    consumer.subscribe(["events"])
    consumer.close()
    with pytest.raises(RuntimeError):
        consumer.consume()
