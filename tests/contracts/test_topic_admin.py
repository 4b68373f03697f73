"""The TopicAdmin port's contract: topic creation, listing, offsets and group lag."""

from __future__ import annotations

import pytest

from cta.topics import TopicSpec
from tests.contracts.conftest import LogUnderTest, key_for, read


def fill(under_test: LogUnderTest, topic: str, keys: list[bytes], per_key: int) -> None:
    producer = under_test.producer()
    for key in keys:
        for _ in range(per_key):
            producer.produce(topic, b"x", key=key)
    producer.flush(20)


@pytest.mark.adapters("memory", "kafka")
def test_create_topics_is_idempotent_and_keeps_the_first_layout(topic_admin: LogUnderTest) -> None:
    plain = f"plain-{topic_admin.prefix}"
    table = f"table-{topic_admin.prefix}"
    specs = [TopicSpec(plain, partitions=3), TopicSpec(table, compacted=True)]
    topic_admin.admin.create_topics(specs)
    fill(topic_admin, plain, [b"k"], 1)
    topic_admin.admin.create_topics(specs)
    topic_admin.admin.create_topics([TopicSpec(plain, partitions=9)])
    topics = topic_admin.admin.list_topics()
    assert (topics[plain], topics[table]) == (3, 1)
    assert sum(topic_admin.admin.end_offsets(plain).values()) == 1


def test_end_offsets_count_what_each_partition_holds(topic_admin: LogUnderTest) -> None:
    topic, partitions = topic_admin.topic("offsets", partitions=2)
    keys = [key_for(p, partitions) for p in range(partitions)]
    fill(topic_admin, topic, keys, 5)
    assert topic_admin.admin.end_offsets(topic) == dict.fromkeys(range(partitions), 5)
    assert topic_admin.admin.list_topics()[topic] == partitions


def test_end_offsets_of_an_unknown_topic_is_a_key_error(topic_admin: LogUnderTest) -> None:
    with pytest.raises(KeyError):
        topic_admin.admin.end_offsets(f"missing-{topic_admin.prefix}")


# The mock cluster cannot list a group's offsets.
@pytest.mark.adapters("memory", "kafka")
def test_group_lag_counts_what_the_group_has_not_committed(topic_admin: LogUnderTest) -> None:
    topic, partitions = topic_admin.topic("lag", partitions=2)
    keys = [key_for(p, partitions) for p in range(partitions)]
    fill(topic_admin, topic, keys, 20)
    group = topic_admin.group()
    consumer = topic_admin.consumer(group)
    consumer.subscribe([topic])
    read(consumer, 20 * partitions)
    consumer.commit()
    consumer.close()
    assert topic_admin.admin.group_lag(group) == {(topic, p): 0 for p in range(partitions)}
    fill(topic_admin, topic, keys, 3)
    assert sum(topic_admin.admin.group_lag(group).values()) == 3 * partitions
    assert topic_admin.admin.group_lag(topic_admin.group("nobody")) == {}
