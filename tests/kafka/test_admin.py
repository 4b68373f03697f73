"""KafkaTopicAdmin: topic specs (pure), offsets on the mock cluster, topic creation and configs
on the real stack."""

from __future__ import annotations

import os

import pytest

from cta.config import Settings
from cta.kafka.admin import KafkaTopicAdmin, UnknownTopicError, new_topic
from cta.kafka.event_log import KafkaEventLog
from cta.ports import DeliveryError
from cta.runtime import wait_for
from cta.topics import TopicSpec


def test_a_compacted_spec_becomes_a_compacted_topic() -> None:
    topic = new_topic(TopicSpec("t", partitions=3, replication_factor=2, compacted=True))
    assert (topic.topic, topic.num_partitions, topic.replication_factor) == ("t", 3, 2)
    assert topic.config == {"cleanup.policy": "compact"}
    assert new_topic(TopicSpec("plain")).config == {}


def _produce(bootstrap: str, topic: str, count: int) -> None:
    producer = KafkaEventLog(bootstrap).producer()
    for i in range(count):
        producer.produce(topic, b"x", key=f"{i}".encode())
    producer.flush(20)


def test_offsets_on_the_mock_cluster(mock_bootstrap: str, unique: str) -> None:
    topic = f"off-{unique}"
    _produce(mock_bootstrap, topic, 40)
    admin = KafkaTopicAdmin(mock_bootstrap)
    assert admin.list_topics()[topic] == 4  # the mock's auto-created layout
    assert sum(admin.end_offsets(topic).values()) == 40
    with pytest.raises(UnknownTopicError):
        admin.end_offsets(f"missing-{unique}")
    admin.close()


# The mock cluster cannot list a group's offsets, so group lag is tested on the real stack.
@pytest.mark.kafka
def test_group_lag_counts_what_the_group_has_not_committed(
    real_settings: Settings, unique: str
) -> None:
    bootstrap = real_settings.bootstrap_servers
    topic = f"lag-{unique}"
    admin = KafkaTopicAdmin(bootstrap)
    admin.create_topics([TopicSpec(topic, partitions=2)])
    _produce(bootstrap, topic, 40)
    consumer = KafkaEventLog(bootstrap).consumer(f"g-{unique}")
    consumer.subscribe([topic])
    seen: list[object] = []
    wait_for(lambda: bool(seen.extend(consumer.consume(100, 0.2))) or len(seen) >= 40)
    consumer.commit()
    consumer.close()
    lag = admin.group_lag(f"g-{unique}")
    assert lag == {(topic, 0): 0, (topic, 1): 0}

    _produce(bootstrap, topic, 6)
    assert sum(admin.group_lag(f"g-{unique}").values()) == 6
    assert admin.group_lag(f"nobody-{unique}") == {}
    admin.close()


@pytest.mark.kafka
def test_create_topics_is_idempotent_and_applies_specs(
    real_settings: Settings, unique: str
) -> None:
    admin = KafkaTopicAdmin(real_settings.bootstrap_servers)
    specs = [
        TopicSpec(f"plain-{unique}", partitions=3),
        TopicSpec(f"table-{unique}", compacted=True),
    ]
    admin.create_topics(specs)
    admin.create_topics(specs)  # existing topics are fine
    topics = admin.list_topics()
    assert topics[f"plain-{unique}"] == 3
    assert topics[f"table-{unique}"] == 1
    assert admin.topic_config(f"table-{unique}")["cleanup.policy"] == "compact"
    assert admin.topic_config(f"plain-{unique}")["cleanup.policy"] == "delete"
    assert admin.end_offsets(f"plain-{unique}") == {0: 0, 1: 0, 2: 0}
    admin.close()


@pytest.mark.kafka
def test_broker_refusals_surface_as_delivery_errors(real_settings: Settings, unique: str) -> None:
    topic = f"small-{unique}"
    admin = KafkaTopicAdmin(real_settings.bootstrap_servers)
    admin.create_topics([TopicSpec(topic)])
    # The client accepts 2 MB; the broker's 1 MB limit refuses it in the delivery report.
    producer = KafkaEventLog(
        real_settings.bootstrap_servers, producer_config={"message.max.bytes": 4_000_000}
    ).producer()
    producer.produce(topic, os.urandom(2_000_000))  # incompressible
    with pytest.raises(DeliveryError) as refusal:
        producer.flush(30)
    assert refusal.value.topic == topic
    assert "too large" in refusal.value.reason.lower()

    # A topic that does not exist, with auto-creation off, is never acknowledged.
    unknown = KafkaEventLog(
        real_settings.bootstrap_servers,
        producer_config={"allow.auto.create.topics": False, "message.timeout.ms": 3000},
    ).producer()
    unknown.produce(f"missing-{unique}", b"x")
    with pytest.raises(DeliveryError) as lost:
        unknown.flush(30)
    assert lost.value.topic == f"missing-{unique}"
    assert f"missing-{unique}" not in admin.list_topics()
    admin.close()
