"""Simulated time and pacing. Pure: nothing here sleeps or reads the real clock.

Simulated time is Chicago local time. The clock counts steps from an instant, so that stepping
across a daylight-saving change moves by exactly ``step`` of real elapsed time (adding a timedelta
to an aware datetime in Python is wall-clock arithmetic, which would not).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

CHICAGO = ZoneInfo("America/Chicago")


def to_chicago(moment: datetime) -> datetime:
    """An aware datetime in Chicago time; a naive one is read as Chicago wall time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=CHICAGO)
    return moment.astimezone(CHICAGO)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch (a naive moment is read as Chicago wall time)."""
    return round(to_chicago(moment).timestamp() * 1000)


class SimClock:
    """``now`` starts at ``start`` and moves by ``step`` on each ``advance()``."""

    def __init__(self, start: datetime, step: timedelta) -> None:
        if step <= timedelta(0):
            raise ValueError(f"step must be positive, got {step}")
        self._start_utc = to_chicago(start).astimezone(UTC)
        self._step = step
        self._ticks = 0

    @property
    def step(self) -> timedelta:
        return self._step

    @property
    def ticks(self) -> int:
        """Steps taken since the start."""
        return self._ticks

    @property
    def now(self) -> datetime:
        return (self._start_utc + self._ticks * self._step).astimezone(CHICAGO)

    @property
    def now_ms(self) -> int:
        return epoch_ms(self.now)

    def advance(self) -> datetime:
        self._ticks += 1
        return self.now


def real_seconds_per_step(step: timedelta, speed: float | None) -> float:
    """How long one simulated step should take in real time at ``speed``.

    ``None`` runs as fast as possible (0 s); 1.0 is real time; N runs N times faster (the
    original's 5-minute step every 5 s is ``speed=60``).
    """
    if speed is None:
        return 0.0
    if not speed > 0:
        raise ValueError(f"speed must be positive or None, got {speed!r}")
    return step.total_seconds() / speed


def remaining_wait(step: timedelta, speed: float | None, elapsed_seconds: float) -> float:
    """Real seconds still to wait after a step that took ``elapsed_seconds`` to compute."""
    return max(0.0, real_seconds_per_step(step, speed) - elapsed_seconds)
