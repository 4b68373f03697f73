"""The ``stations`` table in memory, with the ordered change feed a CDC connector streams.

Every write that changes the table appends a ``Change`` (like a row in Postgres' WAL): its
position, the operation, the row after and the row before. Writes that change nothing append
nothing, so loading the same rows twice is invisible downstream, as with the Postgres loader.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from cta.ports import StationRow

Operation = Literal["insert", "update", "delete"]


@dataclass(frozen=True, slots=True)
class Change:
    position: int
    op: Operation
    row: StationRow | None
    before: StationRow | None

    @property
    def stop_id(self) -> int:
        present = self.row if self.row is not None else self.before
        assert present is not None, "a change always carries a row or the row before"
        return present.stop_id


class MemoryStationDatabase:
    """The StationDatabase port in memory (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[int, StationRow] = {}
        self._changes: list[Change] = []
        self.schema_created = False

    def create_schema(self) -> None:
        self.schema_created = True

    def load(self, rows: Iterable[StationRow]) -> int:
        """Upsert every row; returns how many rows were inserted or changed."""
        with self._lock:
            return sum(self._upsert(row) for row in rows)

    def upsert(self, row: StationRow) -> None:
        with self._lock:
            self._upsert(row)

    def delete(self, stop_id: int) -> None:
        with self._lock:
            before = self._rows.pop(stop_id, None)
            if before is not None:
                self._append("delete", None, before)

    def rows(self) -> list[StationRow]:
        with self._lock:
            return [self._rows[key] for key in sorted(self._rows)]

    def snapshot(self) -> tuple[list[StationRow], int]:
        """A consistent snapshot: the rows, and the feed position it reflects."""
        with self._lock:
            return [self._rows[key] for key in sorted(self._rows)], len(self._changes)

    def changes(self, after: int = 0, limit: int | None = None) -> list[Change]:
        """Changes with a position greater than ``after``, in order."""
        with self._lock:
            end = len(self._changes) if limit is None else min(len(self._changes), after + limit)
            return self._changes[max(after, 0) : end]

    @property
    def position(self) -> int:
        with self._lock:
            return len(self._changes)

    def _upsert(self, row: StationRow) -> int:
        before = self._rows.get(row.stop_id)
        if before == row:
            return 0
        self._rows[row.stop_id] = row
        self._append("insert" if before is None else "update", row, before)
        return 1

    def _append(self, op: Operation, row: StationRow | None, before: StationRow | None) -> None:
        # Positions start at 1 so that 0 means "before the first change".
        self._changes.append(Change(len(self._changes) + 1, op, row, before))
