"""End to end in headless Chromium: the page loads, then follows state changes without reload."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from cta.dashboard.state import DashboardState
from cta.data import load_station_rows
from cta.processors.stations import transform_station

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = "/tmp/dashboard.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if not os.path.exists(CHROMIUM):
    pytest.skip("chromium is not installed (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)


def populated_board() -> DashboardState:
    """Every station of the fixtures, a few trains per line, counts and weather."""
    state = DashboardState()
    for row in load_station_rows():
        station = transform_station(row.as_json())
        if station is not None:
            state.apply_station(station)
    snapshot = state.snapshot()
    statuses = ["in_service", "in_service", "in_service", "broken_down", "out_of_service"]
    for entry in snapshot["lines"]:
        prefix = entry["line"][0].upper() + "L"
        for n, station in enumerate(entry["stations"][::3]):
            state.apply_arrival(
                {"station_id": station["station_id"], "train_id": f"{prefix}{n:03d}",
                 "direction": "ab"[n % 2], "line": entry["line"],
                 "train_status": statuses[n % len(statuses)],
                 "prev_station_id": None, "prev_direction": None}
            )
        for station in entry["stations"]:
            state.apply_summary(station["station_id"], (station["station_id"] * 37) % 9000)
    state.apply_weather({"temperature": 68.4, "status": "partly_cloudy"})
    return state


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def test_page_follows_state_changes_live_without_reload(
    browser: Any, serve_dashboard: Any
) -> None:
    state = populated_board()
    blue = state.snapshot()["lines"][0]["stations"]
    target = blue[1]  # the populated board leaves this slot empty
    assert target["b"] is None
    server = serve_dashboard(state)

    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.goto(server.url + "/")
    sync_api.expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    loads_after_goto = len(navigations)

    state.apply_arrival(
        {"station_id": target["station_id"], "train_id": "BL<b>9</b>", "direction": "b",
         "line": "blue", "train_status": "broken_down",
         "prev_station_id": None, "prev_direction": None}
    )
    cell = page.locator(f"#row-blue-{target['station_id']} td.dir-b")
    sync_api.expect(cell.locator(".train-id")).to_have_text("BL<b>9</b>")
    sync_api.expect(cell.locator(".train-status")).to_have_text("broken down")
    assert cell.locator("b").count() == 0  # the name was shown as text, not parsed as markup
    sync_api.expect(page.locator("body")).to_have_attribute("data-version", str(state.version))
    assert len(navigations) == loads_after_goto, "the page reloaded instead of updating"

    page.screenshot(path=SCREENSHOT, full_page=False)
    page.close()


def test_page_without_a_server_stream_shows_reconnecting(
    browser: Any, serve_dashboard: Any
) -> None:
    server = serve_dashboard(populated_board())
    page = browser.new_page()
    page.goto(server.url + "/")
    sync_api.expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    server.stop()
    sync_api.expect(page.locator("#connection")).to_have_attribute("data-state", "reconnecting")
    # The last board stays on screen while the stream is away.
    assert page.locator("section.line").count() == 3
    page.close()
