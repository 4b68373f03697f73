"""What the memory broker's clients need from it, as protocols: the producer appends batches,
the consumer takes part in a group. ``MemoryBroker`` implements both; the clients import this
module, not the broker, so ``broker`` -> ``consumer``/``producer`` is the only direction."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Protocol

from cta.memory.groups import Subscription, TopicPartition
from cta.memory.partition import PartitionLog
from cta.ports import DeliveryCallback, Headers

# What a producer hands over per message: topic, value, key, headers, timestamp, callback.
PendingMessage = tuple[
    str, bytes | None, bytes | None, Headers, int | None, DeliveryCallback | None
]
# A batch's outcome: (callback, partition, offset) per acknowledged message that asked for one,
# and (topic, reason) per refused message.
Deliveries = list[tuple[DeliveryCallback, int, int]]
Failures = list[tuple[str, str]]


class BatchLog(Protocol):
    def append_batch(self, batch: Sequence[PendingMessage]) -> tuple[Deliveries, Failures]:
        """Append under one lock acquisition; the caller does not hold the lock."""
        ...


class TransactionLog(Protocol):
    """The transaction side of the broker (``cta.memory.transactions``); caller without lock."""

    def append_batch(
        self, batch: Sequence[PendingMessage], *, transaction: tuple[str, int] | None = None
    ) -> tuple[Deliveries, Failures]: ...

    def init_transactions(self, transactional_id: str) -> int: ...

    def check_producer(self, transactional_id: str, epoch: int) -> None: ...

    def add_transaction_offsets(
        self,
        transactional_id: str,
        epoch: int,
        group_id: str,
        member_id: int | None,
        positions: dict[TopicPartition, int],
    ) -> None: ...

    def end_transaction(self, transactional_id: str, epoch: int, *, committed: bool) -> None: ...


class GroupCoordinator(Protocol):
    """The group side of the broker; every method but the attributes needs ``lock`` held."""

    lock: threading.Lock
    data_arrived: threading.Condition

    def join_group(self, group_id: str, subscription: Subscription) -> int: ...

    def leave_group(self, group_id: str, member_id: int) -> None: ...

    def generation(self, group_id: str) -> tuple[int, int]: ...

    def assignment(self, group_id: str, member_id: int) -> list[TopicPartition]: ...

    def partition_log(self, topic: str, partition: int) -> PartitionLog: ...

    def commit_offsets(
        self, group_id: str, positions: Iterable[tuple[TopicPartition, int]]
    ) -> None: ...

    def committed_offset(self, group_id: str, topic: str, partition: int) -> int | None: ...
