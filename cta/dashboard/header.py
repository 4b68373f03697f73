"""The board's header: which simulated moment the numbers describe, and since when they count.

Pure. Every moment here is an event time carried in the Avro values (epoch ms of the simulated
clock), shown in Chicago time; neither the server's nor the browser's clock says what time the
board describes (the simulation runs hours away from the wall clock, and many times faster). The
day type is the one the ridership model uses (``cta.domain.ridership``), so the header names the
kind of day that drives the turnstile counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cta.domain.clock import CHICAGO
from cta.domain.ridership import DayType, day_type, holiday_name

DAY_TYPE_LABELS: dict[DayType, str] = {
    DayType.WEEKDAY: "Weekday",
    DayType.SATURDAY: "Saturday",
    DayType.SUNDAY_HOLIDAY: "Sunday/holiday",
}
# English names, whatever the process locale (strftime's %a and %b follow it).
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def chicago_time(timestamp_ms: int) -> datetime:
    """An event time (epoch ms) as an aware Chicago datetime."""
    return datetime.fromtimestamp(timestamp_ms / 1000, CHICAGO)


def _day(moment: datetime) -> str:
    return f"{_WEEKDAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def simulated_clock(timestamp_ms: int) -> dict[str, Any]:
    """The header's clock for the latest event time: Chicago time, date, day type."""
    moment = chicago_time(timestamp_ms)
    kind = day_type(moment)
    return {
        "timestamp": timestamp_ms,
        "iso": moment.isoformat(timespec="seconds"),
        "time": f"{moment:%H:%M}",
        "zone": moment.tzname(),
        "date": _day(moment),
        "day_type": kind.value,
        "day_label": DAY_TYPE_LABELS[kind],
        "holiday": holiday_name(moment),
    }


UNKNOWN_START = "entries since an unknown time"


def counts_since(first_ms: int | None, latest_ms: int | None) -> dict[str, Any]:
    """Since when the turnstile counts count: the earliest event time counted. The label gives
    the time alone when it is the same Chicago day as the latest event, else the date too.
    None: some count includes entries of unknown time (summaries from before FIRST_TIMESTAMP)."""
    if first_ms is None:
        return {"timestamp": None, "iso": None, "label": UNKNOWN_START}
    moment = chicago_time(first_ms)
    same_day = latest_ms is not None and chicago_time(latest_ms).date() == moment.date()
    when = f"{moment:%H:%M}" if same_day else f"{_day(moment)} {moment:%H:%M}"
    return {
        "timestamp": first_ms,
        "iso": moment.isoformat(timespec="seconds"),
        "label": f"entries since {when}",
    }


def header(latest_ms: int | None, first_counted: Iterable[int | None]) -> dict[str, Any]:
    """The snapshot's ``header``: ``clock`` (None before any event) and ``counts_since`` (None
    before any count), from the latest event time and each station's earliest counted entry."""
    starts = list(first_counted)
    since = None
    if starts:
        known = [start for start in starts if start is not None]
        earliest = min(known) if len(known) == len(starts) else None
        since = counts_since(earliest, latest_ms)
    return {
        "clock": None if latest_ms is None else simulated_clock(latest_ms),
        "counts_since": since,
    }
