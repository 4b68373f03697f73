"""KafkaTopicAdmin beyond the port's contract (tests/contracts/): topic specs and configs."""

from __future__ import annotations

import logging
import os

import pytest
from confluent_kafka import KafkaError, KafkaException

from cta.config import Settings
from cta.kafka.admin import KafkaTopicAdmin, new_topic
from cta.kafka.event_log import KafkaEventLog
from cta.ports import DeliveryError
from cta.testing import expect_log
from cta.topics import TopicSpec


def test_a_compacted_spec_becomes_a_compacted_topic() -> None:
    topic = new_topic(TopicSpec("t", partitions=3, replication_factor=2, compacted=True))
    assert (topic.topic, topic.num_partitions, topic.replication_factor) == ("t", 3, 2)
    assert topic.config == {"cleanup.policy": "compact"}
    assert new_topic(TopicSpec("plain")).config == {}


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


class _LeaderlessThenReady:
    """A watermark consumer whose partition has no leader for its first ``misses`` reads."""

    def __init__(self, misses: int, code: int = KafkaError.NOT_LEADER_FOR_PARTITION) -> None:
        self.misses = misses
        self.code = code
        self.reads = 0

    def get_watermark_offsets(self, partition: object, timeout: float) -> tuple[int, int]:
        self.reads += 1
        if self.reads <= self.misses:
            raise KafkaException(KafkaError(self.code))
        return 0, 42


def test_watermarks_wait_out_a_partition_whose_leader_is_not_known_yet() -> None:
    # Seen on a fresh container broker: settle() read the watermarks of a topic created a moment
    # before and failed with NOT_LEADER_FOR_PARTITION.
    admin = KafkaTopicAdmin("127.0.0.1:1")
    consumer = _LeaderlessThenReady(misses=3)
    admin._watermarks = consumer  # type: ignore[assignment]
    with expect_log("cta.kafka.admin", "NOT_LEADER", level=logging.WARNING):
        assert admin._watermark("t", 0) == (0, 42)
    assert consumer.reads == 4


def test_other_watermark_failures_are_not_retried() -> None:
    admin = KafkaTopicAdmin("127.0.0.1:1")
    consumer = _LeaderlessThenReady(misses=1, code=KafkaError.TOPIC_AUTHORIZATION_FAILED)
    admin._watermarks = consumer  # type: ignore[assignment]
    with pytest.raises(KafkaException):
        admin._watermark("t", 0)
    assert consumer.reads == 1
