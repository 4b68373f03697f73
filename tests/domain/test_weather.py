from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import mean

import pytest

from cta.domain.clock import CHICAGO, epoch_ms
from cta.domain.events import WeatherStatus
from cta.domain.weather import (
    MAX_TEMPERATURE_F,
    MIN_TEMPERATURE_F,
    Season,
    WeatherModel,
    season,
)


@pytest.mark.parametrize(
    ("month", "expected"),
    [
        *((m, Season.WINTER) for m in (1, 2, 3, 4, 11, 12)),
        *((m, Season.SUMMER) for m in (7, 8, 9)),
        *((m, Season.MILD) for m in (5, 6, 10)),
    ],
)
def test_season_by_calendar_month(month: int, expected: Season) -> None:
    assert season(month) is expected


@pytest.mark.parametrize("month", [0, 13])
def test_month_out_of_range_is_refused(month: int) -> None:
    with pytest.raises(ValueError, match="month must be 1-12"):
        season(month)


@pytest.mark.parametrize(("month", "start"), [(1, 40.0), (12, 40.0), (7, 85.0), (10, 70.0)])
def test_first_reading_is_the_seasons_start_temperature(month: int, start: float) -> None:
    at = datetime(2024, month, 15, 0, 0, tzinfo=CHICAGO)
    reading = WeatherModel(month, random.Random(0)).reading(at)
    assert reading.temperature == start
    assert reading.timestamp_ms == epoch_ms(at)


def hourly_temperatures(month: int, hours: int, seed: int) -> list[float]:
    model = WeatherModel(month, random.Random(seed))
    start = datetime(2023, month, 1, 0, 0, tzinfo=CHICAGO)
    return [model.reading(start + timedelta(hours=h)).temperature for h in range(hours)]


def test_winter_drifts_down_summer_up_mild_stays() -> None:
    # Month stays fixed by calling next_hour directly, so every hour uses one season.
    def long_run_mean(month: int) -> float:
        model = WeatherModel(month, random.Random(month))
        return mean(model.next_hour(month) for _ in range(20000))

    assert 33.0 < long_run_mean(1) < 39.0  # anchor 40, drift -1/3 F per hour
    assert 86.0 < long_run_mean(7) < 91.0  # anchor 85, drift +1/3 F per hour
    assert 68.5 < long_run_mean(5) < 71.5


def test_walk_stays_bounded_over_long_runs() -> None:
    for month in (1, 7, 5):
        model = WeatherModel(month, random.Random(month))
        temperatures = [model.next_hour(month) for _ in range(50000)]
        assert min(temperatures) >= MIN_TEMPERATURE_F
        assert max(temperatures) <= MAX_TEMPERATURE_F
        # Mean reversion keeps it near the season, far inside the clamp.
        anchor = {1: 40.0, 7: 85.0, 5: 70.0}[month]
        assert max(abs(t - anchor) for t in temperatures) < 55.0


class AlwaysWarmer(random.Random):
    def triangular(self, low: float = 0.0, high: float = 1.0, mode: float | None = None) -> float:
        return high


class AlwaysColder(random.Random):
    def triangular(self, low: float = 0.0, high: float = 1.0, mode: float | None = None) -> float:
        return low


def test_temperature_is_clamped_to_the_plausible_range() -> None:
    hot = WeatherModel(7, AlwaysWarmer(0))
    assert max(hot.next_hour(7) for _ in range(200)) == MAX_TEMPERATURE_F
    cold = WeatherModel(1, AlwaysColder(0))
    assert min(cold.next_hour(1) for _ in range(200)) == MIN_TEMPERATURE_F


def test_readings_follow_the_month_they_fall_in() -> None:
    model = WeatherModel(1, random.Random(5))
    assert model.temperature == 40.0
    july = [model.next_hour(7) for _ in range(500)]
    assert mean(july[100:]) > 75.0


def test_hourly_readings_move_at_most_the_change_plus_the_pull() -> None:
    temperatures = hourly_temperatures(1, 2000, seed=11)
    for before, after in pairwise(temperatures):
        pull = 0.1 * abs(40.0 - before)
        assert abs(after - before) <= 10.0 + pull + 0.1  # 0.1: readings are rounded


def test_status_is_uniform_over_all_statuses() -> None:
    model = WeatherModel(5, random.Random(2))
    start = datetime(2024, 5, 1, tzinfo=CHICAGO)
    counts = Counter(model.reading(start + timedelta(hours=h)).status for h in range(10000))
    assert set(counts) == set(WeatherStatus)
    assert all(abs(n / 10000 - 0.2) < 0.02 for n in counts.values())


def test_same_seed_same_weather() -> None:
    assert hourly_temperatures(3, 300, seed=4) == hourly_temperatures(3, 300, seed=4)
    assert hourly_temperatures(3, 300, seed=4) != hourly_temperatures(3, 300, seed=5)
