"""Turnstile counting: one event is one rider entry, so a station's total is its event count.

The KSQL statement ``sql/ksql/02_turnstile_summary.sql``, the in-process KSQL engine and any other
runner agree with these functions; ``summary_value`` is the JSON row the dashboard reads from
``TURNSTILE_SUMMARY`` (upper-case field names, as ksqlDB writes them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


def count_entries(station_ids: Iterable[int]) -> dict[int, int]:
    """Entries per station id."""
    return dict(Counter(station_ids))


def summary_value(station_id: int, count: int) -> dict[str, int]:
    """One ``TURNSTILE_SUMMARY`` row value: ``{"STATION_ID": 40380, "COUNT": 3}``."""
    return {"STATION_ID": station_id, "COUNT": count}


class TurnstileCounter(Generic[K]):
    """Running entry counts per station id (or any grouping key, as the KSQL engine uses it),
    restorable from previously published totals."""

    __slots__ = ("_counts",)

    def __init__(self, initial: Mapping[K, int] | None = None) -> None:
        self._counts: dict[K, int] = dict(initial or {})

    def add(self, station_id: K) -> int:
        """Count one entry; returns the station's new total."""
        total = self._counts.get(station_id, 0) + 1
        self._counts[station_id] = total
        return total

    def restore(self, station_id: K, count: int) -> None:
        """Set a station's total (from a published summary row)."""
        if count < 0:
            raise ValueError(f"negative count {count} for station {station_id}")
        self._counts[station_id] = count

    def forget(self, station_id: K) -> None:
        """Drop a station's total (a deleted summary row)."""
        self._counts.pop(station_id, None)

    def count(self, station_id: K) -> int:
        return self._counts.get(station_id, 0)

    def counts(self) -> dict[K, int]:
        return dict(self._counts)

    def total(self) -> int:
        return sum(self._counts.values())
