"""Turnstile ridership: day types, the hourly curve and entries per simulated step.

Bugs of the original simulation that this module fixes on purpose:

- **Divisor 300.** The original divided an hour's riders by the step length in *seconds* (300 for a
  5-minute step) instead of by the number of steps per hour (12), so a station saw 1/25 of its
  riders and the day's totals were dominated by the noise floor. Here a step gets
  ``daily x hour share x (step / 1 hour)``.
- **Always weekday.** Its day-type test (``dow >= 0 or dow < 5``) was always true, so weekend
  ridership was never used. Here ``day_type`` follows the calendar.
- **Saturday/Sunday swap.** Its dead weekend branch picked Saturday figures on Sundays. Here
  Saturday uses ``saturday`` and Sunday (and CTA holidays) uses ``sunday_holiday``.
- **Biased noise.** Its noise (uniform -5..4, then clamped at 0) added about one rider per step even
  at night. Here the noise is symmetric and never larger than the base count, so the mean is kept
  and no clamp is needed.

Holidays: CTA runs its Sunday schedule on New Year's Day, Memorial Day, Independence Day, Labor Day,
Thanksgiving and Christmas; those dates (the days themselves, not weekday "observed" substitutes)
count as ``sunday_holiday``.
"""

from __future__ import annotations

import calendar
import functools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

HOURS_PER_DAY = 24
ONE_HOUR = timedelta(hours=1)
DEFAULT_NOISE_BOUND = 3


class DayType(StrEnum):
    WEEKDAY = "weekday"
    SATURDAY = "saturday"
    SUNDAY_HOLIDAY = "sunday_holiday"


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based) given weekday of a month; n = -1 for the last one."""
    days = [
        day
        for day in range(1, calendar.monthrange(year, month)[1] + 1)
        if date(year, month, day).weekday() == weekday
    ]
    return date(year, month, days[n - 1 if n > 0 else n])


@functools.cache
def cta_holiday_names(year: int) -> Mapping[date, str]:
    """The days CTA runs its Sunday/holiday schedule, besides Sundays, with their names."""
    return {
        date(year, 1, 1): "New Year's Day",
        _nth_weekday(year, 5, calendar.MONDAY, -1): "Memorial Day",
        date(year, 7, 4): "Independence Day",
        _nth_weekday(year, 9, calendar.MONDAY, 1): "Labor Day",
        _nth_weekday(year, 11, calendar.THURSDAY, 4): "Thanksgiving",
        date(year, 12, 25): "Christmas",
    }


@functools.cache
def cta_holidays(year: int) -> frozenset[date]:
    """The days CTA runs its Sunday/holiday schedule, besides Sundays."""
    return frozenset(cta_holiday_names(year))


def _as_date(day: date) -> date:
    return day.date() if isinstance(day, datetime) else day


def holiday_name(day: date) -> str | None:
    """The CTA holiday ``day`` is, if it is one (a datetime is read as its own date)."""
    day = _as_date(day)
    return cta_holiday_names(day.year).get(day)


def day_type(day: date) -> DayType:
    """Monday-Friday weekday, Saturday saturday, Sunday and CTA holidays sunday_holiday."""
    day = _as_date(day)
    if day.weekday() == calendar.SUNDAY or day in cta_holidays(day.year):
        return DayType.SUNDAY_HOLIDAY
    if day.weekday() == calendar.SATURDAY:
        return DayType.SATURDAY
    return DayType.WEEKDAY


@dataclass(frozen=True, slots=True)
class DayTypeRidership:
    """Average daily entries of one station for each day type."""

    weekday: float
    saturday: float
    sunday_holiday: float

    def __post_init__(self) -> None:
        for name in ("weekday", "saturday", "sunday_holiday"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} ridership must be a finite number >= 0, got {value!r}")

    def daily(self, kind: DayType) -> float:
        if kind is DayType.WEEKDAY:
            return self.weekday
        if kind is DayType.SATURDAY:
            return self.saturday
        return self.sunday_holiday


@dataclass(frozen=True, slots=True)
class HourlyCurve:
    """Share of a day's entries made in each local hour 0-23."""

    shares: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.shares) != HOURS_PER_DAY:
            raise ValueError(f"an hourly curve needs 24 shares, got {len(self.shares)}")
        for hour, share in enumerate(self.shares):
            if not (math.isfinite(share) and 0.0 <= share <= 1.0):
                raise ValueError(f"share for hour {hour} must be within [0, 1], got {share!r}")

    def share(self, hour: int) -> float:
        if not 0 <= hour < HOURS_PER_DAY:
            raise ValueError(f"hour must be 0-23, got {hour}")
        return self.shares[hour]


class TurnstileModel:
    """Riders entering each station during one simulated step.

    ``expected = daily(day type) x share(hour) x (step / 1 hour) / lines at the station``; a
    station served by two simulated lines (Clark/Lake, Roosevelt) has one turnstile per line, each
    taking half, so the station's total matches its ridership. ``entries`` rounds ``expected``
    stochastically (unbiased) and adds symmetric integer noise of at most ``noise_bound`` riders,
    narrowed near zero so the count is never negative. Day type and hour come from ``at``, which
    should be Chicago local time.
    """

    def __init__(
        self,
        ridership: Mapping[int, DayTypeRidership],
        curve: HourlyCurve,
        step: timedelta,
        lines_per_station: Mapping[int, int],
        *,
        noise_bound: int = DEFAULT_NOISE_BOUND,
    ) -> None:
        if step <= timedelta(0):
            raise ValueError(f"step must be positive, got {step}")
        if noise_bound < 0:
            raise ValueError(f"noise_bound must be >= 0, got {noise_bound}")
        missing = sorted(set(lines_per_station) - set(ridership))
        if missing:
            raise ValueError(f"no ridership for station(s) {missing}")
        if any(count < 1 for count in lines_per_station.values()):
            raise ValueError("every station must be served by at least one line")
        self._ridership = dict(ridership)
        self._curve = curve
        self._step_fraction = step / ONE_HOUR
        self._lines_per_station = dict(lines_per_station)
        self.noise_bound = noise_bound

    @classmethod
    def for_stations(
        cls,
        ridership: Mapping[int, DayTypeRidership],
        curve: HourlyCurve,
        step: timedelta,
        station_ids_per_line: Sequence[Sequence[int]],
        *,
        noise_bound: int = DEFAULT_NOISE_BOUND,
    ) -> TurnstileModel:
        """Build from the station ids of each line, counting the lines serving each station."""
        counts: dict[int, int] = {}
        for station_ids in station_ids_per_line:
            for station_id in set(station_ids):
                counts[station_id] = counts.get(station_id, 0) + 1
        return cls(ridership, curve, step, counts, noise_bound=noise_bound)

    def lines_at(self, station_id: int) -> int:
        return self._lines_per_station[station_id]

    def expected(self, station_id: int, at: datetime) -> float:
        """Mean riders entering one line's turnstile at ``station_id`` in the step at ``at``."""
        daily = self._ridership[station_id].daily(day_type(at.date()))
        share = self._curve.share(at.hour)
        return daily * share * self._step_fraction / self._lines_per_station[station_id]

    def entries(self, station_id: int, at: datetime, rng: random.Random) -> int:
        expected = self.expected(station_id, at)
        base = math.floor(expected)
        if rng.random() < expected - base:
            base += 1
        reach = min(self.noise_bound, base)
        return base + rng.randint(-reach, reach)
