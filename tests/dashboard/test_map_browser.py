"""The live map of the whole 'L' and the station panel, in headless Chromium: a marker per
station and a path per line, trains moving without a reload, names shown as text everywhere,
Clark/Lake's panel with its six lines and hourly chart, and the page resuming after a restart."""

from __future__ import annotations

import json
import struct
import urllib.request
from datetime import datetime, timedelta
from typing import Any

import pytest

from cta import topics
from cta.bootstrap import open_backend
from cta.config import Settings
from cta.dashboard.app import create_app
from cta.dashboard.state import DashboardState
from cta.data_l import load_network, load_network_rows
from cta.domain.clock import CHICAGO
from cta.domain.events import LineColor, TurnstileEntry
from cta.pipeline import Pipeline
from cta.processors.stations import transform_stations
from cta.producers import DeviceProducer
from cta.testing import listening_socket
from cta.verify import read_all
from tests.dashboard.conftest import LiveServer, unique_name
from tests.dashboard.test_browser import browser, sync_api
from tests.dashboard.test_whole_l_board import CLARK_LAKE, loaded
from tests.features.conftest import latest_per_key

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the module-scoped fixture, shared with test_browser

expect = sync_api.expect
STATIONS = 143
LINES = 8
KIMBALL, KEDZIE_BROWN = 41290, 41180
HOWARD = 40900


def arrival(
    station_id: int, train_id: str, line: str, direction: str = "a", **extra: Any
) -> dict[str, Any]:
    return {"station_id": station_id, "train_id": train_id, "direction": direction,
            "line": line, "train_status": "in_service", "prev_station_id": None,
            "prev_direction": None, **extra}  # fmt: skip


def open_map(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url + "/")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(page.locator("body")).to_have_attribute("data-view", "map")
    expect(page.locator(".network-map.main .station")).to_have_count(STATIONS)
    return page


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_the_map_draws_every_station_and_every_line_and_trains_move_live(
    browser: Any, serve_dashboard: Any
) -> None:
    state = loaded()
    state.apply_arrival(arrival(KIMBALL, "BR004", "brown", "b", direction_name="To the Loop"))
    server = serve_dashboard(state)
    page = open_map(browser, server.url)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    paths = page.locator(".network-map.main path.track")
    expect(paths).to_have_count(LINES)
    assert page.locator(".network-map path.track[d='']").count() == 0  # each drawn along track
    colours = {paths.nth(n).get_attribute("data-line"): paths.nth(n).get_attribute("stroke")
               for n in range(LINES)}  # fmt: skip
    assert colours["brown"] == "#62361B" and colours["red"] == "#C60C30"
    station_ids = page.locator(".network-map.main .station").evaluate_all(
        "nodes => nodes.map(n => Number(n.dataset.station))"
    )
    assert len(set(station_ids)) == STATIONS

    train = page.locator('.network-map.main .train[data-train="BR004"]')
    expect(train).to_have_attribute("data-station", str(KIMBALL))
    expect(train.locator("text.train-label")).to_have_text("BR004 \u2192 the Loop")
    expect(train.locator("title")).to_have_text(
        "Brown Line run BR004 \u00b7 To the Loop \u00b7 in service \u00b7 at Kimball"
    )
    before = train.evaluate("node => node.style.transform")

    state.apply_arrival(
        arrival(KEDZIE_BROWN, "BR004", "brown", "b", direction_name="To the Loop",
                prev_station_id=KIMBALL, prev_direction="b")
    )  # fmt: skip
    expect(train).to_have_attribute("data-station", str(KEDZIE_BROWN))
    assert train.evaluate("node => node.style.transform") != before
    expect(train.locator("title")).to_contain_text("at Kedzie")
    expect(page.locator(".network-map.main")).to_have_attribute("data-trains", "1")
    assert navigations == [], "the page reloaded instead of moving the train"
    page.close()


def test_a_station_name_with_markup_shows_as_text_on_the_map_in_the_table_and_panel(
    browser: Any, serve_dashboard: Any
) -> None:
    state = loaded()
    server = serve_dashboard(state)
    page = open_map(browser, server.url)
    name = "<b>Howard</b> & <i>co</i>"
    for row in load_network_rows("l"):
        if row.station_id == HOWARD:
            for station in transform_stations({**row.as_json(), "station_name": name}):
                state.apply_station(station)

    marker = page.locator(f'.network-map.main .station[data-station="{HOWARD}"]')
    expect(marker.locator("title")).to_have_text(name)
    expect(marker.locator("text.station-label")).to_have_text(name)
    assert page.locator(".network-map b, .network-map i").count() == 0

    marker.locator("circle").click()
    panel = page.locator("#station-panel")
    expect(panel.locator("h2")).to_have_text(name)
    assert panel.locator("b, i").count() == 0

    page.locator('#view-switch button[data-view="table"]').click()
    expect(page.locator("#map-view")).to_be_hidden()
    cell = page.locator(f"#row-red-{HOWARD} td.station")
    expect(cell).to_have_text(name)
    assert page.locator("#lines b, #lines i").count() == 0
    page.close()


def clark_lake_hours_through_ksql(entries_per_hour: dict[int, int]) -> tuple[DashboardState, int]:
    """Turnstile entries at Clark/Lake, in the given local hours of 1 December 2026, through the
    memory pipeline: the in-process KSQL engine's TURNSTILE_HOURLY, read by the board's feed.
    Returns the board state and the sum of the window rows for Clark/Lake that day."""
    day = datetime(2026, 12, 1, tzinfo=CHICAGO)
    with open_backend(Settings.from_env({})) as backend:
        pipeline = Pipeline(backend, network=load_network("l"), station_rows=load_network_rows("l"))
        pipeline.setup()
        producer = backend.log.producer("map-browser-test")
        turnstiles = DeviceProducer.turnstiles(producer, backend.registry)
        for hour, count in entries_per_hour.items():
            for minute in range(count):
                moment = day + timedelta(hours=hour, minutes=minute % 60)
                turnstiles.send(TurnstileEntry(CLARK_LAKE, "Clark/Lake", LineColor.BLUE,
                                               int(moment.timestamp() * 1000)))  # fmt: skip
        producer.flush()
        state, feed = pipeline.dashboard()
        pipeline.settle(feeds=(feed,))
        windows = 0
        for key, value in latest_per_key(read_all(backend, topics.TURNSTILE_HOURLY)).items():
            start = datetime.fromtimestamp(struct.unpack(">q", key[-8:])[0] / 1000, CHICAGO)
            if json.loads(key[:-8]) == CLARK_LAKE and start.date() == day.date():
                windows += json.loads(value)["COUNT"]
        feed.close()
    return state, windows


def test_selecting_clark_lake_opens_its_panel_with_six_lines_and_an_hourly_chart(
    browser: Any, serve_dashboard: Any
) -> None:
    state, windowed = clark_lake_hours_through_ksql({7: 40, 8: 65, 17: 52})
    assert windowed == 40 + 65 + 52
    state.apply_arrival(arrival(CLARK_LAKE, "BR005", "brown", direction_name="To Kimball",
                                timestamp=int(datetime(2026, 12, 1, 18, tzinfo=CHICAGO)
                                              .timestamp() * 1000)))  # fmt: skip
    server = serve_dashboard(state)
    page = open_map(browser, server.url)

    page.locator(f'.network-map.main .station[data-station="{CLARK_LAKE}"] circle').click()
    panel = page.locator("#station-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("h2")).to_have_text("Clark/Lake")
    expect(panel.locator(".panel-lines li")).to_have_text(
        ["Blue", "Brown", "Green", "Orange", "Purple", "Pink"]
    )
    expect(panel.locator(".panel-trains li", has_text="BR005")).to_have_text(
        "BR005 \u00b7 at the station \u00b7 in service"
    )
    bars = panel.locator(".hourly-chart rect.bar")
    expect(bars).to_have_count(24)
    drawn = [int(v) for v in bars.evaluate_all("nodes => nodes.map(n => n.dataset.value)")]
    # The bars are the KSQL window's rows: per hour, and in sum.
    assert drawn[7] == 40 and drawn[8] == 65 and drawn[17] == 52
    assert sum(drawn) == windowed
    selected = page.locator(f'.network-map .station.selected[data-station="{CLARK_LAKE}"]')
    assert selected.count() == 2  # on the map and in the Loop inset

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    # The table opens the same panel.
    page.locator('#view-switch button[data-view="table"]').click()
    page.locator(f"#row-blue-{CLARK_LAKE} td.station").click()
    expect(panel.locator("h2")).to_have_text("Clark/Lake")
    expect(panel.locator(".panel-lines li")).to_have_count(6)
    page.close()


def test_the_loop_is_readable_at_a_glance_in_its_inset_and_the_loop_button_zooms_onto_it(
    browser: Any, serve_dashboard: Any
) -> None:
    server = serve_dashboard(loaded())
    page = open_map(browser, server.url)
    svg = page.locator(".network-map.main")
    expect(svg).to_have_attribute("data-zoom", "1.00")
    assert "labels" not in (svg.get_attribute("class") or "")
    inset = page.locator(".loop-inset .network-map.inset")
    expect(inset).to_have_class("network-map inset labels")  # station names shown
    expect(inset.locator(f'.station[data-station="{CLARK_LAKE}"] text')).to_be_visible()
    expect(inset.locator(f'.station[data-station="{HOWARD}"] circle')).not_to_be_in_viewport()

    page.locator(".map-tools .map-loop").click()
    expect(svg).to_have_class("network-map main labels")
    expect(inset).to_be_hidden()  # the map shows the Loop large itself: no inset over it
    clark_lake = page.locator(f'.network-map.main .station[data-station="{CLARK_LAKE}"] circle')
    box = clark_lake.bounding_box()
    map_box = svg.bounding_box()
    assert box is not None and map_box is not None
    inside = (map_box["x"] < box["x"] < map_box["x"] + map_box["width"]
              and map_box["y"] < box["y"] < map_box["y"] + map_box["height"])  # fmt: skip
    assert inside, "Clark/Lake is off screen after zooming onto the Loop"
    page.locator(".map-tools .map-whole").click()
    expect(svg).to_have_attribute("data-zoom", "1.00")
    page.locator(".loop-inset .loop-caption").click(force=True)  # the inset zooms there too
    expect(svg).to_have_class("network-map main labels")
    page.close()


def test_the_map_pans_with_a_drag_and_zooms_with_the_wheel_and_buttons(
    browser: Any, serve_dashboard: Any
) -> None:
    server = serve_dashboard(loaded())
    page = open_map(browser, server.url)
    svg = page.locator(".network-map.main")
    viewport = page.locator(".network-map.main g.viewport")
    box = svg.bounding_box()
    assert box is not None
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    page.mouse.move(*centre)
    page.mouse.wheel(0, -400)  # up: zoom in about the pointer
    expect(svg).not_to_have_attribute("data-zoom", "1.00")
    zoomed = float(svg.get_attribute("data-zoom") or 0)
    assert zoomed > 1.5

    before = viewport.get_attribute("transform")
    page.mouse.move(box["x"] + 60, box["y"] + 60)  # empty map, clear of any station
    page.mouse.down()
    page.mouse.move(box["x"] + 260, box["y"] + 160, steps=8)
    page.mouse.up()
    after = viewport.get_attribute("transform")
    assert before is not None and after is not None and after != before
    dx = float(after.split("(")[1].split()[0]) - float(before.split("(")[1].split()[0])
    assert round(dx) == 200  # the map followed the pointer
    expect(page.locator("#station-panel")).to_be_hidden()  # a drag is not a selection

    shown = svg.get_attribute("data-zoom") or ""
    page.locator(".map-tools .map-zoom-out").click()
    expect(svg).not_to_have_attribute("data-zoom", shown)
    assert abs(float(svg.get_attribute("data-zoom") or 0) - zoomed / 1.6) < 0.02
    page.locator(".map-tools .map-zoom-in").click()
    expect(svg).to_have_attribute("data-zoom", shown)
    page.close()


def test_a_link_to_a_line_opens_the_table_and_the_map_fits_when_shown(
    browser: Any, serve_dashboard: Any
) -> None:
    server = serve_dashboard(loaded())
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server.url + "/#line-brown")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(page.locator("body")).to_have_attribute("data-view", "table")
    expect(page.locator("#line-brown")).to_be_visible()
    expect(page.locator("#map-view")).to_be_hidden()
    expect(page.locator(".network-map.main .station")).to_have_count(STATIONS)  # built, hidden

    page.locator('#view-switch button[data-view="map"]').click()
    expect(page.locator("#lines")).to_be_hidden()
    main = page.locator(".network-map.main").bounding_box()
    network = page.locator(".network-map.main g.station-layer").bounding_box()
    assert main is not None and network is not None
    # Fitted to the map's real size: every station on screen, the network filling the height.
    assert (
        main["y"] <= network["y"] and network["y"] + network["height"] <= main["y"] + main["height"]
    )
    assert network["height"] > 0.8 * main["height"]
    inset = page.locator(f'.network-map.inset .station[data-station="{CLARK_LAKE}"] circle')
    expect(inset).to_be_in_viewport()
    page.close()


def test_after_the_server_restarts_the_map_resumes_by_itself(browser: Any) -> None:
    first = LiveServer(create_app(loaded(), name=unique_name())).start()
    second: LiveServer | None = None
    try:
        page = open_map(browser, first.url)
        first.stop()
        expect(page.locator("#connection")).to_have_attribute("data-state", "reconnecting")

        state: DashboardState = loaded()
        state.apply_arrival(arrival(HOWARD, "RL001", "red", direction_name="To 95th/Dan Ryan"))
        # On the same address, which the page keeps retrying.
        second = LiveServer(
            create_app(state, name=unique_name()), sock=listening_socket(port=first.port)
        ).start()
        expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        expect(page.locator('.network-map.main .train[data-train="RL001"]')).to_have_attribute(
            "data-station", str(HOWARD)
        )
        page.close()
    finally:
        first.stop()  # a no-op once stopped
        if second is not None:
            second.stop()
