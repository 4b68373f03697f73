"""The header: simulated Chicago time and day type from event times, and since when counts count."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from cta.dashboard.header import counts_since, simulated_clock
from cta.dashboard.state import DashboardState
from cta.domain.clock import CHICAGO, epoch_ms


def ms(year: int, month: int, day: int, hour: int, minute: int = 0) -> int:
    return epoch_ms(datetime(year, month, day, hour, minute, tzinfo=CHICAGO))


def arrival(timestamp: int, train_id: str = "BL001", station_id: int = 1) -> dict[str, Any]:
    return {
        "station_id": station_id, "train_id": train_id, "direction": "b", "line": "blue",
        "train_status": "in_service", "prev_station_id": None, "prev_direction": None,
        "timestamp": timestamp,
    }


FOREST_PARK = {"station_id": 1, "station_name": "Forest Park", "order": 0, "line": "blue"}


def weather(timestamp: int, temperature: float = 41.0) -> dict[str, Any]:
    return {"temperature": temperature, "status": "cloudy", "timestamp": timestamp}


@pytest.mark.parametrize(
    ("moment", "time", "zone", "date", "day_type", "label", "holiday"),
    [
        (ms(2026, 11, 23, 2, 35), "02:35", "CST", "Mon 23 Nov 2026", "weekday", "Weekday", None),
        (ms(2026, 11, 28, 23, 55), "23:55", "CST", "Sat 28 Nov 2026", "saturday", "Saturday", None),
        (ms(2026, 11, 29, 8), "08:00", "CST", "Sun 29 Nov 2026", "sunday_holiday",
         "Sunday/holiday", None),
        (ms(2026, 11, 26, 17), "17:00", "CST", "Thu 26 Nov 2026", "sunday_holiday",
         "Sunday/holiday", "Thanksgiving"),
        (ms(2026, 7, 4, 12), "12:00", "CDT", "Sat 4 Jul 2026", "sunday_holiday",
         "Sunday/holiday", "Independence Day"),
    ],
)
def test_simulated_clock_is_chicago_time_with_the_ridership_day_type(
    moment: int, time: str, zone: str, date: str, day_type: str, label: str, holiday: str | None
) -> None:
    clock = simulated_clock(moment)
    assert (clock["time"], clock["zone"], clock["date"]) == (time, zone, date)
    assert (clock["day_type"], clock["day_label"], clock["holiday"]) == (day_type, label, holiday)
    assert clock["timestamp"] == moment


def test_the_clock_reads_the_event_time_in_chicago_not_utc() -> None:
    # 08:33 UTC is 02:33 in Chicago in winter: the board showed the former.
    clock = simulated_clock(epoch_ms(datetime.fromisoformat("2026-12-01T08:33:00+00:00")))
    assert (clock["time"], clock["iso"]) == ("02:33", "2026-12-01T02:33:00-06:00")


def test_counts_since_names_the_date_only_when_it_is_another_day() -> None:
    assert counts_since(ms(2026, 11, 23, 4, 5), ms(2026, 11, 23, 9))["label"] == (
        "entries since 04:05"
    )
    assert counts_since(ms(2026, 11, 22, 23, 55), ms(2026, 11, 23, 9))["label"] == (
        "entries since Sun 22 Nov 2026 23:55"
    )


def test_a_new_board_knows_no_time_and_no_start_of_counts() -> None:
    assert DashboardState().snapshot()["header"] == {"clock": None, "counts_since": None}


def test_the_clock_follows_the_latest_event_time_and_never_goes_back() -> None:
    state = DashboardState()
    state.apply_station(FOREST_PARK)
    assert state.apply_arrival(arrival(ms(2026, 11, 23, 4, 5)))
    assert state.snapshot()["header"]["clock"]["time"] == "04:05"
    assert state.apply_weather(weather(ms(2026, 11, 23, 5)))
    assert state.snapshot()["header"]["clock"]["time"] == "05:00"
    # Another partition's older arrival (another train) leaves the clock where it is.
    state.apply_arrival(arrival(ms(2026, 11, 23, 4, 10), train_id="BL002"))
    assert state.snapshot()["header"]["clock"]["time"] == "05:00"


def test_the_clock_moving_alone_is_a_change_the_page_is_told_about() -> None:
    state = DashboardState()
    state.apply_station(FOREST_PARK)
    state.apply_arrival(arrival(ms(2026, 11, 23, 4, 5)))
    version = state.version
    # The same train in the same slot, later: only the clock moves.
    assert state.apply_arrival(arrival(ms(2026, 11, 23, 4, 10)))
    assert state.version == version + 1
    assert not state.apply_arrival(arrival(ms(2026, 11, 23, 4, 10)))
    assert state.version == version + 1


def test_an_older_weather_reading_does_not_replace_a_newer_one() -> None:
    state = DashboardState()
    state.apply_weather(weather(ms(2026, 11, 23, 5), temperature=38.0))
    assert not state.apply_weather(weather(ms(2026, 11, 23, 4, 35), temperature=45.0))
    assert state.snapshot()["weather"]["temperature"] == 38.0
    assert state.ignored == 1


def test_counts_run_since_the_earliest_entry_any_station_counted() -> None:
    state = DashboardState()
    state.apply_summary(1, 0)
    assert state.snapshot()["header"]["counts_since"] is None  # nothing counted yet
    state.apply_arrival(arrival(ms(2026, 11, 23, 9)))
    assert state.apply_summary(1, 12, ms(2026, 11, 23, 4, 10))
    assert state.apply_summary(2, 3, ms(2026, 11, 23, 4, 5))
    since = state.snapshot()["header"]["counts_since"]
    assert since["label"] == "entries since 04:05"
    assert since["timestamp"] == ms(2026, 11, 23, 4, 5)
    assert not state.apply_summary(2, 3, ms(2026, 11, 23, 4, 5))


def test_a_count_without_its_start_makes_the_start_unknown() -> None:
    # A summary row from before FIRST_TIMESTAMP existed: its entries' times are unknown, so the
    # board must not claim its counts began with the earliest time it does know.
    state = DashboardState()
    state.apply_summary(1, 12, ms(2026, 11, 23, 4, 10))
    assert state.apply_summary(2, 40)
    assert state.snapshot()["header"]["counts_since"] == {
        "timestamp": None, "iso": None, "label": "entries since an unknown time",
    }
    assert state.apply_summary(2, 41, ms(2026, 11, 23, 4, 5))
    # No event time seen yet to say which day it is now: the date is given too.
    assert state.snapshot()["header"]["counts_since"]["label"] == (
        "entries since Mon 23 Nov 2026 04:05"
    )


def test_a_malformed_first_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="FIRST_TIMESTAMP"):
        DashboardState().apply_summary(1, 3, "soon")  # type: ignore[arg-type]
