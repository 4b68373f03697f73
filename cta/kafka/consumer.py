"""The EventConsumer port over confluent-kafka's Consumer.

The consumer commits by hand exactly what it has returned, retries a commit that failed for a
passing reason, and never replays what it returned when a rebalance gives a partition back.
It reads at ``isolation.level=read_committed``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from cta.ports import Record

log = logging.getLogger(__name__)

CONSUMER_DEFAULTS: dict[str, Any] = {
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    # Regex subscriptions only notice new topics on a metadata refresh (default: 5 minutes).
    "topic.metadata.refresh.interval.ms": 1_000,
    "enable.partition.eof": False,
    # librdkafka's default, said out loud: a transaction's records only once it has committed.
    "isolation.level": "read_committed",
}

# Consumer errors that describe a passing condition (a topic not created yet, a broker
# reconnecting); they are logged and the consumer carries on.
_TRANSIENT_CONSUMER_ERRORS = frozenset(
    {
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._UNKNOWN_TOPIC,
        KafkaError._UNKNOWN_PARTITION,
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
    }
)


# Commit failures while the group rejoins or its coordinator moves (a broker restart): the
# offsets are kept and committed again on the next consume, poll or commit.
_RETRIABLE_COMMIT_ERRORS = frozenset(
    {
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError._WAIT_COORD,
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._TIMED_OUT,
    }
)


class EventLogError(RuntimeError):
    """A consumer error that is neither transient nor expected."""

    def __init__(self, error: KafkaError) -> None:
        super().__init__(f"kafka consumer error {error.name()}: {error.str()}")
        self.error = error


def _header_bytes(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    return value.encode("utf-8") if isinstance(value, str) else value


def _record(message: Message) -> Record:
    headers = message.headers() or []
    pairs = headers.items() if isinstance(headers, dict) else headers
    _, timestamp = message.timestamp()
    return Record(
        topic=message.topic() or "",
        partition=message.partition() or 0,
        offset=message.offset() or 0,
        key=message.key(),
        value=message.value(),
        timestamp_ms=timestamp,
        headers=tuple((name, _header_bytes(value)) for name, value in pairs),
    )


class KafkaConsumer:
    """EventConsumer over ``confluent_kafka.Consumer`` with manual, synchronous commits.

    A partition assigned again after a rebalance (a rejoin after a broker restart, a lost
    session) resumes after the last record this consumer returned, not at the group's older
    committed offset: the caller has already acted on those records, and a replay would repeat
    that (the KSQL engine would count them twice). If the group committed further while the
    partition was away (another member held it), it resumes at that commit instead."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._consumer = Consumer(dict(config))
        # Next offset per partition for everything returned, what is still uncommitted, and
        # what a commit was asked for but failed for a passing reason.
        self._positions: dict[tuple[str, int], int] = {}
        self._uncommitted: dict[tuple[str, int], int] = {}
        self._owed: dict[tuple[str, int], int] = {}
        self._from_beginning = False

    def subscribe(self, topics: Sequence[str], *, from_beginning: bool = False) -> None:
        self._from_beginning = from_beginning
        self._consumer.subscribe(list(topics), on_assign=self._on_assign)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # A partition this member returned records from resumes after them, unless the group
        # committed further meanwhile (another member held it and moved on): a stale position
        # would hand that member's records out again. A partition never seen starts at the
        # group's committed offset (librdkafka's default), or at its beginning for a replay.
        seen = [p for p in partitions if (p.topic, p.partition) in self._positions]
        committed = self._committed(consumer, seen)
        for partition in partitions:
            key = (partition.topic, partition.partition)
            if key in self._positions:
                self._catch_up(key, committed.get(key, -1))
                partition.offset = self._positions[key]
            elif self._from_beginning:
                partition.offset = OFFSET_BEGINNING
        consumer.assign(partitions)

    @staticmethod
    def _committed(
        consumer: Consumer, partitions: list[TopicPartition]
    ) -> dict[tuple[str, int], int]:
        """The group's committed offsets (-1001 when none); empty when the coordinator does not
        answer, so the positions this member knows are used as they are."""
        if not partitions:
            return {}
        asked = [TopicPartition(p.topic, p.partition) for p in partitions]
        try:
            answers = consumer.committed(asked, timeout=10)
        except KafkaException as exc:
            log.warning("kafka consumer: committed offsets unknown (%s); resuming", exc)
            return {}
        return {(a.topic, a.partition): a.offset for a in answers if a.error is None}

    def _catch_up(self, key: tuple[str, int], group_offset: int) -> None:
        """Move to the group's commit when it has overtaken this member's position, and drop the
        commits still owed below it (committing one now would move the group backwards)."""
        if group_offset < self._positions[key]:
            return
        self._positions[key] = group_offset
        for offsets in (self._uncommitted, self._owed):
            if offsets.get(key, group_offset + 1) <= group_offset:
                del offsets[key]

    def assignment(self) -> list[tuple[str, int]]:
        return [(p.topic, p.partition) for p in self._consumer.assignment()]

    def _accept(self, message: Message) -> Record | None:
        error = message.error()
        if error is None:
            record = _record(message)
            position = (record.topic, record.partition)
            self._positions[position] = self._uncommitted[position] = record.offset + 1
            return record
        if error.code() == KafkaError._PARTITION_EOF:
            return None
        if error.code() in _TRANSIENT_CONSUMER_ERRORS and not error.fatal():
            log.warning("kafka consumer: %s (%s); carrying on", error.str(), error.name())
            return None
        raise EventLogError(error)

    def poll(self, timeout: float = 0.0) -> Record | None:
        self._commit_owed()
        message = self._consumer.poll(timeout)
        return None if message is None else self._accept(message)

    def consume(self, max_records: int = 500, timeout: float = 0.0) -> list[Record]:
        self._commit_owed()
        # librdkafka's batch consume waits out its whole timeout unless the batch fills: at a
        # few records a second, each one would wait that long. Wait for the first record only,
        # then take what is already fetched.
        messages = self._consumer.consume(num_messages=max_records, timeout=0)
        if not messages and timeout > 0:
            first = self._consumer.poll(timeout)
            if first is not None:
                messages = [first]
                if max_records > 1:
                    messages += self._consumer.consume(num_messages=max_records - 1, timeout=0)
        records = []
        for message in messages:
            record = self._accept(message)
            if record is not None:
                records.append(record)
        return records

    def commit(self) -> None:
        # Positions only grow, so a newer uncommitted offset supersedes an owed one.
        self._owed.update(self._uncommitted)
        self._uncommitted.clear()
        self._commit_owed()

    def _commit_owed(self) -> None:
        """Commit the owed offsets of assigned partitions; ones not assigned now wait for a
        reassignment. A retriable failure keeps them owed and is logged; others raise."""
        if not self._owed:
            return
        assigned = {(p.topic, p.partition) for p in self._consumer.assignment()}
        offsets = [
            TopicPartition(topic, partition, offset)
            for (topic, partition), offset in self._owed.items()
            if (topic, partition) in assigned
        ]
        if not offsets:
            return
        try:
            results = self._consumer.commit(offsets=offsets, asynchronous=False) or []
        except KafkaException as exc:
            self._commit_failed(exc.args[0])
            return
        failed = {(r.topic, r.partition): r.error for r in results if r.error is not None}
        for offset in offsets:
            position = (offset.topic, offset.partition)
            if position not in failed and self._owed.get(position) == offset.offset:
                del self._owed[position]
        for error in failed.values():
            self._commit_failed(error)

    def _commit_failed(self, error: KafkaError) -> None:
        if error.code() in _RETRIABLE_COMMIT_ERRORS and not error.fatal():
            log.warning("kafka consumer: commit failed (%s); retrying", error.str())
            return
        raise EventLogError(error)

    def position(self, topic: str, partition: int) -> int | None:
        # librdkafka's position steps over transaction markers (the record offsets do not).
        (answer,) = self._consumer.position([TopicPartition(topic, partition)])
        return answer.offset if answer.offset >= 0 else None

    def transaction_offsets(self) -> tuple[list[TopicPartition], Any]:
        """The positions a transaction commits for this consumer (everything returned since the
        last commit) and its group metadata; from here on they are the transaction's to
        commit (if it aborts, the caller starts again with a new consumer)."""
        offsets = [
            TopicPartition(topic, partition, offset)
            for (topic, partition), offset in self._uncommitted.items()
        ]
        self._uncommitted.clear()
        return offsets, self._consumer.consumer_group_metadata()

    def close(self) -> None:
        self._consumer.close()
