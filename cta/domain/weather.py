"""Hourly Chicago weather: a bounded, mean-reverting random walk per season.

Seasons by calendar month (1-12), as the original intended (its sets were 0-based, so it shifted
every month by one and treated December as mild):

- winter: Jan, Feb, Mar, Apr, Nov, Dec - starts at 40 F, drifts down;
- summer: Jul, Aug, Sep - starts at 85 F, drifts up;
- mild: May, Jun, Oct - starts at 70 F, no drift.

Each hour the temperature moves by ``triangular(-10, +10, mode)`` (mode -1 winter, +1 summer,
0 mild; a mean drift of mode/3 F per hour) plus a pull of ``REVERSION`` times the distance back to
the season's anchor (its start temperature). The original's walk had no pull and its clamp bounded
the delta, not the temperature, so it wandered without limit. With the pull the temperature
stays mostly within +/-20 F of anchor + 10 x drift (stationary s.d. ~9.4 F), and it is clamped to
``MIN_TEMPERATURE_F``..``MAX_TEMPERATURE_F``, just beyond Chicago's recorded extremes (-27 F and
105 F). The status is drawn uniformly from ``WeatherStatus``, independent of temperature, as in
the original.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cta.domain.clock import epoch_ms
from cta.domain.events import WeatherReading, WeatherStatus

MIN_TEMPERATURE_F = -30.0
MAX_TEMPERATURE_F = 110.0
MAX_HOURLY_CHANGE_F = 10.0
REVERSION = 0.1


class Season(StrEnum):
    WINTER = "winter"
    SUMMER = "summer"
    MILD = "mild"


@dataclass(frozen=True, slots=True)
class SeasonProfile:
    anchor_f: float
    drift_mode_f: float


PROFILES: dict[Season, SeasonProfile] = {
    Season.WINTER: SeasonProfile(anchor_f=40.0, drift_mode_f=-1.0),
    Season.SUMMER: SeasonProfile(anchor_f=85.0, drift_mode_f=1.0),
    Season.MILD: SeasonProfile(anchor_f=70.0, drift_mode_f=0.0),
}

_WINTER_MONTHS = frozenset({1, 2, 3, 4, 11, 12})
_SUMMER_MONTHS = frozenset({7, 8, 9})


def season(month: int) -> Season:
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1-12, got {month}")
    if month in _WINTER_MONTHS:
        return Season.WINTER
    if month in _SUMMER_MONTHS:
        return Season.SUMMER
    return Season.MILD


def _clamp(value: float) -> float:
    return min(max(value, MIN_TEMPERATURE_F), MAX_TEMPERATURE_F)


class WeatherModel:
    """One reading per simulated hour. The first reading is the start month's anchor; each later
    one is one hourly step of the walk, using the season of the reading's own month."""

    def __init__(self, start_month: int, rng: random.Random) -> None:
        self._temperature = PROFILES[season(start_month)].anchor_f
        self._rng = rng
        self._started = False

    @property
    def temperature(self) -> float:
        return self._temperature

    def next_hour(self, month: int) -> float:
        """Advance the walk by one hour in ``month``'s season; returns the new temperature."""
        profile = PROFILES[season(month)]
        change = self._rng.triangular(
            -MAX_HOURLY_CHANGE_F, MAX_HOURLY_CHANGE_F, profile.drift_mode_f
        )
        pull = REVERSION * (profile.anchor_f - self._temperature)
        self._temperature = _clamp(self._temperature + change + pull)
        return self._temperature

    def reading(self, at: datetime) -> WeatherReading:
        """The reading for the hour at ``at`` (local time), stamped with ``at`` in epoch ms."""
        if self._started:
            self.next_hour(at.month)
        self._started = True
        status = self._rng.choice(list(WeatherStatus))
        return WeatherReading(
            temperature=round(self._temperature, 1),
            status=status,
            timestamp_ms=epoch_ms(at),
        )
