"""The station panel's data: hourly counts from TURNSTILE_HOURLY, the typical day, and
``GET /api/stations/<id>``."""

from __future__ import annotations

import functools
import json
import struct
from datetime import date, datetime
from typing import Any

import pytest

from cta.dashboard.app import create_app
from cta.dashboard.feed import DashboardFeed
from cta.dashboard.layout import BoardLayout
from cta.dashboard.state import DashboardState
from cta.dashboard.station_detail import HourlyCounts, TypicalDay
from cta.data_l import load_network
from cta.domain.clock import CHICAGO
from cta.domain.lines import Network
from cta.domain.ridership import DayType
from cta.memory.broker import MemoryBroker
from cta.memory.registry import MemorySchemaRegistry
from cta.topics import PIPELINE_TOPICS, TURNSTILE_HOURLY
from tests.dashboard.conftest import unique_name

CLARK_LAKE = 40380
HOUR = 3_600_000


def chicago_ms(year: int, month: int, day: int, hour: int, *, fold: int = 0) -> int:
    moment = datetime(year, month, day, hour, tzinfo=CHICAGO, fold=fold)
    return int(moment.timestamp() * 1000)


@functools.cache
def whole_l() -> Network:
    return load_network("l")


def whole_l_board() -> DashboardState:
    network = whole_l()
    state = DashboardState(
        BoardLayout.from_network(network), typical=TypicalDay.from_network(network)
    )
    for line in network.lines.values():
        for station in line.stations:
            state.apply_station(
                {
                    "station_id": station.station_id,
                    "station_name": station.name,
                    "order": station.order,
                    "line": line.color.value,
                    "ada": True,
                }
            )
    return state


def arrival(line: str, station_id: int, train: str, direction: str, at_ms: int) -> dict[str, Any]:
    return {
        "line": line,
        "station_id": station_id,
        "train_id": train,
        "direction": direction,
        "train_status": "in_service",
        "prev_station_id": None,
        "prev_direction": None,
        "timestamp": at_ms,
    }


# -- hourly counts and the typical day --------------------------------------------------------


def test_hourly_counts_fill_the_local_hours_of_one_day() -> None:
    counts = HourlyCounts()
    counts.apply(CLARK_LAKE, chicago_ms(2026, 11, 23, 7), 40)
    counts.apply(CLARK_LAKE, chicago_ms(2026, 11, 23, 7), 42)  # a later total of that hour
    counts.apply(CLARK_LAKE, chicago_ms(2026, 11, 23, 23), 5)
    counts.apply(CLARK_LAKE, chicago_ms(2026, 11, 22, 23), 9)  # the day before
    hours = counts.entries_on(CLARK_LAKE, date(2026, 11, 23))
    assert len(hours) == 24
    assert (hours[7], hours[23], sum(hours)) == (42, 5, 47)
    assert counts.entries_on(41400, date(2026, 11, 23)) == [0] * 24


def test_the_repeated_hour_of_the_fall_back_day_adds_up_in_one_slot() -> None:
    counts = HourlyCounts()
    counts.apply(1, chicago_ms(2026, 11, 1, 1), 3)
    counts.apply(1, chicago_ms(2026, 11, 1, 1, fold=1), 4)  # 01:00 again, an hour later
    assert counts.entries_on(1, date(2026, 11, 1))[1] == 7


def test_windows_two_days_behind_the_newest_are_dropped() -> None:
    counts = HourlyCounts()
    start = chicago_ms(2026, 11, 20, 7)
    assert counts.apply(1, start, 3)
    assert counts.apply(1, start + 49 * HOUR, 1)
    assert counts.entries_on(1, date(2026, 11, 20)) == [0] * 24
    assert not counts.apply(1, start, 3)  # too old to keep


def test_typical_is_the_months_daily_average_spread_by_the_hour_profile() -> None:
    network = whole_l()
    typical = TypicalDay.from_network(network)
    curve = typical.curve_for(CLARK_LAKE, DayType.SATURDAY)
    daily = network.ridership[CLARK_LAKE].saturday
    assert curve == [round(daily * share, 1) for share in network.curve.shares]
    assert sum(curve) == pytest.approx(daily * sum(network.curve.shares), abs=2.5)
    assert typical.curve_for(99999, DayType.WEEKDAY) == [0.0] * 24


# -- the station detail ---------------------------------------------------------------------


def test_clark_lake_detail_has_its_lines_trains_and_todays_hours() -> None:
    state = whole_l_board()
    seven = chicago_ms(2026, 11, 23, 7)
    brown = state.layout.line("brown") if state.layout else None
    assert brown is not None
    before = brown.station_ids[brown.station_ids.index(CLARK_LAKE) - 1]
    state.apply_arrival(arrival("brown", CLARK_LAKE, "BR003", "b", seven + 1000))
    state.apply_arrival(arrival("brown", before, "BR004", "b", seven + 2000))
    assert state.apply_hourly(CLARK_LAKE, seven, 120)
    assert not state.apply_hourly(CLARK_LAKE, seven, 120)  # unchanged: no new version
    detail = state.station_detail(CLARK_LAKE)
    assert detail is not None
    assert set(detail) == {"station_id", "name", "lines", "ada", "trains", "hourly"}
    assert (detail["station_id"], detail["name"], detail["ada"]) == (CLARK_LAKE, "Clark/Lake", True)
    assert sorted(detail["lines"]) == ["blue", "brown", "green", "orange", "pink", "purple"]
    heading = brown.directions["b"]
    assert detail["trains"][heading][:2] == [
        {
            "train_id": "BR003",
            "line": "brown",
            "status": "in service",
            "at": True,
            "station_id": CLARK_LAKE,
        },
        {
            "train_id": "BR004",
            "line": "brown",
            "status": "in service",
            "at": False,
            "station_id": before,
        },
    ]
    hourly = detail["hourly"]
    assert set(hourly) == {"day", "day_type", "entries", "typical"}
    assert (hourly["day"], hourly["day_type"]) == ("2026-11-23", "weekday")
    assert hourly["entries"][7] == 120 and sum(hourly["entries"]) == 120
    assert hourly["typical"] == TypicalDay.from_network(whole_l()).curve_for(
        CLARK_LAKE, DayType.WEEKDAY
    )


def test_an_unknown_station_has_no_detail() -> None:
    assert whole_l_board().station_detail(1) is None


def test_the_api_serves_the_detail_and_404s_unknown_stations_as_json() -> None:
    state = whole_l_board()
    state.apply_hourly(CLARK_LAKE, chicago_ms(2026, 11, 28, 9), 7)  # a Saturday
    app = create_app(state, name=unique_name())
    _, response = app.test_client.get(f"/api/stations/{CLARK_LAKE}")
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    body = json.loads(response.body)
    assert body == json.loads(json.dumps(state.station_detail(CLARK_LAKE)))
    assert (body["hourly"]["day"], body["hourly"]["day_type"]) == ("2026-11-28", "saturday")
    for path in ("/api/stations/1", "/api/stations/abc"):
        _, missing = app.test_client.get(path)
        assert missing.status == 404
        assert "unknown station" in json.loads(missing.body)["error"]


def test_a_station_name_with_markup_is_served_as_html_safe_json() -> None:
    state = DashboardState()
    name = "<script>alert('x')</script> & Co"
    state.apply_station({"station_id": 5, "station_name": name, "order": 0, "line": "blue"})
    app = create_app(state, name=unique_name())
    _, response = app.test_client.get("/api/stations/5")
    assert b"<" not in response.body and b">" not in response.body and b"&" not in response.body
    assert json.loads(response.body)["name"] == name


# -- the feed -----------------------------------------------------------------------------------


def hourly_record(station: int, start: int, value: dict[str, Any]) -> tuple[bytes, bytes]:
    return str(station).encode() + struct.pack(">q", start), json.dumps(value).encode()


def test_the_feed_applies_turnstile_hourly_rows_and_rejects_disagreeing_ones() -> None:
    broker = MemoryBroker()
    broker.create_topics(PIPELINE_TOPICS)
    state = DashboardState()
    feed = DashboardFeed(broker, MemorySchemaRegistry(), state)
    seven = chicago_ms(2026, 11, 23, 7)
    producer = broker.producer()
    good = {"STATION_ID": CLARK_LAKE, "WINDOW_START": seven, "WINDOW_END": seven + HOUR}
    for key, value in (
        hourly_record(CLARK_LAKE, seven, {**good, "COUNT": 3}),
        hourly_record(CLARK_LAKE, seven, {**good, "COUNT": 5}),
        hourly_record(41400, seven, {**good, "COUNT": 9}),  # key names another station
        (b"40380", b'{"COUNT": 1}'),  # not a windowed key
    ):
        producer.produce(TURNSTILE_HOURLY, value, key=key)
    producer.flush()
    while feed.pump(0.05):
        pass
    assert state.hourly_entries(CLARK_LAKE, date(2026, 11, 23))[7] == 5
    assert state.hourly_entries(41400, date(2026, 11, 23)) == [0] * 24
    assert feed.errors == 2
    feed.close()
