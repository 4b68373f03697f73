from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cta.domain.clock import (
    CHICAGO,
    SimClock,
    epoch_ms,
    real_seconds_per_step,
    remaining_wait,
    to_chicago,
)

FIVE_MINUTES = timedelta(minutes=5)


def test_naive_start_is_chicago_wall_time() -> None:
    clock = SimClock(datetime(2024, 1, 1), FIVE_MINUTES)
    assert clock.now == datetime(2024, 1, 1, tzinfo=CHICAGO)
    assert clock.now_ms == 1_704_088_800_000  # 2024-01-01 06:00 UTC
    assert epoch_ms(datetime(2024, 1, 1)) == clock.now_ms


def test_aware_start_is_shown_in_chicago_time() -> None:
    clock = SimClock(datetime(2024, 7, 1, 12, 0, tzinfo=UTC), FIVE_MINUTES)
    assert clock.now.tzinfo is CHICAGO
    assert (clock.now.hour, clock.now.utcoffset()) == (7, timedelta(hours=-5))


def test_advance_moves_by_one_step() -> None:
    clock = SimClock(datetime(2024, 1, 1, 23, 55), FIVE_MINUTES)
    assert clock.advance() == datetime(2024, 1, 2, 0, 0, tzinfo=CHICAGO)
    assert clock.ticks == 1
    assert clock.now_ms - epoch_ms(datetime(2024, 1, 1, 23, 55)) == 300_000


def test_stepping_across_daylight_saving_keeps_real_elapsed_time() -> None:
    clock = SimClock(datetime(2024, 3, 10, 0, 0), FIVE_MINUTES)
    start_ms = clock.now_ms
    for _ in range(24):
        clock.advance()
    assert clock.now_ms - start_ms == 2 * 3600 * 1000
    assert clock.now == to_chicago(datetime(2024, 3, 10, 3, 0))  # 02:00 CST is 03:00 CDT
    assert clock.now.utcoffset() == timedelta(hours=-5)


def test_non_positive_step_is_refused() -> None:
    with pytest.raises(ValueError, match="step must be positive"):
        SimClock(datetime(2024, 1, 1), timedelta(0))


def test_pacing() -> None:
    assert real_seconds_per_step(FIVE_MINUTES, None) == 0.0
    assert real_seconds_per_step(FIVE_MINUTES, 1.0) == 300.0
    assert real_seconds_per_step(FIVE_MINUTES, 60) == 5.0
    assert remaining_wait(FIVE_MINUTES, 60, 1.5) == 3.5
    assert remaining_wait(FIVE_MINUTES, 60, 7.0) == 0.0
    assert remaining_wait(FIVE_MINUTES, None, 0.2) == 0.0
    for bad in (0, -2.0, float("nan")):
        with pytest.raises(ValueError, match="speed must be positive"):
            real_seconds_per_step(FIVE_MINUTES, bad)
