"""Station detail for the board's panel: hourly entries (TURNSTILE_HOURLY) and the typical day.

``HourlyCounts`` keeps the latest count of each station's event-time hour windows, as the feed
reads them from TURNSTILE_HOURLY; ``entries_on(station, day)`` spreads them over the 24 local
hours (Chicago) of a simulated day. ``TypicalDay`` gives the chosen month's typical curve.

**Assumption (stated, since the data has no hourly figures):** the ridership fixtures give each
station's *average daily* entries per day type for a month (``fixtures/l/ridership.csv``, via
``cta.data_l``). The typical entries of hour ``h`` are that daily figure times the share of a
day's entries made in local hour ``h`` from our hour-of-day profile, ``fixtures/hourly_curve.csv``
(``cta.data.load_hourly_curve``): one profile for every station and day type, peaking in the
morning and evening rush. It is the same profile the simulation draws entries from, so a
simulated day's entries scatter around the typical curve.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from cta.dashboard.layout import BoardLayout
from cta.domain.clock import CHICAGO
from cta.domain.lines import Network
from cta.domain.ridership import HOURS_PER_DAY, DayType, DayTypeRidership, HourlyCurve, day_type

KEEP_WINDOWS = timedelta(days=2)  # per station, behind its newest window (the query's retention)
HOUR_MS = 3_600_000


def chicago_day(epoch_ms: int) -> date:
    return datetime.fromtimestamp(epoch_ms / 1000, CHICAGO).date()


class HourlyCounts:
    """Station id -> window start (epoch ms) -> the window's latest count. Not thread-safe:
    the dashboard state holds its lock around every call."""

    def __init__(self) -> None:
        self._windows: dict[int, dict[int, int]] = {}

    def apply(self, station_id: int, window_start_ms: int, count: int) -> bool:
        """Record a window's count; returns whether it changed. Windows more than
        ``KEEP_WINDOWS`` behind the station's newest are dropped (bounded memory)."""
        windows = self._windows.setdefault(station_id, {})
        newest = max(windows, default=window_start_ms)
        horizon = max(newest, window_start_ms) - int(KEEP_WINDOWS.total_seconds() * 1000)
        if window_start_ms < horizon or windows.get(window_start_ms) == count:
            return False
        windows[window_start_ms] = count
        for start in [s for s in windows if s < horizon]:
            del windows[start]
        return True

    def newest_ms(self) -> int | None:
        """The start of the newest window of any station."""
        return max((max(w) for w in self._windows.values() if w), default=None)

    def entries_on(self, station_id: int, day: date) -> list[int]:
        """Entries per local hour 0-23 of ``day`` (Chicago). On the day clocks fall back, the
        repeated hour's two windows add up in one slot; on the day they spring forward, the
        skipped hour stays 0."""
        hours = [0] * HOURS_PER_DAY
        for start, count in self._windows.get(station_id, {}).items():
            moment = datetime.fromtimestamp(start / 1000, CHICAGO)
            if moment.date() == day:
                hours[moment.hour] += count
        return hours


@dataclass(frozen=True, slots=True)
class TypicalDay:
    """The chosen month's average daily entries per station and day type, and the profile."""

    ridership: Mapping[int, DayTypeRidership]
    curve: HourlyCurve

    @classmethod
    def from_network(cls, network: Network) -> TypicalDay:
        return cls(network.ridership, network.curve)

    def curve_for(self, station_id: int, kind: DayType) -> list[float]:
        """Typical entries per local hour: daily average x the hour's share (rounded to 0.1);
        zeros for a station without figures."""
        figures = self.ridership.get(station_id)
        daily = 0.0 if figures is None else figures.daily(kind)
        return [round(daily * share, 1) for share in self.curve.shares]


def hourly_block(
    counts: HourlyCounts, typical: TypicalDay | None, station_id: int, day: date
) -> dict[str, Any]:
    """The panel's ``hourly`` object for ``day``."""
    kind = day_type(day)
    return {
        "day": day.isoformat(),
        "day_type": kind.value,
        "entries": counts.entries_on(station_id, day),
        "typical": (
            [0.0] * HOURS_PER_DAY if typical is None else typical.curve_for(station_id, kind)
        ),
    }


Slot = Mapping[str, str]


def train_entry(slot: Slot, line: str, station_id: int, *, at: bool) -> dict[str, Any]:
    return {
        "train_id": slot["train_id"],
        "line": line,
        "status": slot.get("status", ""),
        "at": at,
        "station_id": station_id,
    }


def approaching_neighbour(order: list[int], station_id: int, direction: str) -> int | None:
    """The station a train comes from to reach ``station_id`` in ``direction``: ``b`` runs
    towards the last station in running order, so it comes from the one before; ``a`` from
    the one after. Where a line branches, the neighbour in its running order may be on the
    other branch, so a train there can be listed as approaching: trains *at* the station are
    always right."""
    if station_id not in order:
        return None
    index = order.index(station_id) + (-1 if direction == "b" else 1)
    return order[index] if 0 <= index < len(order) else None


class StationRow(Protocol):
    """What the board keeps per (line, station): its order and the train in each direction."""

    @property
    def station_id(self) -> int: ...

    @property
    def order(self) -> int: ...

    def slot(self, direction: str) -> Slot | None: ...


def trains_by_direction(
    layout: BoardLayout | None,
    line_rows: Callable[[str], Mapping[int, StationRow]],
    lines: Sequence[str],
    station_id: int,
) -> dict[str, list[dict[str, Any]]]:
    """Direction name -> the trains at ``station_id`` and approaching it, line by line: per
    direction the train at the station, then the one at the station before it. A train is filed
    under the heading its arrival named, else the layout's name for the direction."""
    trains: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        rows = line_rows(line)
        shape = None if layout is None else layout.line(line)
        order = (
            list(shape.station_ids)
            if shape is not None
            else [
                r.station_id for r in sorted(rows.values(), key=lambda r: (r.order, r.station_id))
            ]
        )
        for direction in ("a", "b"):
            named = direction if shape is None else shape.directions.get(direction, direction)
            neighbour = approaching_neighbour(order, station_id, direction)
            for sid, at in ((station_id, True), (neighbour, False)):
                row = None if sid is None else rows.get(sid)
                slot = None if row is None else row.slot(direction)
                if row is not None and slot is not None:
                    heading = slot.get("heading") or named
                    entry = train_entry(slot, line, row.station_id, at=at)
                    trains.setdefault(heading, []).append(entry)
    return trains
