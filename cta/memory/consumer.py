"""The memory broker's consumer: a group member with positions, commits and blocking polls."""

from __future__ import annotations

import time
from collections.abc import Sequence

from cta.memory.groups import Subscription, TopicPartition
from cta.memory.protocols import GroupCoordinator
from cta.ports import Record


class MemoryConsumer:
    """Joins its group on ``subscribe``; the group rebalances when members come and go or a
    topic appears. A newly assigned partition starts at the group's committed offset, else at
    the earliest offset (auto.offset.reset=earliest), or at 0 with ``from_beginning``. A
    partition that comes back resumes after what this member returned from it, unless the
    group committed further meanwhile (as ``KafkaConsumer`` does)."""

    def __init__(self, broker: GroupCoordinator, group_id: str, *, client_id: str = "cta") -> None:
        self.group_id = group_id
        self.client_id = client_id
        self._broker = broker
        self._member_id: int | None = None
        self._from_beginning = False
        self._generation: tuple[int, int] = (-1, -1)
        self._positions: dict[TopicPartition, int] = {}
        # Positions of partitions that moved to another member, in case they come back.
        self._reached: dict[TopicPartition, int] = {}
        self._order: list[TopicPartition] = []
        self._next_start = 0
        self._buffer: list[Record] = []
        self._closed = False

    def subscribe(self, topics: Sequence[str], *, from_beginning: bool = False) -> None:
        if self._closed:
            raise RuntimeError("consumer is closed")
        subscription = Subscription.of(topics)
        with self._broker.lock:
            if self._member_id is not None:
                self._broker.leave_group(self.group_id, self._member_id)
            self._from_beginning = from_beginning
            self._positions.clear()
            self._reached.clear()
            self._buffer.clear()
            self._member_id = self._broker.join_group(self.group_id, subscription)

    def assignment(self) -> list[TopicPartition]:
        with self._broker.lock:
            self._sync()
            return list(self._order)

    def poll(self, timeout: float = 0.0) -> Record | None:
        if not self._buffer:
            self._buffer = self.consume(500, timeout)
            self._buffer.reverse()
        return self._buffer.pop() if self._buffer else None

    def consume(self, max_records: int = 500, timeout: float = 0.0) -> list[Record]:
        if self._member_id is None or self._closed:
            raise RuntimeError("consumer is not subscribed")
        if self._buffer:  # records poll() fetched but did not hand out yet come first
            taken = self._buffer[::-1][:max_records]
            del self._buffer[len(self._buffer) - len(taken) :]
            return taken
        deadline = time.monotonic() + timeout
        broker = self._broker
        with broker.lock:
            while True:
                self._sync()
                records = self._fetch(max_records)
                remaining = deadline - time.monotonic()
                if records or remaining <= 0 or self._closed:
                    return records
                broker.data_arrived.wait(remaining)

    def commit(self) -> None:
        """Commit the position after everything returned so far (records a ``poll`` fetched
        but has not returned yet are not committed)."""
        with self._broker.lock:
            self._broker.commit_offsets(self.group_id, self._returned_positions().items())

    def _returned_positions(self) -> dict[TopicPartition, int]:
        """Positions after everything handed out (records ``poll`` buffered do not count)."""
        positions = dict(self._positions)
        for record in self._buffer:
            key = (record.topic, record.partition)
            positions[key] = min(positions.get(key, record.offset), record.offset)
        return positions

    def position(self, topic: str, partition: int) -> int | None:
        with self._broker.lock:
            self._sync()
            return self._returned_positions().get((topic, partition))

    def transaction_offsets(self) -> tuple[str, int | None, dict[TopicPartition, int]]:
        """What a transactional producer commits for this member: its group, its member id
        (the group fences a member that no longer holds the partitions) and its positions."""
        with self._broker.lock:
            return self.group_id, self._member_id, self._returned_positions()

    def close(self) -> None:
        with self._broker.lock:
            if self._member_id is not None and not self._closed:
                self._broker.leave_group(self.group_id, self._member_id)
            self._closed = True

    def _sync(self) -> None:
        """Pick up a rebalance: keep positions of retained partitions, start new ones, remember
        where moved ones were."""
        assert self._member_id is not None
        broker = self._broker
        generation = broker.generation(self.group_id)
        if generation == self._generation:
            return
        self._generation = generation
        assigned = broker.assignment(self.group_id, self._member_id)
        positions: dict[TopicPartition, int] = {}
        for tp in assigned:
            committed = broker.committed_offset(self.group_id, *tp)
            if tp in self._positions:
                positions[tp] = self._positions[tp]
            elif tp in self._reached:
                positions[tp] = max(self._reached.pop(tp), committed or 0)
            elif self._from_beginning:
                positions[tp] = 0
            else:
                positions[tp] = committed or 0
        for tp, position in self._positions.items():
            if tp not in positions:
                self._reached[tp] = position
        # Records buffered for partitions that moved away are no longer ours to hand out.
        self._buffer = [r for r in self._buffer if (r.topic, r.partition) in positions]
        self._positions = positions
        self._order = list(assigned)

    def _fetch(self, max_records: int) -> list[Record]:
        order = self._order
        if not order:
            return []
        # Start at a different partition each time so no partition starves another.
        start = self._next_start % len(order)
        self._next_start = start + 1
        broker = self._broker
        positions = self._positions
        fetched: list[Record] = []
        for tp in order[start:] + order[:start]:
            position = positions[tp]
            log = broker.partition_log(*tp)
            if position >= log.stable_offset:  # read_committed: nothing of an open transaction
                continue
            records, positions[tp] = log.read(position, max_records - len(fetched))
            fetched.extend(records)
            if len(fetched) >= max_records:
                break
        return fetched
