"""One partition's log: offsets, and Kafka-style compaction for compacted topics."""

from __future__ import annotations

from cta.ports import Record


class PartitionLog:
    """Records indexed by offset. In a compacted log a superseded record leaves a hole (``None``),
    so offsets keep their gaps as in Kafka; tombstones stay until ``drop_tombstones``."""

    __slots__ = ("compacted", "entries", "latest_by_key")

    def __init__(self, *, compacted: bool = False) -> None:
        self.compacted = compacted
        self.entries: list[Record | None] = []
        self.latest_by_key: dict[bytes, int] = {}

    @property
    def end_offset(self) -> int:
        return len(self.entries)

    def append(self, record: Record) -> None:
        if self.compacted and record.key is not None:
            previous = self.latest_by_key.get(record.key)
            if previous is not None:
                self.entries[previous] = None
            self.latest_by_key[record.key] = len(self.entries)
        self.entries.append(record)

    def read(self, position: int, max_records: int) -> tuple[list[Record], int]:
        """Records from ``position`` on (at most ``max_records`` offsets); the next position."""
        chunk = self.entries[position : position + max_records]
        next_position = position + len(chunk)
        if self.compacted:
            return [r for r in chunk if r is not None], next_position
        return chunk, next_position  # type: ignore[return-value]  # no holes outside compaction

    def records(self) -> list[Record]:
        return [r for r in self.entries if r is not None]

    def live_count(self) -> int:
        if not self.compacted:
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
