"""One partition's log: offsets, Kafka-style compaction, and transactions' visibility."""

from __future__ import annotations

from cta.ports import Record


class PartitionLog:
    """Records indexed by offset. In a compacted log a superseded record leaves a hole (``None``),
    so offsets keep their gaps as in Kafka; tombstones stay until ``drop_tombstones``.

    A transaction's records are appended as they are produced, as a broker does, but stay
    invisible to (read_committed) consumers: reads stop at the last stable offset, the first
    offset of the oldest transaction still open here. A commit or abort marker takes an offset
    of its own (a hole no consumer returns); an aborted transaction's records become holes. A
    compacted log lets a transactional record supersede its key only once it commits."""

    __slots__ = ("compacted", "entries", "has_holes", "latest_by_key", "open_transactions")

    def __init__(self, *, compacted: bool = False) -> None:
        self.compacted = compacted
        self.entries: list[Record | None] = []
        self.latest_by_key: dict[bytes, int] = {}
        self.has_holes = compacted
        # Open transaction (its serial) -> the first offset it wrote here.
        self.open_transactions: dict[int, int] = {}

    @property
    def end_offset(self) -> int:
        """The high watermark: open transactions' records included."""
        return len(self.entries)

    @property
    def stable_offset(self) -> int:
        """Where read_committed consumers stop: the oldest open transaction's first offset."""
        if self.open_transactions:
            return min(self.open_transactions.values())
        return len(self.entries)

    def append(self, record: Record, *, transaction: int | None = None) -> None:
        if transaction is not None:
            self.open_transactions.setdefault(transaction, len(self.entries))
        elif self.compacted and record.key is not None:
            self._supersede(record.key, len(self.entries))
        self.entries.append(record)

    def _supersede(self, key: bytes, offset: int) -> None:
        previous = self.latest_by_key.get(key)
        if previous is not None and previous > offset:  # a later record has the key already
            self.entries[offset] = None
            return
        if previous is not None:
            self.entries[previous] = None
        self.latest_by_key[key] = offset

    def end_transaction(self, transaction: int, offsets: list[int], *, committed: bool) -> None:
        """Resolve a transaction's records here and write its marker."""
        self.open_transactions.pop(transaction, None)
        for offset in offsets:
            record = self.entries[offset]
            if record is None:
                continue
            if not committed:
                self.entries[offset] = None
            elif self.compacted and record.key is not None:
                self._supersede(record.key, offset)
        self.entries.append(None)  # the control record
        self.has_holes = True

    def read(self, position: int, max_records: int) -> tuple[list[Record], int]:
        """Committed records from ``position`` on (at most ``max_records`` offsets, up to the
        stable offset); the next position."""
        limit = min(position + max_records, self.stable_offset)
        chunk = self.entries[position:limit]
        next_position = max(position, limit)
        if self.has_holes:
            return [r for r in chunk if r is not None], next_position
        return chunk, next_position  # type: ignore[return-value]  # no holes in this log

    def records(self) -> list[Record]:
        return [r for r in self.entries[: self.stable_offset] if r is not None]

    def live_count(self) -> int:
        if not self.has_holes:
            return len(self.entries)
        return sum(1 for r in self.entries if r is not None)

    def drop_tombstones(self) -> int:
        """What the log cleaner does once delete.retention.ms has passed; returns keys removed."""
        dropped = 0
        for key, offset in list(self.latest_by_key.items()):
            record = self.entries[offset]
            if record is not None and record.value is None:
                self.entries[offset] = None
                del self.latest_by_key[key]
                dropped += 1
        return dropped
