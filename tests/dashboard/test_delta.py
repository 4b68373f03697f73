"""The delta between two board snapshots: apply(a, delta(a, b)) == b, and only what changed."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from cta.dashboard.delta import apply_delta, snapshot_delta
from cta.dashboard.state import DashboardState
from tests.dashboard.test_state import arrival, station
from tests.dashboard.test_whole_l_board import loaded


def seed_board() -> DashboardState:
    state = DashboardState()
    for n, name in enumerate(("Forest Park", "Harlem", "Oak Park", "Austin")):
        state.apply_station(station(n + 1, name, n))
    state.apply_station(station(10, "Howard", 0, line="red"))
    return state


def random_change(state: DashboardState, rng: random.Random, clock: list[int]) -> None:
    """One input the feed could apply: an arrival, a count, weather, a station row or its
    removal, each with a moving event time."""
    clock[0] += rng.randint(1, 90_000)
    snapshot = state.snapshot()
    lines = [line for line in snapshot["lines"] if line["stations"]]
    if not lines:  # removals emptied the board
        state.apply_station(station(rng.randint(100, 110), "Back", 0))
        return
    line = rng.choice(lines)
    row = rng.choice(line["stations"])
    kind = rng.random()
    if kind < 0.5:
        state.apply_arrival(arrival(
            row["station_id"], f"T{rng.randint(1, 12)}", rng.choice("ab"), line=line["line"],
            status=rng.choice(("in_service", "broken_down")), timestamp=clock[0],
        ))  # fmt: skip
    elif kind < 0.75:
        state.apply_summary(row["station_id"], rng.randint(0, 5000), clock[0] - 3_600_000)
    elif kind < 0.88:
        state.apply_weather({"temperature": rng.uniform(-10, 95), "timestamp": clock[0],
                             "status": rng.choice(("sunny", "cloudy", "windy"))})
    elif kind < 0.95:
        state.apply_station(station(rng.randint(100, 110), f"New {rng.random():.3f}",
                                    rng.randint(0, 9), line=line["line"]))
    else:
        state.remove_station(line["line"], row["station_id"])


@pytest.mark.parametrize("make", [seed_board, loaded], ids=["seed", "whole-l"])
def test_applying_the_delta_of_two_snapshots_gives_the_second(make: Any) -> None:
    rng = random.Random(7)
    state = make()
    clock = [1_570_000_000_000]
    before = state.snapshot()
    for step in range(150):
        for _ in range(rng.randint(1, 6)):  # a publication takes in several changes
            random_change(state, rng, clock)
        after = state.snapshot()
        kept = copy.deepcopy(before)
        delta = snapshot_delta(before, after)
        # Through JSON, as it travels: integer station ids come back from string keys.
        assert apply_delta(before, json.loads(json.dumps(delta))) == after, f"step {step}"
        assert before == kept, "apply_delta or snapshot_delta changed its argument"
        before = after


def test_a_moving_train_is_two_slot_changes_and_a_count_one_field() -> None:
    state = seed_board()
    state.apply_arrival(arrival(1, "BL1", "a", timestamp=1000))
    before = state.snapshot()
    state.apply_arrival(arrival(2, "BL1", "a", prev=(1, "a"), timestamp=2000))
    state.apply_summary(3, 42)
    delta = snapshot_delta(before, state.snapshot())
    assert delta["lines"] == {"blue": {"rows": {
        "1": {"a": None},
        "2": {"a": {"train_id": "BL1", "status": "in service"}},
        "3": {"entries": 42},
    }}}  # fmt: skip
    assert set(delta["set"]) == {"header"}  # the clock moved; the weather did not
    assert (delta["since"], delta["version"]) == (before["version"], state.version)


def test_weather_and_added_and_removed_rows_are_in_the_delta() -> None:
    state = seed_board()
    before = state.snapshot()
    state.apply_weather({"temperature": 50.0, "status": "snowy"})
    state.apply_station(station(5, "Central", 1))  # with Harlem at order 1, after it by id
    state.remove_station("red", 10)
    after = state.snapshot()
    delta = snapshot_delta(before, after)
    assert delta["set"]["weather"]["label"] == "Snowy"
    assert delta["lines"]["blue"]["rows"]["5"]["name"] == "Central"
    assert delta["lines"]["blue"]["order"] == [1, 2, 5, 3, 4]
    assert delta["lines"]["red"] == {"removed": [10], "order": []}
    assert apply_delta(before, delta) == after


def test_an_unchanged_board_has_an_empty_delta() -> None:
    snapshot = seed_board().snapshot()
    assert snapshot_delta(snapshot, snapshot) == {
        "version": snapshot["version"], "since": snapshot["version"],
    }  # fmt: skip


def test_lines_and_keys_that_come_and_go_and_rows_that_lose_a_field() -> None:
    a: dict[str, Any] = {
        "version": 1, "header": {}, "weather": None, "month": "2019-10",
        "lines": [
            {"line": "red", "color": "#f00", "stations": [
                {"station_id": 1, "name": "A", "entries": 0, "closed": True},
                {"station_id": 2, "name": "B", "entries": 0},
            ]},
            {"line": "blue", "color": "#00f", "stations": []},
        ],
    }  # fmt: skip
    b: dict[str, Any] = {
        "version": 5, "header": {}, "weather": None,
        "lines": [
            {"line": "green", "color": "#0f0", "stations": [{"station_id": 9, "name": "G"}]},
            {"line": "red", "color": "#e00", "stations": [
                {"station_id": 1, "name": "A", "entries": 3},
                {"station_id": 2, "name": "B", "entries": 0},
            ]},
        ],
    }  # fmt: skip
    delta = snapshot_delta(a, b)
    assert delta["unset"] == ["month"]
    assert delta["line_order"] == ["green", "red"]
    assert delta["lines"]["red"]["removed"] == [1]  # lost "closed": re-sent whole, in place
    assert "order" not in delta["lines"]["red"]
    assert apply_delta(a, json.loads(json.dumps(delta))) == b
    assert apply_delta(b, snapshot_delta(b, a)) == a


def test_a_delta_applies_only_to_the_version_it_was_made_from() -> None:
    state = seed_board()
    first = state.snapshot()
    state.apply_summary(1, 7)
    second = state.snapshot()
    state.apply_summary(1, 8)
    with pytest.raises(ValueError, match="cannot apply"):
        apply_delta(first, snapshot_delta(second, state.snapshot()))
