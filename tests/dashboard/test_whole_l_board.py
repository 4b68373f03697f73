"""The whole 'L' board: eight lines in official colours, running order per pattern, the Loop and
Green's branches as sections, direction names, closed stations, the line picker."""

from __future__ import annotations

from functools import cache

from cta.dashboard.layout import BoardLayout
from cta.dashboard.page import render_page
from cta.dashboard.state import DashboardState
from cta.data_l import load_network, load_network_rows
from cta.processors.stations import transform_stations
from tests.dashboard.test_page import parse

BERWYN, CLARK_LAKE = 40340, 40380


@cache
def layout() -> BoardLayout:
    rows = load_network_rows("l")
    coordinates = {r.station_id: (r.latitude or 0.0, r.longitude or 0.0) for r in rows}
    return BoardLayout.from_network(load_network("l", "2024-04"), coordinates)


def loaded() -> DashboardState:
    state = DashboardState(layout())
    for row in load_network_rows("l"):
        for station in transform_stations(row.as_json()):
            state.apply_station(station)
    return state


def test_the_board_shows_all_eight_lines_in_official_colours_and_page_order() -> None:
    lines = loaded().snapshot()["lines"]
    assert [(line["line"], line["color"]) for line in lines] == [
        ("red", "#C60C30"), ("blue", "#00A1DE"), ("brown", "#62361B"), ("green", "#009B3A"),
        ("orange", "#F9461C"), ("purple", "#522398"), ("pink", "#E27EA6"), ("yellow", "#F9E300"),
    ]  # fmt: skip
    assert sum(len(line["stations"]) for line in lines) == 190  # 143 stations, shared ones per line
    assert [len(line["stations"]) for line in lines] == [33, 33, 27, 30, 16, 26, 22, 3]


def test_loop_stations_run_in_the_lines_direction_round_the_loop() -> None:
    lines = {line["line"]: line for line in loaded().snapshot()["lines"]}
    brown = lines["brown"]
    loop = [s["name"] for s in brown["stations"] if s["section"].startswith("The Loop")]
    assert loop[:3] == ["Washington/Wells", "Quincy/Wells", "LaSalle/Van Buren"]
    assert loop[-1] == "Clark/Lake"
    assert brown["stations"][-9]["section"] == ""  # Merchandise Mart, then the Loop
    assert {s["section"] for s in brown["stations"]} == {
        "", "The Loop: Outer Loop, counter-clockwise"
    }
    assert {s["section"] for s in lines["orange"]["stations"]} == {
        "", "The Loop: Inner Loop, clockwise"
    }
    assert brown["directions"] == {"a": "To Kimball", "b": "To the Loop"}


def test_both_green_branches_are_visible() -> None:
    green = next(line for line in loaded().snapshot()["lines"] if line["line"] == "green")
    tail = [(s["name"], s["section"]) for s in green["stations"][-4:]]
    assert tail == [
        ("Halsted", "Ashland/63rd branch"), ("Ashland/63rd", "Ashland/63rd branch"),
        ("King Drive", "Cottage Grove branch"), ("Cottage Grove", "Cottage Grove branch"),
    ]  # fmt: skip
    assert green["directions"]["b"] == "To Ashland/63rd / Cottage Grove"


def test_a_closed_station_is_shown_closed_and_trains_show_their_heading() -> None:
    state = loaded()
    state.apply_arrival(
        {"station_id": CLARK_LAKE, "train_id": "BR005", "direction": "a", "line": "brown",
         "train_status": "in_service", "prev_station_id": 40260, "prev_direction": "a",
         "direction_name": "To Kimball"}
    )  # fmt: skip
    state.apply_summary(CLARK_LAKE, 2094)
    snapshot = state.snapshot()
    red = next(line for line in snapshot["lines"] if line["line"] == "red")
    berwyn = next(s for s in red["stations"] if s["station_id"] == BERWYN)
    assert berwyn["closed"] is True
    html = render_page(snapshot)
    assert 'id="row-red-40340" data-station="40340" class="closed"' in html
    page = parse(html)
    assert "To Kimball \u00b7 in service" in page.text
    assert "2,094" in page.text
    assert "The Loop: Outer Loop, counter-clockwise" in page.text
    assert "Cottage Grove branch" in page.text
    assert page.text.count("closed") == 2  # Berwyn and Lawrence, on the Red Line only
    assert "All lines" in page.text and 'href="#line-purple"' in html
    assert "Ridership of 2024-04" in page.text


def test_the_seed_board_has_no_picker_and_no_sections() -> None:
    state = DashboardState()
    state.apply_station({"station_id": 1, "station_name": "Howard", "order": 0, "line": "red"})
    html = render_page(state.snapshot())
    assert "line-picker" not in html and "section-row" not in html
    assert [line["line"] for line in state.snapshot()["lines"]] == ["blue", "red", "green"]
