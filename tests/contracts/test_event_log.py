"""The EventLog port's contract: producers, consumers and consumer groups, on every adapter."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from cta.ports import DeliveryError, EventConsumer, EventProducer, ProducerFencedError, Record
from cta.runtime import wait_for
from tests.contracts.conftest import LogUnderTest, key_for, read


def produce_round(
    producer: EventProducer, topic: str, keys: Sequence[bytes], label: str, per_key: int
) -> None:
    for key in keys:
        for i in range(per_key):
            producer.produce(topic, f"{label}:{key.decode()}:{i}".encode(), key=key)
    producer.flush(20)


def labels(records: Sequence[Record]) -> list[str]:
    return [(r.value or b"").decode().split(":")[0] for r in records]


def poll_records(consumer: EventConsumer, count: int) -> list[Record]:
    """``count`` records, one ``poll`` at a time."""
    polled: list[Record] = []

    def enough() -> bool:
        record = consumer.poll(0.1)
        if record is not None:
            polled.append(record)
        return len(polled) == count

    wait_for(enough, timeout=30, what=f"{count} polled records")
    return polled


def read_both(a: EventConsumer, b: EventConsumer, count: int) -> tuple[list[Record], list[Record]]:
    """What two members of one group read until they have ``count`` records between them."""
    from_a: list[Record] = []
    from_b: list[Record] = []

    def enough() -> bool:
        from_a.extend(a.consume(100, 0.1))
        from_b.extend(b.consume(100, 0.1))
        return len(from_a) + len(from_b) >= count

    wait_for(enough, timeout=30, what=f"{count} records from two members")
    return from_a, from_b


def wait_for_assignment(
    consumers: Sequence[EventConsumer], wanted: int, *, what: str
) -> list[Record]:
    """Poll every member until each holds at least one partition and together they hold
    ``wanted`` (a rebalance only progresses while members poll); returns what they read."""
    seen: list[Record] = []

    def settled() -> bool:
        for consumer in consumers:
            seen.extend(consumer.consume(100, 0.1))
        held = [consumer.assignment() for consumer in consumers]
        return all(held) and sum(len(h) for h in held) == wanted

    wait_for(settled, timeout=60, what=what)
    return seen


def test_a_partition_that_moves_away_and_back_resumes_at_the_groups_commit(
    event_log: LogUnderTest,
) -> None:
    """A partition moves to a second member, which reads and commits more of it, then comes
    back: the first member must resume at the group's commit, not at the position it had
    reached before (that would hand out the second member's records again)."""
    topic, partitions = event_log.topic("moves", partitions=2)
    keys = [key_for(p, partitions) for p in range(partitions)]
    producer = event_log.producer()
    group = event_log.group()
    produce_round(producer, topic, keys, "first", 3)

    a = event_log.consumer(group)
    a.subscribe([topic])
    assert sorted(labels(read(a, 3 * partitions))) == ["first"] * 3 * partitions
    a.commit()

    b = event_log.consumer(group)
    b.subscribe([topic])
    # b takes over committed partitions: nothing to read until more arrives.
    assert wait_for_assignment([a, b], partitions, what="the group split over a and b") == []
    produce_round(producer, topic, keys, "second", 3)
    from_a, from_b = read_both(a, b, 3 * partitions)
    assert sorted(labels([*from_a, *from_b])) == ["second"] * 3 * partitions
    a.commit()
    b.commit()

    b.close()
    assert wait_for_assignment([a], partitions, what="every partition back with a") == []
    produce_round(producer, topic, keys, "third", 2)
    assert sorted(labels(read(a, 2 * partitions))) == ["third"] * 2 * partitions


def test_uncommitted_records_go_to_the_next_owner_but_not_again_to_the_one_that_read_them(
    event_log: LogUnderTest,
) -> None:
    """Without a commit, a partition's new owner starts at the group's offset (at-least-once: it
    sees what the first member read); when the partition comes back, the first member resumes
    after what it had itself returned."""
    topic, partitions = event_log.topic("uncommitted", partitions=2)
    keys = [key_for(p, partitions) for p in range(partitions)]
    producer = event_log.producer()
    group = event_log.group()
    produce_round(producer, topic, keys, "first", 2)
    a = event_log.consumer(group)
    a.subscribe([topic])
    assert len(read(a, 2 * partitions)) == 2 * partitions

    b = event_log.consumer(group)
    b.subscribe([topic])
    replayed = wait_for_assignment([a, b], partitions, what="the group split over a and b")
    expected = 2 * len(b.assignment())
    replayed += read(b, max(0, expected - len(replayed)))
    assert labels(replayed) == ["first"] * expected
    b.close()
    assert wait_for_assignment([a], partitions, what="every partition back with a") == []
    produce_round(producer, topic, keys, "second", 1)
    assert sorted(labels(read(a, partitions))) == ["second"] * partitions


def test_a_partition_given_back_by_a_rebalance_is_not_replayed(event_log: LogUnderTest) -> None:
    """Another member joining the group for another topic forces a rebalance; the partition
    this member keeps resumes after what it returned (uncommitted), it does not start again at
    the group's committed offset (a broker restart relies on the same)."""
    topic, partitions = event_log.topic("kept", partitions=1)
    other, other_partitions = event_log.topic("kept-other", partitions=1)
    key = key_for(0, partitions)
    producer = event_log.producer()
    produce_round(producer, topic, [key], "first", 10)
    producer.produce(other, b"x", key=b"k")
    producer.flush(20)
    group = event_log.group()
    consumer = event_log.consumer(group)
    consumer.subscribe([topic])
    returned = [r.value for r in read(consumer, 10)]
    joiner = event_log.consumer(group)
    joiner.subscribe([other])
    returned.extend(
        r.value
        for r in wait_for_assignment(
            [consumer, joiner], partitions + other_partitions, what="the rebalance"
        )
        if r.topic == topic
    )
    produce_round(producer, topic, [key], "second", 5)
    returned.extend(r.value for r in read(consumer, 5))
    assert [v.decode().split(":")[0] for v in returned if v] == ["first"] * 10 + ["second"] * 5


def test_round_trip_keeps_key_value_headers_timestamp_and_per_key_order(
    event_log: LogUnderTest,
) -> None:
    topic, _ = event_log.topic("round-trip", partitions=2)
    producer = event_log.producer()
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
    consumer = event_log.consumer(event_log.group())
    consumer.subscribe([topic])
    records = read(consumer, 200)
    by_value = {r.value: r for r in records}
    assert len(by_value) == 200
    sample = by_value[b"v8"]
    assert (sample.key, sample.headers) == (b"k1", (("source", b"test"),))
    assert sample.timestamp_ms == 1_700_000_000_008
    assert {(r.partition, r.offset) for r in records} == set(delivered)
    k0 = [r.value for r in sorted(records, key=lambda r: r.offset) if r.key == b"k0"]
    assert k0 == [f"v{i}".encode() for i in range(0, 200, 7)]


def test_consume_respects_max_records_and_poll_hands_out_one(event_log: LogUnderTest) -> None:
    topic, partitions = event_log.topic("max-records", partitions=1)
    producer = event_log.producer()
    produce_round(producer, topic, [key_for(0, partitions)], "r", 10)
    consumer = event_log.consumer(event_log.group())
    consumer.subscribe([topic])
    first = poll_records(consumer, 1)
    assert first[0].offset == 0
    batch = consumer.consume(3, 5.0)
    assert 1 <= len(batch) <= 3
    rest = read(consumer, 9 - len(batch))
    assert [r.offset for r in [*first, *batch, *rest]] == list(range(10))


def test_commit_resumes_the_group_and_from_beginning_replays(event_log: LogUnderTest) -> None:
    topic, partitions = event_log.topic("commits", partitions=1)
    key = key_for(0, partitions)
    producer = event_log.producer()
    group = event_log.group()
    produce_round(producer, topic, [key], "a", 10)
    first = event_log.consumer(group)
    first.subscribe([topic])
    assert labels(read(first, 10)) == ["a"] * 10
    first.commit()
    first.close()
    produce_round(producer, topic, [key], "b", 5)
    resumed = event_log.consumer(group)
    resumed.subscribe([topic])
    assert labels(read(resumed, 5)) == ["b"] * 5
    resumed.close()
    replay = event_log.consumer(group)
    replay.subscribe([topic], from_beginning=True)
    assert labels(read(replay, 15)) == ["a"] * 10 + ["b"] * 5


def test_commit_after_poll_covers_only_what_poll_returned(event_log: LogUnderTest) -> None:
    topic, partitions = event_log.topic("poll-commit", partitions=1)
    key = key_for(0, partitions)
    producer = event_log.producer()
    group = event_log.group()
    produce_round(producer, topic, [key], "r", 10)
    first = event_log.consumer(group)
    first.subscribe([topic])
    assert [r.offset for r in poll_records(first, 2)] == [0, 1]
    first.commit()
    first.close()
    again = event_log.consumer(group)
    again.subscribe([topic])
    assert [r.offset for r in read(again, 8)] == list(range(2, 10))


def test_members_split_the_partitions_and_each_record_goes_to_one(
    event_log: LogUnderTest,
) -> None:
    topic, partitions = event_log.topic("split", partitions=2)
    group = event_log.group()
    a, b = event_log.consumer(group), event_log.consumer(group)
    a.subscribe([topic])
    b.subscribe([topic])
    assert wait_for_assignment([a, b], partitions, what="the split") == []
    assert set(a.assignment()).isdisjoint(b.assignment())
    producer = event_log.producer()
    keys = [key_for(p, partitions) for p in range(partitions)]
    produce_round(producer, topic, keys, "r", 10)
    from_a, from_b = read_both(a, b, 10 * partitions)
    assert {r.value for r in from_a}.isdisjoint({r.value for r in from_b})
    assert len(from_a) + len(from_b) == 10 * partitions
    assert {r.partition for r in from_a} == {p for _, p in a.assignment()}


def test_a_regex_subscription_sees_a_topic_created_later(event_log: LogUnderTest) -> None:
    prefix = f"rx.{event_log.prefix}"
    producer = event_log.producer()
    early, _ = event_log.topic(f"{prefix}.early", partitions=1)
    producer.produce(early, b"early", key=b"k")
    producer.flush(20)
    consumer = event_log.consumer(event_log.group())
    consumer.subscribe([f"^rx\\.{event_log.prefix}\\..*"], from_beginning=True)
    assert [r.value for r in read(consumer, 1)] == [b"early"]
    late, _ = event_log.topic(f"{prefix}.late", partitions=1)
    producer.produce(late, b"late", key=b"k")
    producer.flush(20)
    # The rebalance that adds the new topic does not replay the old one.
    assert [(r.topic, r.value) for r in read(consumer, 1)] == [(late, b"late")]


@pytest.mark.adapters("memory", "kafka")
def test_a_subscription_to_a_missing_topic_waits_for_it(event_log: LogUnderTest) -> None:
    consumer = event_log.consumer(event_log.group())
    name = f"later-{event_log.prefix}"
    consumer.subscribe([name])
    assert consumer.consume(10, 0.2) == []
    topic, _ = event_log.topic("later", partitions=1)
    assert topic == name
    producer = event_log.producer()
    producer.produce(topic, b"v", key=b"k")
    producer.flush(20)
    assert [r.value for r in read(consumer, 1)] == [b"v"]


@pytest.mark.adapters("memory", "kafka")
def test_a_compacted_topic_refuses_a_message_without_a_key(event_log: LogUnderTest) -> None:
    topic, _ = event_log.topic("compacted", partitions=1, compacted=True)
    producer = event_log.producer()
    producer.produce(topic, b"keyed", key=b"k")
    producer.flush(20)
    # Alone: a real broker refuses the whole batch the keyless message travels in.
    producer.produce(topic, b"keyless")
    with pytest.raises(DeliveryError, match="failed to validate record") as refusal:
        producer.flush(30)
    assert refusal.value.topic == topic
    consumer = event_log.consumer(event_log.group())
    consumer.subscribe([topic])
    assert [r.value for r in read(consumer, 1)] == [b"keyed"]


def test_consume_returns_what_is_there_without_waiting_out_its_timeout(
    event_log: LogUnderTest,
) -> None:
    """The timeout bounds the wait for a first record, not for a full batch: a processor that
    consumes batches of 500 with a timeout must not hold a lone record back until it expires
    (librdkafka's batch consume waits for the whole batch)."""
    import threading

    topic, partitions = event_log.topic("no-batch-wait", partitions=1)
    producer = event_log.producer()
    produce_round(producer, topic, [key_for(0, partitions)], "r", 2)
    consumer = event_log.consumer(event_log.group())
    consumer.subscribe([topic])
    first = poll_records(consumer, 1)
    got: list[Record] = []
    reader = threading.Thread(target=lambda: got.extend(consumer.consume(500, 600.0)), daemon=True)
    reader.start()
    wait_for(lambda: not reader.is_alive(), timeout=60, what="consume to return its one record")
    assert [r.offset for r in [*first, *got]] == [0, 1]


# -- transactions (the KSQL engine's exactly-once cycle) --------------------------------------


def read_until_end(consumer: EventConsumer, topic: str, ends: dict[int, int]) -> list[Record]:
    """Everything up to the end offsets, waiting on the consumer's positions: a transactional
    topic ends with a commit marker, which no consumer returns."""
    records: list[Record] = []

    def at_end() -> bool:
        records.extend(consumer.consume(500, 0.1))
        return all((consumer.position(topic, p) or 0) >= end for p, end in ends.items() if end)

    wait_for(at_end, timeout=30, what=f"{topic} read to its end offsets {ends}")
    return records


@pytest.mark.adapters("memory", "kafka")
def test_a_transactions_records_are_visible_only_once_it_commits(
    event_log: LogUnderTest,
) -> None:
    topic, partitions = event_log.topic("txn-commit", partitions=1)
    producer = event_log.transactional_producer()
    reader = event_log.consumer(event_log.group())
    reader.subscribe([topic])
    producer.begin_transaction()
    produce_round(producer, topic, [key_for(0, partitions)], "open", 3)  # flushed: on the log
    assert reader.consume(10, 0.5) == []  # read_committed: an open transaction is not there
    producer.commit_transaction()
    assert labels(read(reader, 3)) == ["open"] * 3
    ends = event_log.admin.end_offsets(topic)
    assert ends[0] > 3  # the commit marker has an offset of its own
    assert read_until_end(reader, topic, ends) == []
    assert reader.position(topic, 0) == ends[0]


@pytest.mark.adapters("memory", "kafka")
def test_an_aborted_transactions_records_are_never_seen(event_log: LogUnderTest) -> None:
    topic, partitions = event_log.topic("txn-abort", partitions=1)
    key = key_for(0, partitions)
    producer = event_log.transactional_producer()
    producer.begin_transaction()
    produce_round(producer, topic, [key], "aborted", 3)
    producer.abort_transaction()
    producer.begin_transaction()
    produce_round(producer, topic, [key], "kept", 2)
    producer.commit_transaction()
    reader = event_log.consumer(event_log.group())
    reader.subscribe([topic])
    assert labels(read_until_end(reader, topic, event_log.admin.end_offsets(topic))) == [
        "kept",
        "kept",
    ]


@pytest.mark.adapters("memory", "kafka")
def test_offsets_sent_to_a_transaction_are_committed_with_it_and_only_with_it(
    event_log: LogUnderTest,
) -> None:
    source, partitions = event_log.topic("txn-source", partitions=1)
    sink, _ = event_log.topic("txn-sink", partitions=1)
    key = key_for(0, partitions)
    produce_round(event_log.producer(), source, [key], "in", 4)
    group = event_log.group()
    producer = event_log.transactional_producer()

    def cycle(*, commit: bool) -> None:
        consumer = event_log.consumer(group)
        consumer.subscribe([source])
        assert labels(read(consumer, 4)) == ["in"] * 4  # resumes at the group's commit
        producer.begin_transaction()
        producer.produce(sink, b"out:1", key=key)
        producer.send_offsets_to_transaction(consumer)
        if commit:
            producer.commit_transaction()
        else:
            producer.abort_transaction()
        consumer.close()

    cycle(commit=False)  # aborted: the group has committed nothing, so it reads all 4 again
    cycle(commit=True)
    assert event_log.admin.group_lag(group) == {(source, 0): 0}
    produce_round(event_log.producer(), source, [key], "later", 1)
    resumed = event_log.consumer(group)
    resumed.subscribe([source])
    assert labels(read(resumed, 1)) == ["later"]
    reader = event_log.consumer(event_log.group("reader"))
    reader.subscribe([sink])
    assert labels(read_until_end(reader, sink, event_log.admin.end_offsets(sink))) == ["out"]


@pytest.mark.adapters("memory", "kafka")
def test_a_new_producer_with_the_same_transactional_id_fences_the_old_one(
    event_log: LogUnderTest,
) -> None:
    topic, partitions = event_log.topic("txn-fence", partitions=1)
    key = key_for(0, partitions)
    zombie = event_log.transactional_producer("fenced")
    zombie.begin_transaction()
    produce_round(zombie, topic, [key], "zombie", 2)
    successor = event_log.transactional_producer("fenced")  # aborts the zombie's transaction
    with pytest.raises(ProducerFencedError):
        zombie.commit_transaction()
    successor.begin_transaction()
    produce_round(successor, topic, [key], "successor", 1)
    successor.commit_transaction()
    reader = event_log.consumer(event_log.group())
    reader.subscribe([topic])
    assert labels(read_until_end(reader, topic, event_log.admin.end_offsets(topic))) == [
        "successor"
    ]


@pytest.mark.adapters("memory", "kafka")
def test_end_offsets_are_the_high_watermark_open_transactions_included(
    event_log: LogUnderTest,
) -> None:
    """A reader "up to the end offsets" (the KSQL restore) must not stop at the last stable
    offset: a transaction whose commit is still being written would be left out of what it
    reads while its consumed offsets get committed."""
    topic, partitions = event_log.topic("txn-ends", partitions=1)
    producer = event_log.transactional_producer()
    producer.begin_transaction()
    produce_round(producer, topic, [key_for(0, partitions)], "open", 3)
    assert event_log.admin.end_offsets(topic) == {0: 3}
    producer.abort_transaction()
