"""KafkaProducer's own failure paths (the port's contract is in tests/contracts/)."""

from __future__ import annotations

import pytest

from cta.kafka.event_log import KafkaEventLog
from cta.ports import DeliveryError


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
