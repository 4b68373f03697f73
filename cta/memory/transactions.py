"""Kafka transactions in the memory broker: the coordinator's bookkeeping and the client.

As in Kafka, ``transactional_producer(id)`` (init_transactions) bumps the id's epoch, which
fences every older producer with that id and aborts the transaction it left open. A transaction
begins on the broker with its first write or its first offsets; its records go into the logs at
once (invisible to read_committed consumers), and commit or abort resolves them partition by
partition with a marker, committing its offsets with it. Offsets are accepted only from a group
member that still holds the partitions (KIP-447: a member a rebalance left behind is fenced by
its group, not only by its transactional id).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from cta.memory.consumer import MemoryConsumer
from cta.memory.groups import TopicPartition
from cta.memory.producer import MemoryProducer
from cta.memory.protocols import PendingMessage, TransactionLog
from cta.ports import (
    DeliveryCallback,
    DeliveryError,
    EventConsumer,
    Headers,
    ProducerFencedError,
    TransactionAbortedError,
)


@dataclass
class OpenTransaction:
    serial: int
    transactional_id: str
    epoch: int
    written: dict[TopicPartition, list[int]] = field(default_factory=dict)
    offsets: dict[str, dict[TopicPartition, int]] = field(default_factory=dict)


class TransactionCoordinator:
    """Epochs and open transactions per transactional id; the broker calls it under its lock."""

    def __init__(self) -> None:
        self._epochs: dict[str, int] = {}
        self._open: dict[str, OpenTransaction] = {}
        self._serials = itertools.count(1)

    def init_producer(self, transactional_id: str) -> tuple[int, OpenTransaction | None]:
        """A new epoch for the id, and its previous producer's open transaction (to abort)."""
        epoch = self._epochs.get(transactional_id, -1) + 1
        self._epochs[transactional_id] = epoch
        return epoch, self._open.pop(transactional_id, None)

    def check(self, transactional_id: str, epoch: int) -> None:
        if self._epochs.get(transactional_id) != epoch:
            raise ProducerFencedError(
                f"producer {transactional_id!r} (epoch {epoch}) has been fenced by a newer "
                "producer with the same transactional.id"
            )

    def current(self, transactional_id: str, epoch: int) -> OpenTransaction:
        """The open transaction of this producer, begun on the broker now if need be."""
        self.check(transactional_id, epoch)
        found = self._open.get(transactional_id)
        if found is None:
            found = OpenTransaction(next(self._serials), transactional_id, epoch)
            self._open[transactional_id] = found
        return found

    def finish(self, transactional_id: str, epoch: int) -> OpenTransaction | None:
        self.check(transactional_id, epoch)
        return self._open.pop(transactional_id, None)


class MemoryTransactionalProducer(MemoryProducer):
    """``TransactionalProducer`` over the memory broker."""

    def __init__(self, broker: TransactionLog, transactional_id: str, *, client_id: str) -> None:
        super().__init__(broker, client_id=client_id)
        self.transactional_id = transactional_id
        self._txn_broker = broker
        self._epoch = broker.init_transactions(transactional_id)
        self._in_transaction = False
        # Held while a batch goes to the broker, so a commit never overtakes a lingering batch.
        self._delivering = threading.Lock()

    def produce(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: Headers = (),
        timestamp_ms: int | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        if not self._in_transaction:
            raise RuntimeError(f"producer {self.transactional_id!r}: produce outside a transaction")
        super().produce(topic, value, key, headers, timestamp_ms, on_delivery)

    def _deliver(self) -> None:
        with self._delivering:
            with self._lock:
                batch, self._pending = self._pending, []
            if batch:
                self._append(batch)

    def _append(self, batch: Sequence[PendingMessage]) -> None:
        deliveries, failures = self._txn_broker.append_batch(
            batch, transaction=(self.transactional_id, self._epoch)
        )
        self._reports.extend(deliveries)
        if failures:
            self._record_failures(failures)

    def begin_transaction(self) -> None:
        if self._in_transaction:
            raise RuntimeError(f"producer {self.transactional_id!r}: a transaction is open")
        self._txn_broker.check_producer(self.transactional_id, self._epoch)
        self._in_transaction = True

    def send_offsets_to_transaction(self, consumer: EventConsumer) -> None:
        if not isinstance(consumer, MemoryConsumer):
            raise TypeError(f"not a memory broker consumer: {consumer!r}")
        self._require_transaction()
        group_id, member_id, positions = consumer.transaction_offsets()
        self._txn_broker.add_transaction_offsets(
            self.transactional_id, self._epoch, group_id, member_id, positions
        )

    def commit_transaction(self, timeout: float = 30.0) -> None:
        self._require_transaction()
        with self._delivering:
            with self._lock:
                batch, self._pending = self._pending, []
            try:
                if batch:
                    self._append(batch)
                self._serve_reports()
            except ProducerFencedError:
                raise
            except DeliveryError as exc:
                reason = f"a produce in the transaction failed: {exc}"
                raise TransactionAbortedError(reason) from exc
            self._txn_broker.end_transaction(self.transactional_id, self._epoch, committed=True)
        self._in_transaction = False

    def abort_transaction(self, timeout: float = 30.0) -> None:
        with self._delivering:
            with self._lock:
                self._pending = []
            self._reports.clear()
            self._errors.clear()
            self._in_transaction = False
            self._txn_broker.end_transaction(self.transactional_id, self._epoch, committed=False)

    def flush(self, timeout: float = 30.0) -> None:
        self._deliver()
        self._serve_reports()

    def close(self) -> None:
        """Closing with a transaction open aborts it (its records never become visible)."""
        try:
            if self._in_transaction:
                self.abort_transaction()
        except ProducerFencedError:
            pass  # the newer producer has aborted it already
        finally:
            self._closed = True

    def _require_transaction(self) -> None:
        if not self._in_transaction:
            raise RuntimeError(f"producer {self.transactional_id!r}: no transaction is open")
