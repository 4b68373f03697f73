"""In headless Chromium: the page keeps the board as deltas arrive (the same state the server
has), tells its listeners, and resumes by itself after the server restarts."""

from __future__ import annotations

from typing import Any

import pytest

from cta.dashboard.app import create_app
from cta.dashboard.state import DashboardState
from cta.testing import listening_socket
from tests.dashboard.conftest import LiveServer, unique_name
from tests.dashboard.test_app import served
from tests.dashboard.test_browser import browser, populated_board, sync_api

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the module-scoped fixture, shared with test_browser


def board_with(train_id: str) -> tuple[DashboardState, int]:
    """The populated board with one more train at a station it leaves empty; the same number
    of changes whatever the train, so two such boards have the same version."""
    state = populated_board()
    station_id = state.snapshot()["lines"][0]["stations"][1]["station_id"]
    state.apply_arrival(
        {"station_id": station_id, "train_id": train_id, "direction": "b", "line": "blue",
         "train_status": "in_service", "prev_station_id": None, "prev_direction": None}
    )  # fmt: skip
    return state, station_id


def test_the_page_holds_the_servers_state_through_deltas_and_tells_its_listeners(
    browser: Any, serve_dashboard: Any
) -> None:
    state = populated_board()
    server = serve_dashboard(state)
    page = browser.new_page()
    page.goto(server.url + "/")
    sync_api.expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    page.evaluate(
        "window.heard = []; window.ctaBoard.listeners.push(s => window.heard.push(s.version))"
    )
    rows = state.snapshot()["lines"]
    for n, line in enumerate(rows):
        for station in line["stations"][1:12:2]:
            state.apply_summary(station["station_id"], 100 + n)
        state.apply_arrival(
            {"station_id": line["stations"][4]["station_id"], "train_id": f"X{n}",
             "direction": "a", "line": line["line"], "train_status": "broken_down",
             "prev_station_id": None, "prev_direction": None}
        )  # fmt: skip
        sync_api.expect(page.locator("body")).to_have_attribute(
            "data-version", str(state.version)
        )
    state.apply_weather({"temperature": 12.0, "status": "snowy"})
    sync_api.expect(page.locator("#weather-label")).to_have_text("Snowy")
    assert page.evaluate("window.ctaBoard.state") == served(state)
    assert page.evaluate("window.heard.at(-1)") == state.version
    page.close()


def test_the_page_resumes_by_itself_after_the_server_restarts(browser: Any) -> None:
    before, station_id = board_with("BL111")
    first = LiveServer(create_app(before, name=unique_name())).start()
    page = browser.new_page()
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.goto(first.url + "/")
    cell = page.locator(f"#row-blue-{station_id} td.dir-b .train-id")
    sync_api.expect(cell).to_have_text("BL111")
    loads = len(navigations)
    first.stop()
    sync_api.expect(page.locator("#connection")).to_have_attribute("data-state", "reconnecting")

    # A restarted server with another board at the very same version: the page's last event id
    # names that version, but another server's, so it must get this board in full.
    after, _ = board_with("BL222")
    assert after.version == before.version
    second = LiveServer(
        create_app(after, name=unique_name()), sock=listening_socket(port=first.port)
    )
    second.start()
    try:
        sync_api.expect(page.locator("#connection")).to_have_attribute(
            "data-state", "live", timeout=20_000
        )
        sync_api.expect(cell).to_have_text("BL222")
        after.apply_summary(station_id, 4321)  # and it follows the new server's deltas
        sync_api.expect(page.locator(f"#row-blue-{station_id} td.entries")).to_have_text("4,321")
        assert page.evaluate("window.ctaBoard.state") == served(after)
        assert len(navigations) == loads, "the page reloaded instead of resuming"
    finally:
        page.close()
        second.stop()
