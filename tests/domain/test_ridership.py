from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from statistics import mean

import pytest

from cta.domain.clock import CHICAGO
from cta.domain.ridership import (
    DayType,
    DayTypeRidership,
    HourlyCurve,
    TurnstileModel,
    cta_holidays,
    day_type,
    holiday_name,
)

FIVE_MINUTES = timedelta(minutes=5)
CURVE = HourlyCurve(tuple(0.125 if hour == 8 else 0.01 for hour in range(24)))
RIDERSHIP = {1: DayTypeRidership(weekday=1200, saturday=2400, sunday_holiday=4800)}


def model(**kwargs: int) -> TurnstileModel:
    return TurnstileModel(RIDERSHIP, CURVE, FIVE_MINUTES, {1: 1}, **kwargs)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 3, 4), DayType.WEEKDAY),  # Monday
        (date(2024, 3, 8), DayType.WEEKDAY),  # Friday
        (date(2024, 3, 9), DayType.SATURDAY),
        (date(2024, 3, 10), DayType.SUNDAY_HOLIDAY),
        (date(2024, 1, 1), DayType.SUNDAY_HOLIDAY),  # New Year's Day, a Monday
        (date(2024, 5, 27), DayType.SUNDAY_HOLIDAY),  # Memorial Day
        (date(2024, 7, 4), DayType.SUNDAY_HOLIDAY),  # a Thursday
        (date(2024, 7, 5), DayType.WEEKDAY),
        (date(2024, 9, 2), DayType.SUNDAY_HOLIDAY),  # Labor Day
        (date(2024, 11, 28), DayType.SUNDAY_HOLIDAY),  # Thanksgiving
        (date(2024, 11, 21), DayType.WEEKDAY),
        (date(2021, 12, 25), DayType.SUNDAY_HOLIDAY),  # Christmas on a Saturday
    ],
)
def test_day_type(day: date, expected: DayType) -> None:
    assert day_type(day) is expected


def test_day_type_accepts_a_datetime() -> None:
    assert day_type(datetime(2024, 3, 9, 23, 59, tzinfo=CHICAGO)) is DayType.SATURDAY


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 1, 1), "New Year's Day"),
        (date(2026, 5, 25), "Memorial Day"),
        (date(2026, 7, 4), "Independence Day"),
        (date(2026, 9, 7), "Labor Day"),
        (date(2026, 11, 26), "Thanksgiving"),
        (datetime(2026, 12, 25, 23, 55, tzinfo=CHICAGO), "Christmas"),
        (date(2026, 11, 27), None),
        (date(2026, 11, 29), None),  # a Sunday, but no holiday
    ],
)
def test_holiday_name(day: date, name: str | None) -> None:
    assert holiday_name(day) == name


def test_every_named_holiday_is_a_sunday_schedule_day() -> None:
    for year in (2024, 2026, 2027):
        named = {day for day in cta_holidays(year) if holiday_name(day) is not None}
        assert named == cta_holidays(year)
        assert all(day_type(day) is DayType.SUNDAY_HOLIDAY for day in named)


@pytest.mark.parametrize(
    ("at", "daily"),
    [
        (datetime(2024, 3, 9, 8, 0, tzinfo=CHICAGO), 2400),  # Saturday
        (datetime(2024, 3, 10, 8, 0, tzinfo=CHICAGO), 4800),  # Sunday
        (datetime(2024, 3, 11, 8, 0, tzinfo=CHICAGO), 1200),  # Monday
    ],
)
def test_expected_uses_the_day_type_and_the_hours_share(at: datetime, daily: int) -> None:
    assert model().expected(1, at) == pytest.approx(daily * 0.125 / 12)
    assert model().expected(1, at.replace(hour=3)) == pytest.approx(daily * 0.01 / 12)


def test_saturday_eight_oclock_entries_stay_within_the_noise_bound() -> None:
    at = datetime(2024, 3, 9, 8, 0, tzinfo=CHICAGO)
    rng = random.Random(7)
    counts = [model(noise_bound=3).entries(1, at, rng) for _ in range(3000)]
    # 2400 x 0.125 x 1/12 = 25 exactly, so only the noise moves it.
    assert min(counts) == 22
    assert max(counts) == 28
    assert mean(counts) == pytest.approx(25, abs=0.2)


def test_fractional_expectation_is_rounded_without_bias() -> None:
    at = datetime(2024, 3, 9, 3, 0, tzinfo=CHICAGO)
    ridership = {1: DayTypeRidership(weekday=0, saturday=30, sunday_holiday=0)}
    small = TurnstileModel(ridership, CURVE, FIVE_MINUTES, {1: 1})
    expected = small.expected(1, at)
    assert expected == pytest.approx(0.025)
    rng = random.Random(3)
    counts = [small.entries(1, at, rng) for _ in range(20000)]
    assert min(counts) == 0
    assert max(counts) <= 1 + small.noise_bound
    # The original's clamp added about one rider per step; ours keeps the mean.
    assert mean(counts) == pytest.approx(expected, abs=0.01)


def test_zero_ridership_gives_zero_entries() -> None:
    zero = TurnstileModel({1: DayTypeRidership(0, 0, 0)}, CURVE, FIVE_MINUTES, {1: 1})
    rng = random.Random(1)
    at = datetime(2024, 3, 9, 8, 0, tzinfo=CHICAGO)
    assert {zero.entries(1, at, rng) for _ in range(200)} == {0}


def test_step_length_scales_the_expectation() -> None:
    hourly = TurnstileModel(RIDERSHIP, CURVE, timedelta(hours=1), {1: 1})
    at = datetime(2024, 3, 11, 8, 0, tzinfo=CHICAGO)
    assert hourly.expected(1, at) == pytest.approx(1200 * 0.125)


def test_station_on_two_lines_splits_its_ridership() -> None:
    ridership = {1: RIDERSHIP[1], 2: RIDERSHIP[1]}
    split = TurnstileModel.for_stations(ridership, CURVE, FIVE_MINUTES, [[1, 2], [2]])
    at = datetime(2024, 3, 11, 8, 0, tzinfo=CHICAGO)
    assert (split.lines_at(1), split.lines_at(2)) == (1, 2)
    assert split.expected(2, at) * 2 == pytest.approx(split.expected(1, at))


def test_missing_ridership_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no ridership for station\(s\) \[9\]"):
        TurnstileModel(RIDERSHIP, CURVE, FIVE_MINUTES, {1: 1, 9: 1})


def test_invalid_values_are_refused() -> None:
    with pytest.raises(ValueError, match="24 shares"):
        HourlyCurve((0.1,) * 23)
    with pytest.raises(ValueError, match="hour 3"):
        HourlyCurve(tuple(1.5 if hour == 3 else 0.0 for hour in range(24)))
    with pytest.raises(ValueError, match="saturday"):
        DayTypeRidership(1, -1, 1)
    with pytest.raises(ValueError, match="noise_bound"):
        model(noise_bound=-1)
    with pytest.raises(ValueError, match="hour must be 0-23"):
        CURVE.share(24)
