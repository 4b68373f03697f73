"""The TransactionalProducer port over confluent-kafka's Producer with a ``transactional.id``:
``send_offsets_to_transaction`` with the consumer's group metadata (KIP-447)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException

from cta.kafka.consumer import KafkaConsumer
from cta.kafka.producer import KafkaProducer
from cta.ports import EventConsumer, ProducerFencedError, TransactionAbortedError

log = logging.getLogger(__name__)

# A dead transactional producer's open transaction blocks read_committed readers of its topics
# until the coordinator aborts it (or a producer with the same id starts): 10 s, not 60 s.
TRANSACTION_TIMEOUT_MS = 10_000

# librdkafka's send_offsets_to_transaction can block past its timeout, for good, when the group
# coordinator it had cached went away (a broker restarted): librdkafka #5456 and #5511, open in
# 2.16. The call runs in a thread of its own and is given up this long after its timeout.
OFFSETS_GRACE_SECONDS = 5.0

# The errors that say another producer with this transactional.id (a newer epoch) took over.
_FENCED_ERRORS = frozenset(
    {KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH}
)


def _transaction_failure(exc: KafkaException, doing: str) -> TransactionAbortedError:
    error: KafkaError = exc.args[0]
    message = f"{doing}: {error.str()} ({error.name()})"
    if error.code() in _FENCED_ERRORS:
        return ProducerFencedError(message)
    return TransactionAbortedError(message)


class KafkaTransactionalProducer(KafkaProducer):
    """TransactionalProducer over ``confluent_kafka.Producer`` with a ``transactional.id``.
    Retriable errors are retried until ``timeout``; others abort the transaction (the caller
    aborts and starts again) or, for a fenced producer, raise ProducerFencedError.

    A ``send_offsets_to_transaction`` that does not return within ``offsets_timeout`` (plus a
    grace period) aborts the transaction, and leaves this producer unusable: its abort is
    refused, so the caller replaces it (the new producer with this id fences it)."""

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        timeout: float = 30.0,
        # Past the transaction's own timeout the coordinator has aborted it: no use waiting on.
        offsets_timeout: float = TRANSACTION_TIMEOUT_MS / 1000,
    ) -> None:
        super().__init__({"transaction.timeout.ms": TRANSACTION_TIMEOUT_MS, **config})
        self.transactional_id = str(config["transactional.id"])
        self._offsets_timeout = offsets_timeout
        self._stuck_in: str | None = None
        self._retrying("init_transactions", self._producer.init_transactions, timeout)

    def _retrying(self, doing: str, call: Callable[[float], None], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                call(max(deadline - time.monotonic(), 1.0))
                return
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                if error.retriable() and time.monotonic() < deadline:
                    log.warning("%s %s: %s; retrying", self.transactional_id, doing, error.str())
                    continue
                raise _transaction_failure(exc, f"{self.transactional_id} {doing}") from exc

    def begin_transaction(self) -> None:
        try:
            self._producer.begin_transaction()
        except KafkaException as exc:
            raise _transaction_failure(exc, f"{self.transactional_id} begin") from exc

    def send_offsets_to_transaction(self, consumer: EventConsumer) -> None:
        if not isinstance(consumer, KafkaConsumer):
            raise TypeError(f"not a Kafka consumer: {consumer!r}")
        offsets, group = consumer.transaction_offsets()
        if not offsets:
            return
        doing = "send_offsets_to_transaction"
        self._bounded(
            doing,
            lambda: self._retrying(
                doing,
                lambda timeout: self._producer.send_offsets_to_transaction(offsets, group, timeout),
                self._offsets_timeout,
            ),
            self._offsets_timeout + OFFSETS_GRACE_SECONDS,
        )

    def _bounded(self, doing: str, call: Callable[[], None], bound: float) -> None:
        """``call()`` in a thread of its own, given up after ``bound`` seconds (it may never
        return: its thread is left behind, and this producer with it)."""
        outcome: list[BaseException | None] = []
        thread = threading.Thread(
            target=lambda: outcome.append(_error_of(call)),
            name=f"{self.transactional_id}-{doing}",
            daemon=True,
        )
        thread.start()
        thread.join(bound)
        if not outcome:
            self._stuck_in = doing
            raise TransactionAbortedError(
                f"{self.transactional_id} {doing}: no answer in {bound:.0f}s (librdkafka #5456)"
            )
        if outcome[0] is not None:
            raise outcome[0]

    def commit_transaction(self, timeout: float = 30.0) -> None:
        # Flush first: a failed delivery must abort the transaction, not vanish in a commit.
        self._producer.flush(timeout)
        if self._failures:
            reason = "; ".join(f.reason for f in self._failures[:3])
            self._failures.clear()
            raise TransactionAbortedError(f"{self.transactional_id}: produce failed: {reason}")
        self._retrying("commit_transaction", self._producer.commit_transaction, timeout)

    def abort_transaction(self, timeout: float = 30.0) -> None:
        if self._stuck_in is not None:
            raise TransactionAbortedError(
                f"{self.transactional_id}: {self._stuck_in} never returned; replace the producer"
            )
        self._retrying("abort_transaction", self._producer.abort_transaction, timeout)
        # The aborted messages come back as "purged" delivery failures: they are the abort's.
        self._producer.poll(0)
        self._failures.clear()

    def close(self) -> None:
        """Nothing is committed on close: an open transaction is left to the next producer
        with this id (or the transaction timeout) to abort."""
        if self._stuck_in is not None:  # the stuck call holds librdkafka's producer: let it be
            return
        try:
            self._producer.purge()
            self._producer.flush(1.0)
        except KafkaException as exc:  # a fenced producer's last words; nothing is lost
            log.info("%s closed: %s", self.transactional_id, exc.args[0].str())


def _error_of(call: Callable[[], None]) -> BaseException | None:
    try:
        call()
    except BaseException as exc:  # handed to the waiting thread, which raises it
        return exc
    return None
