"""An in-process Kafka broker: topics, partitions, offsets, consumer groups, compaction.

One lock guards all state; a condition on it wakes consumers waiting in ``poll(timeout)`` when a
batch lands. Producers append whole batches under one acquisition and consumers read slices of
the stored ``Record`` objects (immutable, so shared without copying).
"""

from __future__ import annotations

import itertools
import threading
import time
import zlib
from collections.abc import Iterable, Sequence

from cta.memory.consumer import MemoryConsumer
from cta.memory.groups import Group, Subscription, TopicPartition
from cta.memory.partition import PartitionLog
from cta.memory.producer import MemoryProducer
from cta.memory.protocols import Deliveries, Failures, PendingMessage
from cta.memory.transactions import (
    MemoryTransactionalProducer,
    OpenTransaction,
    TransactionCoordinator,
)
from cta.ports import Record, TransactionAbortedError
from cta.topics import TopicSpec

# Kafka's default message.max.bytes.
DEFAULT_MAX_MESSAGE_BYTES = 1_048_588

# log.message.timestamp.after.max.ms, whose default Kafka 4 lowered to one hour.
MAX_FUTURE_TIMESTAMP_MS = 3_600_000


class _Topic:
    __slots__ = ("compacted", "name", "partitions", "round_robin")

    def __init__(self, spec: TopicSpec) -> None:
        self.name = spec.name
        self.compacted = spec.compacted
        self.partitions = [PartitionLog(compacted=spec.compacted) for _ in range(spec.partitions)]
        # Keyless messages are spread over partitions, as librdkafka's random choice does.
        self.round_robin = itertools.cycle(range(spec.partitions))


class MemoryBroker:
    """The EventLog and TopicAdmin ports over in-process partitions."""

    def __init__(
        self,
        *,
        auto_create_topics: bool = False,
        default_partitions: int = 1,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self.auto_create_topics = auto_create_topics
        self.default_partitions = default_partitions
        self.max_message_bytes = max_message_bytes
        self.lock = threading.Lock()
        self.data_arrived = threading.Condition(self.lock)
        self._topics: dict[str, _Topic] = {}
        self.topics_version = 0
        self._groups: dict[str, Group] = {}
        self._commits: dict[tuple[str, str, int], int] = {}
        self._member_ids = itertools.count(1)
        self._transactions = TransactionCoordinator()

    # -- EventLog -------------------------------------------------------------------------

    def producer(self, client_id: str = "cta") -> MemoryProducer:
        return MemoryProducer(self, client_id=client_id)

    def consumer(self, group_id: str, *, client_id: str = "cta") -> MemoryConsumer:
        return MemoryConsumer(self, group_id, client_id=client_id)

    def transactional_producer(
        self, transactional_id: str, *, client_id: str = "cta"
    ) -> MemoryTransactionalProducer:
        return MemoryTransactionalProducer(self, transactional_id, client_id=client_id)

    # -- TopicAdmin -----------------------------------------------------------------------

    def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        with self.lock:
            for spec in specs:
                if spec.partitions < 1:
                    raise ValueError(f"topic {spec.name!r} needs at least one partition")
                if spec.name not in self._topics:
                    self._add_topic(spec)

    def list_topics(self) -> dict[str, int]:
        with self.lock:
            return {name: len(t.partitions) for name, t in self._topics.items()}

    def end_offsets(self, topic: str) -> dict[int, int]:
        with self.lock:
            found = self._require(topic)
            return {i: p.end_offset for i, p in enumerate(found.partitions)}

    def group_lag(self, group_id: str) -> dict[tuple[str, int], int]:
        """Lag of every partition the group has committed to or is assigned (uncommitted
        partitions count from offset 0: the group would start there)."""
        with self.lock:
            partitions = {(t, p) for (g, t, p) in self._commits if g == group_id}
            group = self._groups.get(group_id)
            if group is not None:
                topics = self._partition_counts()
                for member in list(group.members):
                    partitions.update(group.assignment(member, topics, self.topics_version))
            return {
                (t, p): self._topics[t].partitions[p].end_offset
                - self._commits.get((group_id, t, p), 0)
                for (t, p) in sorted(partitions)
            }

    # -- inspection for tests and tools ---------------------------------------------------

    def records(self, topic: str) -> list[Record]:
        """Every stored record of ``topic``: partition by partition, in offset order."""
        with self.lock:
            return [r for p in self._require(topic).partitions for r in p.records()]

    def message_count(self, topic: str) -> int:
        with self.lock:
            return sum(p.live_count() for p in self._require(topic).partitions)

    def committed(self, group_id: str, topic: str, partition: int) -> int | None:
        with self.lock:
            return self._commits.get((group_id, topic, partition))

    def drop_tombstones(self, topic: str) -> int:
        """Run the log cleaner's tombstone removal on a compacted topic."""
        with self.lock:
            return sum(p.drop_tombstones() for p in self._require(topic).partitions)

    # -- used by MemoryProducer (caller does not hold the lock) ----------------------------

    def append_batch(
        self, batch: Sequence[PendingMessage], *, transaction: tuple[str, int] | None = None
    ) -> tuple[Deliveries, Failures]:
        """Append a batch; ``transaction`` (transactional id, epoch) writes it into that
        producer's open transaction (raises ProducerFencedError for a fenced epoch)."""
        deliveries: Deliveries = []
        failures: Failures = []
        now_ms = time.time_ns() // 1_000_000
        limit = self.max_message_bytes
        with self.lock:
            open_txn = None if transaction is None else self._transactions.current(*transaction)
            serial = None if open_txn is None else open_txn.serial
            topics = self._topics
            for topic_name, value, key, headers, timestamp_ms, callback in batch:
                topic = topics.get(topic_name)
                if topic is None:
                    if not self.auto_create_topics:
                        failures.append((topic_name, "unknown topic or partition"))
                        continue
                    topic = self._add_topic(TopicSpec(topic_name, self.default_partitions))
                size = (len(value) if value is not None else 0) + (len(key) if key else 0)
                if size > limit:
                    failures.append(
                        (topic_name, f"message of {size} bytes exceeds max {limit} bytes")
                    )
                    continue
                if topic.compacted and key is None:
                    failures.append(
                        (
                            topic_name,
                            "Broker failed to validate record: "
                            "a compacted topic needs a key on every message",
                        )
                    )
                    continue
                if timestamp_ms is not None and timestamp_ms - now_ms > MAX_FUTURE_TIMESTAMP_MS:
                    # Kafka 4 refuses CreateTime more than an hour ahead (KIP-937).
                    failures.append(
                        (
                            topic_name,
                            "Broker failed to validate record: timestamp "
                            f"{timestamp_ms} is more than an hour in the future",
                        )
                    )
                    continue
                count = len(topic.partitions)
                partition = zlib.crc32(key) % count if key else next(topic.round_robin)
                log = topic.partitions[partition]
                offset = log.end_offset
                log.append(
                    Record(
                        topic_name,
                        partition,
                        offset,
                        key,
                        value,
                        now_ms if timestamp_ms is None else timestamp_ms,
                        headers,
                    ),
                    transaction=serial,
                )
                if open_txn is not None:
                    open_txn.written.setdefault((topic_name, partition), []).append(offset)
                if callback is not None:
                    deliveries.append((callback, partition, offset))
            self.data_arrived.notify_all()
        return deliveries, failures

    # -- used by MemoryTransactionalProducer (caller does not hold the lock) ---------------

    def init_transactions(self, transactional_id: str) -> int:
        """A new epoch for the id: older producers with it are fenced, their open transaction
        aborted."""
        with self.lock:
            epoch, left_open = self._transactions.init_producer(transactional_id)
            if left_open is not None:
                self._resolve(left_open, committed=False)
            return epoch

    def check_producer(self, transactional_id: str, epoch: int) -> None:
        with self.lock:
            self._transactions.check(transactional_id, epoch)

    def add_transaction_offsets(
        self,
        transactional_id: str,
        epoch: int,
        group_id: str,
        member_id: int | None,
        positions: dict[TopicPartition, int],
    ) -> None:
        with self.lock:
            open_txn = self._transactions.current(transactional_id, epoch)
            group = self._groups.get(group_id)
            held: set[TopicPartition] = set()
            if group is not None and member_id in group.members:
                topics = self._partition_counts()
                held = set(group.assignment(member_id, topics, self.topics_version))
            lost = sorted(set(positions) - held)
            if lost:
                raise TransactionAbortedError(
                    f"group {group_id}: member {member_id} no longer holds {lost} "
                    "(the group rebalanced): its offsets are refused"
                )
            open_txn.offsets.setdefault(group_id, {}).update(positions)

    def end_transaction(self, transactional_id: str, epoch: int, *, committed: bool) -> None:
        with self.lock:
            open_txn = self._transactions.finish(transactional_id, epoch)
            if open_txn is not None:
                self._resolve(open_txn, committed=committed)

    def _resolve(self, open_txn: OpenTransaction, *, committed: bool) -> None:
        for (topic, partition), offsets in open_txn.written.items():
            self._topics[topic].partitions[partition].end_transaction(
                open_txn.serial, offsets, committed=committed
            )
        if committed:
            for group_id, positions in open_txn.offsets.items():
                self.commit_offsets(group_id, positions.items())
        self.data_arrived.notify_all()

    # -- used by MemoryConsumer (caller holds the lock) -----------------------------------

    def join_group(self, group_id: str, subscription: Subscription) -> int:
        member_id = next(self._member_ids)
        self._groups.setdefault(group_id, Group()).join(member_id, subscription)
        self.data_arrived.notify_all()
        return member_id

    def leave_group(self, group_id: str, member_id: int) -> None:
        group = self._groups.get(group_id)
        if group is not None:
            group.leave(member_id)
            self.data_arrived.notify_all()

    def generation(self, group_id: str) -> tuple[int, int]:
        return self._groups[group_id].generation, self.topics_version

    def assignment(self, group_id: str, member_id: int) -> list[TopicPartition]:
        return self._groups[group_id].assignment(
            member_id, self._partition_counts(), self.topics_version
        )

    def partition_log(self, topic: str, partition: int) -> PartitionLog:
        return self._topics[topic].partitions[partition]

    def commit_offsets(
        self, group_id: str, positions: Iterable[tuple[TopicPartition, int]]
    ) -> None:
        for (topic, partition), offset in positions:
            self._commits[(group_id, topic, partition)] = offset

    def committed_offset(self, group_id: str, topic: str, partition: int) -> int | None:
        return self._commits.get((group_id, topic, partition))

    # -- internals ------------------------------------------------------------------------

    def _add_topic(self, spec: TopicSpec) -> _Topic:
        topic = _Topic(spec)
        self._topics[spec.name] = topic
        # A new topic may match a pattern subscription: every group reassigns.
        self.topics_version += 1
        self.data_arrived.notify_all()
        return topic

    def _partition_counts(self) -> dict[str, int]:
        return {name: len(t.partitions) for name, t in self._topics.items()}

    def _require(self, topic: str) -> _Topic:
        found = self._topics.get(topic)
        if found is None:
            raise KeyError(f"unknown topic {topic!r}")
        return found
