"""The offline compose demo for real: ``docker-compose.offline.yaml`` brought up from cold, the
board checked from the host (and in headless Chromium), then ``down -v`` leaving nothing.

Needs CTA_COMPOSE_TESTS=1, a Docker engine and the images of ``python -m cta.images build``
(``scripts/test-docker`` provides all three). CTA_COMPOSE picks the compose command (default:
``docker compose`` where the plugin answers, else ``docker-compose``). Host ports are chosen
free at run time; a failure prints the services' logs.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from cta.data import default_network
from cta.domain.events import WeatherReading, WeatherStatus
from cta.producers.weather import WeatherProducer
from cta.rest_proxy.client import RestProxyClient
from cta.runtime import wait_for
from cta.stack.config import free_ports

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("CTA_COMPOSE_TESTS") != "1", reason="set CTA_COMPOSE_TESTS=1 to run"
    ),
]

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.offline.yaml"
LOGS = ROOT / ".docker-build" / "logs"
LONG_RUNNING = ("kafka", "schema-registry", "kafka-rest", "postgres", "connect", "ksql", "faust",
                "dashboard", "simulation")  # fmt: skip
PORT_VARIABLES = ("CTA_COMPOSE_KAFKA_PORT", "CTA_COMPOSE_REGISTRY_PORT",
                  "CTA_COMPOSE_REST_PROXY_PORT", "CTA_COMPOSE_POSTGRES_PORT",
                  "CTA_COMPOSE_CONNECT_PORT", "CTA_COMPOSE_KSQL_PORT",
                  "CTA_DASHBOARD_HOST_PORT")  # fmt: skip
UP_TIMEOUT = 600.0


def compose_command() -> list[str]:
    chosen = os.environ.get("CTA_COMPOSE")
    if chosen:
        return shlex.split(chosen)
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=60)
    if plugin.returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"]


def _timestamp(text: str) -> float:
    """Docker's RFC 3339 times (nanoseconds, 'Z'), as epoch seconds."""
    head, _, fraction = text.rstrip("Z").partition(".")
    digits = "".join(c for c in fraction if c.isdigit())[:6]
    stamp = datetime.fromisoformat(head + "+00:00").timestamp()
    return stamp + (int(digits.ljust(6, "0")) / 1e6 if digits else 0.0)


@dataclass
class Demo:
    project: str
    env: dict[str, str]
    command: list[str]
    # Every health-check result seen per service while coming up (Docker keeps only five).
    checks: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # `up -d`, running while the test watches the services come up.
    up: subprocess.Popen[str] | None = None

    def compose(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        full = [*self.command, "-p", self.project, "-f", str(COMPOSE_FILE), *args]
        return subprocess.run(full, capture_output=True, text=True, env=self.env, timeout=timeout)

    def port(self, variable: str) -> int:
        return int(self.env[variable])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port('CTA_DASHBOARD_HOST_PORT')}{path}"

    def containers(self) -> dict[str, dict[str, Any]]:
        """Each service's container, as ``docker inspect`` describes it."""
        ids = self.compose("ps", "-a", "-q").stdout.split()
        if not ids:
            return {}
        found = subprocess.run(
            ["docker", "inspect", *ids], capture_output=True, text=True, timeout=60
        )
        described = json.loads(found.stdout or "[]")
        return {c["Config"]["Labels"]["com.docker.compose.service"]: c for c in described}

    def logs(self, tail: int = 40) -> str:
        return self.compose("logs", "--no-color", f"--tail={tail}").stdout

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url("/api/status"), timeout=5) as response:
            return dict(json.load(response))


def _board(demo: Demo) -> dict[str, Any] | None:
    try:
        return demo.status()
    except OSError:
        return None


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    project = f"cta-demo-{uuid.uuid4().hex[:8]}"
    ports = free_ports(len(PORT_VARIABLES))
    env = {**os.environ, **{v: str(p) for v, p in zip(PORT_VARIABLES, ports, strict=True)}}
    demo = Demo(project, env, compose_command())
    demo.up = subprocess.Popen(
        [*demo.command, "-p", project, "-f", str(COMPOSE_FILE), "up", "-d"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        yield demo
    finally:
        if demo.up.poll() is None:
            demo.up.kill()
        demo.up.communicate()
        LOGS.mkdir(parents=True, exist_ok=True)
        (LOGS / "compose-demo.log").write_text(demo.logs(tail=2000), encoding="utf-8")
        demo.compose("down", "-v", "--remove-orphans")


def _wait_until_up(demo: Demo) -> dict[str, dict[str, Any]]:
    """Until every long-running service is healthy (or running, for the simulation) and setup
    has exited 0, keeping every health-check result seen; an exit fails with the logs."""
    deadline = time.monotonic() + UP_TIMEOUT
    while True:
        containers = demo.containers()
        for name, container in containers.items():
            for check in (container["State"].get("Health") or {}).get("Log") or []:
                demo.checks.setdefault(name, {})[check["Start"]] = check
        states = {name: c["State"] for name, c in containers.items()}
        for name, state in states.items():
            exited = state["Status"] == "exited"
            if exited and (name != "setup" or state["ExitCode"] != 0):
                pytest.fail(f"{name} exited with {state['ExitCode']}:\n{demo.logs()}")
        ready = all(
            name in states
            and (
                states[name]["Status"] == "running"
                if name == "simulation"
                else (states[name].get("Health") or {}).get("Status") == "healthy"
            )
            for name in LONG_RUNNING
        )
        if ready and states.get("setup", {}).get("Status") == "exited":
            assert demo.up is not None
            output, _ = demo.up.communicate(timeout=120)
            assert demo.up.returncode == 0, f"compose up failed:\n{output[-4000:]}"
            return containers
        if time.monotonic() > deadline:
            summary = {n: (s["Status"], (s.get("Health") or {}).get("Status")) for n, s in
                       states.items()}  # fmt: skip
            pytest.fail(f"not up after {UP_TIMEOUT:.0f} s: {summary}\n{demo.logs()}")
        time.sleep(1.0)


def _first_healthy(demo: Demo, name: str) -> float:
    checks = demo.checks.get(name, {}).values()
    passing = [_timestamp(c["End"]) for c in checks if c["ExitCode"] == 0]
    assert passing, f"{name}: no passing health check seen"
    return min(passing)


def test_every_service_starts_after_what_it_waits_for_is_healthy(demo: Demo) -> None:
    containers = _wait_until_up(demo)
    rules = demo.compose("config").stdout
    assert rules, "compose config printed nothing"
    services = yaml.safe_load(rules)["services"]
    for name, service in services.items():
        started = _timestamp(containers[name]["State"]["StartedAt"])
        for dependency, rule in (service.get("depends_on") or {}).items():
            if rule["condition"] == "service_completed_successfully":
                finished = _timestamp(containers[dependency]["State"]["FinishedAt"])
                assert finished <= started, f"{name} started before {dependency} finished"
            else:
                healthy = _first_healthy(demo, dependency)
                assert healthy <= started, f"{name} started before {dependency} was healthy"
    assert containers["setup"]["State"]["ExitCode"] == 0


def _trains(line: dict[str, Any]) -> set[tuple[int, str, str]]:
    return {
        (station["station_id"], direction, station[direction]["train_id"])
        for station in line["stations"]
        for direction in ("a", "b")
        if station[direction]
    }


def test_the_board_shows_every_line_with_trains_moving_and_counts_rising(demo: Demo) -> None:
    lines = {str(color) for color in default_network().lines}

    def every_line_has_trains() -> bool:
        board = _board(demo)
        return board is not None and all(
            _trains(entry) for entry in board["lines"] if entry["line"] in lines
        ) and lines <= {entry["line"] for entry in board["lines"]}

    wait_for(every_line_has_trains, timeout=180, interval=1.0, what="trains on every line")
    first = {entry["line"]: entry for entry in demo.status()["lines"]}

    def moved_and_counted() -> bool:
        now = {entry["line"]: entry for entry in demo.status()["lines"]}
        return all(
            _trains(now[line]) != _trains(first[line])
            and sum(s["entries"] for s in now[line]["stations"])
            > sum(s["entries"] for s in first[line]["stations"])
            for line in lines
        )

    wait_for(moved_and_counted, timeout=180, interval=1.0, what="trains moving, counts rising")
    _look_in_chromium(demo)


def _look_in_chromium(demo: Demo) -> None:
    """The page as a person on the host sees it, in headless Chromium: live (its event stream
    connected), a train of every line shown, and the board updating without a reload; a
    screenshot is kept beside the logs."""
    chromium = shutil.which("chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    if chromium is None:
        pytest.skip("chromium is not installed")
    LOGS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            page.goto(demo.url("/"))
            sync_api.expect(page.locator("#connection")).to_have_attribute("data-state", "live")
            # The page opens on the map: trains on it, then the table view of the same state.
            sync_api.expect(page.locator(".network-map.main .train").first).to_be_visible()
            page.screenshot(path=str(LOGS / "compose-map.png"))
            page.locator('#view-switch button[data-view="table"]').click()
            for entry in demo.status()["lines"]:
                trains = page.locator(f"section.line [id^='row-{entry['line']}-'] .train-id")
                sync_api.expect(trains.first).to_be_visible()
            version = page.locator("body").get_attribute("data-version")
            sync_api.expect(page.locator("body")).not_to_have_attribute(
                "data-version", str(version), timeout=60_000
            )
            page.screenshot(path=str(LOGS / "compose-board.png"), full_page=True)
        finally:
            browser.close()


def test_weather_arrives_through_the_rest_proxy(demo: Demo) -> None:
    wait_for(
        lambda: (_board(demo) or {}).get("weather") is not None,
        timeout=180, interval=1.0, what="the simulation's weather on the board",
    )  # fmt: skip
    # A reading of our own through the REST Proxy's published port reaches the board too.
    proxy = RestProxyClient(f"http://127.0.0.1:{demo.port('CTA_COMPOSE_REST_PROXY_PORT')}")
    # Newer in event time than what the board shows: the simulated clock runs ahead of the wall
    # clock (speed 60), and the board keeps the newest reading, so a wall-clock "now" is older
    # than the simulation's once its second hourly report is in.
    shown = ((_board(demo) or {}).get("weather") or {}).get("timestamp") or 0
    reading = WeatherReading(
        123.5, WeatherStatus.WINDY, max(int(time.time() * 1000), int(shown) + 1)
    )
    WeatherProducer(proxy).send(reading)
    wait_for(
        lambda: ((_board(demo) or {}).get("weather") or {}).get("temperature") == 123.5,
        timeout=60, interval=0.2, what="the posted weather reading on the board",
    )  # fmt: skip


def test_a_station_update_in_postgres_reaches_the_board(demo: Demo) -> None:
    board = demo.status()
    station = board["lines"][0]["stations"][0]
    renamed = f"{station['name']} (renamed {uuid.uuid4().hex[:4]})"
    port = demo.port("CTA_COMPOSE_POSTGRES_PORT")
    url = f"postgresql://cta_admin:chicago@127.0.0.1:{port}/cta"
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            "UPDATE stations SET station_name = %s WHERE station_id = %s",
            (renamed, station["station_id"]),
        )

    def shown() -> bool:
        lines = demo.status()["lines"]
        return any(s["name"] == renamed for entry in lines for s in entry["stations"])

    wait_for(shown, timeout=120, interval=0.5, what="the renamed station on the board")


def test_down_v_leaves_no_container_network_or_volume(demo: Demo) -> None:
    result = demo.compose("down", "-v", "--remove-orphans")
    assert result.returncode == 0, result.stderr[-3000:]
    label = f"label=com.docker.compose.project={demo.project}"
    named = f"name={demo.project}"
    for kind in (["ps", "-a"], ["network", "ls"], ["volume", "ls"]):
        for selector in (label, named):
            listed = subprocess.run(
                ["docker", *kind, "-q", "--filter", selector],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert listed.returncode == 0, listed.stderr
            left = listed.stdout.strip()
            assert left == "", f"docker {' '.join(kind)} --filter {selector} still lists {left}"
