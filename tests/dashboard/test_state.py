from __future__ import annotations

from typing import Any

import pytest

from cta.dashboard.state import LINE_COLORS, DashboardState
from cta.processors.stations import TransformedStation


def station(station_id: int, name: str, order: int, line: str = "blue") -> dict[str, Any]:
    return {"station_id": station_id, "station_name": name, "order": order, "line": line}


def arrival(
    station_id: int,
    train_id: str,
    direction: str = "b",
    *,
    line: str = "blue",
    status: str = "in_service",
    prev: tuple[int, str] | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "station_id": station_id,
        "train_id": train_id,
        "direction": direction,
        "line": line,
        "train_status": status,
        "prev_station_id": None if prev is None else prev[0],
        "prev_direction": None if prev is None else prev[1],
    }
    if timestamp is not None:
        value["timestamp"] = timestamp
    return value


def rows(state: DashboardState, line: str) -> dict[int, dict[str, Any]]:
    snapshot = state.snapshot()
    (entry,) = [entry for entry in snapshot["lines"] if entry["line"] == line]
    return {row["station_id"]: row for row in entry["stations"]}


@pytest.fixture
def blue() -> DashboardState:
    state = DashboardState()
    state.apply_station(station(1, "Forest Park", 0))
    state.apply_station(station(2, "Harlem", 1))
    state.apply_station(station(3, "Oak Park", 2))
    return state


def test_snapshot_lists_lines_in_page_order_with_colours_and_sorted_stations() -> None:
    state = DashboardState()
    state.apply_station(station(3, "Oak Park", 2))
    state.apply_station(station(1, "Forest Park", 0))
    snapshot = state.snapshot()
    assert [(e["line"], e["color"]) for e in snapshot["lines"]] == [
        ("blue", "#1E90FF"),
        ("red", "#DC143C"),
        ("green", "#32CD32"),
    ]
    assert [s["name"] for s in snapshot["lines"][0]["stations"]] == ["Forest Park", "Oak Park"]
    assert snapshot["lines"][0]["stations"][0] == {
        "station_id": 1, "name": "Forest Park", "order": 0, "a": None, "b": None, "entries": 0,
    }
    assert snapshot["weather"] is None


def test_station_accepts_transformed_station_objects_and_updates_rows() -> None:
    state = DashboardState()
    state.apply_station(TransformedStation(40380, "Clark/Lake", 5, "blue"))
    before = state.version
    assert state.apply_station(TransformedStation(40380, "Clark & Lake", 7, "blue"))
    assert state.version > before
    assert rows(state, "blue")[40380]["name"] == "Clark & Lake"
    assert rows(state, "blue")[40380]["order"] == 7
    assert not state.apply_station(TransformedStation(40380, "Clark & Lake", 7, "blue"))


def test_station_on_a_line_the_board_does_not_show_is_ignored() -> None:
    state = DashboardState()
    assert not state.apply_station(station(1, "Kimball", 0, line="brown"))
    assert all(not entry["stations"] for entry in state.snapshot()["lines"])


def test_arrival_sets_slot_with_readable_status(blue: DashboardState) -> None:
    blue.apply_arrival(arrival(2, "BL001", "a", status="broken_down"))
    assert rows(blue, "blue")[2]["a"] == {"train_id": "BL001", "status": "broken down"}
    assert rows(blue, "blue")[2]["b"] is None
    assert blue.trains("blue") == {"BL001": (2, "a")}


def test_arrival_clears_the_previous_slot(blue: DashboardState) -> None:
    blue.apply_arrival(arrival(1, "BL001", "b"))
    blue.apply_arrival(arrival(2, "BL001", "b", prev=(1, "b")))
    assert rows(blue, "blue")[1]["b"] is None
    assert rows(blue, "blue")[2]["b"] == {"train_id": "BL001", "status": "in service"}


def test_previous_slot_holding_another_train_is_left_alone(blue: DashboardState) -> None:
    blue.apply_arrival(arrival(1, "BL002", "b"))
    blue.apply_arrival(arrival(2, "BL001", "b", prev=(1, "b")))
    assert rows(blue, "blue")[1]["b"] == {"train_id": "BL002", "status": "in service"}
    assert blue.trains("blue") == {"BL002": (1, "b"), "BL001": (2, "b")}


def test_a_train_is_never_shown_twice_even_when_an_event_was_lost(blue: DashboardState) -> None:
    blue.apply_arrival(arrival(1, "BL001", "b"))
    # The arrival at station 2 was lost: this one names 2 as previous, yet the train sits at 1.
    blue.apply_arrival(arrival(3, "BL001", "b", prev=(2, "b")))
    shown = [
        (sid, d) for sid, row in rows(blue, "blue").items() for d in "ab"
        if row[d] is not None and row[d]["train_id"] == "BL001"
    ]
    assert shown == [(3, "b")]
    assert blue.trains("blue") == {"BL001": (3, "b")}


def test_replayed_arrival_does_not_duplicate(blue: DashboardState) -> None:
    blue.apply_arrival(arrival(1, "BL001", "b"))
    blue.apply_arrival(arrival(2, "BL001", "b", prev=(1, "b")))
    version = blue.version
    assert not blue.apply_arrival(arrival(2, "BL001", "b", prev=(1, "b")))
    assert blue.version == version
    assert blue.trains("blue") == {"BL001": (2, "b")}


def test_train_overwritten_in_its_slot_leaves_the_index(blue: DashboardState) -> None:
    blue.apply_arrival(arrival(2, "BL001", "b"))
    blue.apply_arrival(arrival(2, "BL002", "b"))
    assert blue.trains("blue") == {"BL002": (2, "b")}


def test_older_arrival_for_a_train_is_ignored(blue: DashboardState) -> None:
    blue.apply_arrival(arrival(3, "BL001", "b", timestamp=2_000))
    assert not blue.apply_arrival(arrival(2, "BL001", "b", timestamp=1_000))
    assert blue.trains("blue") == {"BL001": (3, "b")}
    assert blue.ignored == 1


def test_arrival_for_unknown_station_waits_for_the_station() -> None:
    state = DashboardState()
    state.apply_station(station(1, "Forest Park", 0))
    state.apply_arrival(arrival(1, "BL001", "b", timestamp=1))
    state.apply_arrival(arrival(9, "BL001", "b", prev=(1, "b"), timestamp=2))
    # The train left station 1 for a station the board does not know yet.
    assert rows(state, "blue")[1]["b"] is None
    assert state.trains("blue") == {}
    assert state.pending() == 1
    state.apply_station(station(9, "Austin", 3))
    assert rows(state, "blue")[9]["b"] == {"train_id": "BL001", "status": "in service"}
    assert state.pending() == 0


def test_only_the_latest_pending_arrival_per_train_is_kept() -> None:
    state = DashboardState()
    state.apply_arrival(arrival(8, "BL001", "b", timestamp=1))
    state.apply_arrival(arrival(9, "BL001", "b", prev=(8, "b"), timestamp=2))
    state.apply_station(station(8, "Cicero", 2))
    state.apply_station(station(9, "Austin", 3))
    assert state.trains("blue") == {"BL001": (9, "b")}
    assert rows(state, "blue")[8]["b"] is None


def test_pending_arrival_is_dropped_once_the_train_is_seen_elsewhere(blue: DashboardState) -> None:
    blue.apply_arrival(arrival(9, "BL001", "b", timestamp=1))
    blue.apply_arrival(arrival(2, "BL001", "b", timestamp=2))
    blue.apply_station(station(9, "Austin", 3))
    assert blue.trains("blue") == {"BL001": (2, "b")}


def test_two_line_station_keeps_a_row_and_trains_per_line() -> None:
    state = DashboardState()
    state.apply_station(station(40380, "Clark/Lake", 10, line="blue"))
    state.apply_station(station(40380, "Clark/Lake", 14, line="green"))
    state.apply_arrival(arrival(40380, "BL001", "a", line="blue"))
    state.apply_arrival(arrival(40380, "GL001", "a", line="green"))
    assert rows(state, "blue")[40380]["a"] == {"train_id": "BL001", "status": "in service"}
    assert rows(state, "green")[40380]["a"] == {"train_id": "GL001", "status": "in service"}
    assert rows(state, "blue")[40380]["order"] == 10
    assert rows(state, "green")[40380]["order"] == 14


def test_summary_sets_the_count_on_every_line_of_the_station() -> None:
    state = DashboardState()
    state.apply_station(station(41400, "Roosevelt", 20, line="red"))
    state.apply_station(station(41400, "Roosevelt", 5, line="green"))
    assert state.apply_summary(41400, 1234)
    assert rows(state, "red")[41400]["entries"] == 1234
    assert rows(state, "green")[41400]["entries"] == 1234


def test_summary_for_unknown_station_is_applied_when_it_arrives() -> None:
    state = DashboardState()
    state.apply_summary(7, 55)
    state.apply_station(station(7, "Damen", 4))
    assert rows(state, "blue")[7]["entries"] == 55


def test_remove_station_drops_the_row_and_its_trains(blue: DashboardState) -> None:
    blue.apply_arrival(arrival(2, "BL001", "a"))
    assert blue.remove_station("blue", 2)
    assert 2 not in rows(blue, "blue")
    assert blue.trains("blue") == {}
    assert not blue.remove_station("blue", 2)


def test_weather_is_shown_with_a_readable_label() -> None:
    state = DashboardState()
    assert state.apply_weather({"temperature": 71.6, "status": "partly_cloudy", "timestamp": 5})
    assert state.snapshot()["weather"] == {
        "temperature": 71.6, "status": "partly_cloudy", "label": "Partly Cloudy", "timestamp": 5,
    }
    assert not state.apply_weather({"temperature": 71.6, "status": "partly_cloudy", "timestamp": 5})


@pytest.mark.parametrize(
    "bad",
    [
        {"train_id": "BL1", "direction": "a", "line": "blue", "train_status": "in_service"},
        arrival(1, "BL1", "c"),
        {**arrival(1, "BL1"), "station_id": "one"},
    ],
)
def test_malformed_arrival_raises_and_changes_nothing(blue: DashboardState, bad: Any) -> None:
    version = blue.version
    with pytest.raises((KeyError, ValueError)):
        blue.apply_arrival(bad)
    assert blue.version == version


def test_version_moves_only_on_change(blue: DashboardState) -> None:
    version = blue.version
    blue.apply_summary(1, 3)
    assert blue.version == version + 1
    blue.apply_summary(1, 3)
    assert blue.version == version + 1


def test_lines_shown_are_blue_red_green() -> None:
    assert list(LINE_COLORS) == ["blue", "red", "green"]
