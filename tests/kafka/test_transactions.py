"""KafkaTransactionalProducer's own failure paths, on librdkafka's mock cluster (the port's
contract is in tests/contracts/)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cta.kafka.event_log import KafkaEventLog
from cta.kafka.transactions import KafkaTransactionalProducer
from cta.ports import TransactionAbortedError
from cta.runtime import wait_for
from tests.contracts.conftest import MOCK_CONSUMER_CONFIG

# Without the bound the stuck call below returns on its own after this long, successfully: the
# test then fails (nothing raised) instead of hanging.
STUCK_FOR_SECONDS = 30.0


class _NeverAnsweringOffsets:
    """The librdkafka producer, except that ``send_offsets_to_transaction`` blocks past its
    timeout, as librdkafka #5456/#5511 do after the group coordinator went away."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.release = threading.Event()

    def send_offsets_to_transaction(self, *args: Any) -> None:
        self.release.wait(STUCK_FOR_SECONDS)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@pytest.fixture
def consumed(mock_bootstrap: str) -> Iterator[tuple[KafkaEventLog, Any]]:
    """A consumer of the mock cluster that has returned one record, so owes an offset."""
    log_ = KafkaEventLog(mock_bootstrap, consumer_config=MOCK_CONSUMER_CONFIG)
    producer = log_.producer()
    producer.produce("txn-wedge-source", b"one")
    producer.flush(10)
    consumer = log_.consumer("txn-wedge-group")
    consumer.subscribe(["txn-wedge-source"], from_beginning=True)
    wait_for(lambda: bool(consumer.consume(10, 0.2)), what="the consumer returning a record")
    yield log_, consumer
    consumer.close()


def test_offsets_that_never_get_an_answer_abort_the_transaction_and_a_successor_takes_over(
    mock_bootstrap: str, consumed: tuple[KafkaEventLog, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, consumer = consumed
    config = {"bootstrap.servers": mock_bootstrap, "transactional.id": "wedge"}
    producer = KafkaTransactionalProducer(config, offsets_timeout=0.5)
    stuck = _NeverAnsweringOffsets(producer._producer)
    monkeypatch.setattr(producer, "_producer", stuck)
    try:
        producer.begin_transaction()
        producer.produce("txn-wedge-sink", b"counted")
        with pytest.raises(TransactionAbortedError, match="send_offsets_to_transaction"):
            producer.send_offsets_to_transaction(consumer)
        # The stuck call still holds the librdkafka producer: aborting on it is refused at once,
        # so the caller replaces the producer instead of waiting on it.
        with pytest.raises(TransactionAbortedError, match="replace"):
            producer.abort_transaction()
        producer.close()
    finally:
        stuck.release.set()

    successor = KafkaTransactionalProducer(config)  # fences the stuck one, aborts its transaction
    successor.begin_transaction()
    successor.produce("txn-wedge-sink", b"counted")
    successor.commit_transaction()
    successor.close()
