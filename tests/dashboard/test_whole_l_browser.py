"""The whole 'L' board in headless Chromium: the line picker, live arrivals with their heading,
the Loop and Green's branches, a closed station."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboard.test_browser import browser, sync_api
from tests.dashboard.test_whole_l_board import loaded

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the module-scoped fixture, shared with test_browser

SCREENSHOT = "/tmp/dashboard-whole-l.png"


def test_picking_a_line_shows_it_alone_and_it_follows_arrivals(
    browser: Any, serve_dashboard: Any
) -> None:
    state = loaded()
    server = serve_dashboard(state)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(server.url + "/")
    sync_api.expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    page.locator('#view-switch button[data-view="table"]').click()  # the page opens on the map
    assert page.locator("section.line").count() == 8
    sync_api.expect(page.locator("#row-red-40340")).to_have_class("closed")
    sync_api.expect(page.locator("#row-red-40340 td.entries")).to_have_text("closed")

    page.locator('#line-picker a[href="#line-brown"]').click()
    sync_api.expect(page.locator("#line-brown")).to_be_visible()
    sync_api.expect(page.locator("#line-red")).to_be_hidden()
    sync_api.expect(page.locator("#line-brown tr.section-row").last).to_have_text(
        "The Loop: Outer Loop, counter-clockwise"
    )

    state.apply_arrival(
        {"station_id": 40730, "train_id": "BR004", "direction": "a", "line": "brown",
         "train_status": "in_service", "prev_station_id": 40460, "prev_direction": "b",
         "direction_name": "To Kimball"}
    )  # fmt: skip
    cell = page.locator("#row-brown-40730 td.dir-a")
    sync_api.expect(cell.locator(".train-id")).to_have_text("BR004")
    sync_api.expect(cell.locator(".train-status")).to_have_text("To Kimball \u00b7 in service")

    page.locator('#line-picker a[href="#line-green"]').click()
    sync_api.expect(page.locator("#line-green tr.section-row")).to_have_text(
        ["Ashland/63rd branch", "Cottage Grove branch"]
    )
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.locator('#line-picker a.all').click()
    sync_api.expect(page.locator("#line-red")).to_be_visible()
    page.close()
