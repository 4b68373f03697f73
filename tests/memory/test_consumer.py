"""MemoryConsumer: groups, rebalances, commits, regex subscriptions, blocking polls."""

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


def test_new_group_starts_at_earliest_and_reads_everything(broker: MemoryBroker) -> None:
    fill(broker, "events", 100)
    consumer = broker.consumer("g")
    consumer.subscribe(["events"])
    assert values(consumer.consume(1000)) == set(range(100))
    assert consumer.consume(1000) == []


def test_consume_respects_max_records_and_poll_hands_out_one(broker: MemoryBroker) -> None:
    fill(broker, "events", 10)
    consumer = broker.consumer("g")
    consumer.subscribe(["events"])
    first = consumer.poll()
    assert first is not None
    rest = consumer.consume(3)
    assert len(rest) == 3
    assert len(consumer.consume(100)) == 6
    assert consumer.poll() is None


def test_commit_resumes_the_group_where_it_stopped(broker: MemoryBroker) -> None:
    fill(broker, "events", 20)
    first = broker.consumer("g")
    first.subscribe(["events"])
    seen = first.consume(100)
    first.commit()
    first.close()
    assert broker.group_lag("g") == {("events", p): 0 for p in range(4)}
    fill(broker, "events", 5, start=20)
    again = broker.consumer("g")
    again.subscribe(["events"])
    assert values(again.consume(100)) == set(range(20, 25))
    assert len(seen) == 20
    assert sum(broker.group_lag("g").values()) == 5


def test_poll_commit_excludes_records_not_yet_returned(broker: MemoryBroker) -> None:
    broker.create_topics([TopicSpec("one")])
    fill(broker, "one", 10)
    consumer = broker.consumer("g")
    consumer.subscribe(["one"])
    assert consumer.poll() is not None and consumer.poll() is not None
    consumer.commit()
    assert broker.committed("g", "one", 0) == 2


def test_from_beginning_ignores_commits(broker: MemoryBroker) -> None:
    fill(broker, "events", 10)
    first = broker.consumer("dash")
    first.subscribe(["events"])
    first.consume(100)
    first.commit()
    first.close()
    replay = broker.consumer("dash")
    replay.subscribe(["events"], from_beginning=True)
    assert values(replay.consume(100)) == set(range(10))


def test_members_split_partitions_and_rebalance_on_close(broker: MemoryBroker) -> None:
    a = broker.consumer("g")
    b = broker.consumer("g")
    a.subscribe(["events"])
    b.subscribe(["events"])
    assert len(a.assignment()) == 2 and len(b.assignment()) == 2
    assert set(a.assignment()).isdisjoint(b.assignment())
    fill(broker, "events", 40)
    from_a, from_b = a.consume(100), b.consume(100)
    assert values(from_a) | values(from_b) == set(range(40))
    assert values(from_a).isdisjoint(values(from_b))
    a.commit()
    b.commit()
    b.close()
    assert len(a.assignment()) == 4
    fill(broker, "events", 8, start=40)
    assert values(a.consume(100)) == set(range(40, 48))


def test_partitions_moved_to_a_new_member_start_at_the_commit(broker: MemoryBroker) -> None:
    fill(broker, "events", 40)
    a = broker.consumer("g")
    a.subscribe(["events"])
    a.consume(100)
    a.commit()
    b = broker.consumer("g")
    b.subscribe(["events"])
    assert b.consume(100) == []  # everything b took over was committed by a
    fill(broker, "events", 40, start=40)
    assert values(a.consume(100)) | values(b.consume(100)) == set(range(40, 80))


def test_regex_subscription_picks_up_topics_created_later(broker: MemoryBroker) -> None:
    broker.create_topics([TopicSpec("org.a.arrivals.v1"), TopicSpec("org.a.other")])
    consumer = broker.consumer("g")
    consumer.subscribe(["^org\\.a\\.arrivals\\..*"])
    assert consumer.assignment() == [("org.a.arrivals.v1", 0)]
    broker.create_topics([TopicSpec("org.a.arrivals.v2", partitions=2)])
    fill(broker, "org.a.arrivals.v2", 3)
    fill(broker, "org.a.other", 3)
    assert values(consumer.consume(100)) == {0, 1, 2}
    assert len(consumer.assignment()) == 3


def test_subscribing_to_a_missing_topic_waits_for_it(broker: MemoryBroker) -> None:
    consumer = broker.consumer("g")
    consumer.subscribe(["later"])
    assert consumer.consume(10) == []
    broker.create_topics([TopicSpec("later")])
    fill(broker, "later", 2)
    assert values(consumer.consume(10)) == {0, 1}


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
