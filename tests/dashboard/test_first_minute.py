"""The board's first minute, as a new user meets it: `cta demo`, then the page in Chromium at once.

The page must show the weather while the simulated clock still reads the start's hour (the
station reports at placement, not at the next full hour) and the simulated time in Chicago with
the day type, taken from the events. Issue 13 asks for all of it within 5 s of the command
starting; on a quiet machine it takes about 2 s (bench figures go in the issue note), but a wall
clock bound in a test fails on a loaded machine, not on a broken board. So the waits are bounded
generously and the behaviour is what the page shows: weather before 03:00 simulated time.
Nothing here sleeps.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cta.dashboard.state import DashboardState
from cta.runtime import wait_for
from cta.stack.config import free_ports
from tests.dashboard.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)

# A bound on the waits, not the figure asked for (5 s): a loaded machine may start slower.
FIRST_MINUTE = 60.0
# Thanksgiving 2026 (a Thursday), 02:35 in Chicago: a holiday, so the day type has a name.
START = "2026-11-26T02:35"
SCREENSHOT = "/tmp/dashboard-first-minute.png"


def cta_command() -> str:
    installed = Path(sys.executable).with_name("cta")
    return str(installed) if installed.exists() else shutil.which("cta") or "cta"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, float]]:
    """`cta demo` on the memory backend and a free port: (url, time.monotonic() at start)."""
    (port,) = free_ports(1)
    env = {**os.environ, "CTA_BACKEND": "memory"}
    log = (tmp_path / "demo.log").open("wb")
    started = time.monotonic()
    process = subprocess.Popen(
        [cta_command(), "demo", "--backend", "memory", "--port", str(port), "--start", START],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        yield f"http://127.0.0.1:{port}/", started
    finally:
        process.send_signal(signal.SIGINT)  # the demo's Ctrl-C: it stops cleanly
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def remaining_ms(deadline: float) -> float:
    return max(1.0, (deadline - time.monotonic()) * 1000)


def serving(url: str) -> bool:
    """Whether the demo accepts connections on ``url``'s port yet."""
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_cta_demo_shows_weather_and_the_simulated_chicago_time_from_the_first_minute(
    browser: Any, demo: tuple[str, float]
) -> None:
    url, started = demo
    deadline = started + FIRST_MINUTE
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    # The demo is still starting: wait until it accepts connections.
    wait_for(lambda: serving(url), timeout=deadline - time.monotonic(), what=f"{url} to serve")
    page.goto(url, timeout=remaining_ms(deadline))

    expect = sync_api.expect
    expect(page.locator("#temperature")).to_have_text(
        re.compile(r"^-?\d+\u00b0F$"), timeout=remaining_ms(deadline)
    )
    expect(page.locator("#weather-label")).not_to_have_text(
        "Waiting for weather", timeout=remaining_ms(deadline)
    )
    # The simulated clock from the events: the start (or a step after it), never the wall clock;
    # still before 03:00 when the weather is there, so the report came at placement.
    expect(page.locator("#sim-time")).to_have_text(
        re.compile(r"^02:[345]\d$"), timeout=remaining_ms(deadline)
    )
    expect(page.locator("#sim-zone")).to_have_text("CST", timeout=remaining_ms(deadline))
    expect(page.locator("#sim-date")).to_have_text(
        "Thu 26 Nov 2026", timeout=remaining_ms(deadline)
    )
    expect(page.locator("#day-type")).to_have_text(
        "Sunday/holiday ridership \u00b7 Thanksgiving", timeout=remaining_ms(deadline)
    )
    page.screenshot(path=SCREENSHOT, full_page=False)
    page.close()


class QuietFeed:
    """A feed that last heard from the pipeline when the test says (``heard_at``, monotonic)."""

    name = "quiet"

    def __init__(self, heard_at: float) -> None:
        self.heard_at = heard_at

    def pump(self, timeout: float = 0.0) -> int:
        return 0

    def close(self) -> None:
        pass


def test_the_header_says_when_the_board_last_heard_from_the_pipeline(
    browser: Any, serve_dashboard: Any
) -> None:
    state = DashboardState()
    feed = QuietFeed(heard_at=time.monotonic() - 30.0)
    server = serve_dashboard(state, feed)
    page = browser.new_page()
    page.goto(server.url + "/")
    connection = page.locator("#connection")
    sync_api.expect(connection).to_have_attribute("data-state", "live")  # the stream is up...
    sync_api.expect(connection).to_have_attribute("data-freshness", "stale")  # ...the data not
    sync_api.expect(page.locator("#connection-label")).to_have_text(re.compile(r"^\d+ s ago$"))

    feed.heard_at = time.monotonic()
    state.apply_weather({"temperature": 50.0, "status": "sunny", "timestamp": 1})  # a push
    sync_api.expect(page.locator("#connection-label")).to_have_text("live")
    sync_api.expect(connection).to_have_attribute("data-freshness", "fresh")

    server.stop()
    sync_api.expect(page.locator("#connection-label")).to_have_text("reconnecting")
    page.close()
