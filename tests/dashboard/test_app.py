from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any

import pytest

from cta.dashboard.app import FAILING_AFTER, MonitoredPump, create_app
from cta.dashboard.delta import apply_delta
from cta.dashboard.state import DashboardState
from cta.runtime import wait_for
from cta.testing import expect_log
from tests.dashboard.conftest import LiveServer, unique_name


def board() -> DashboardState:
    state = DashboardState()
    state.apply_station({"station_id": 1, "station_name": "O'Hare", "order": 0, "line": "blue"})
    state.apply_station({"station_id": 2, "station_name": "Rosemont", "order": 1, "line": "blue"})
    state.apply_arrival(
        {"station_id": 2, "train_id": "BL001", "direction": "b", "line": "blue",
         "train_status": "in_service", "prev_station_id": None, "prev_direction": None}
    )
    state.apply_weather({"temperature": 70.0, "status": "sunny"})
    return state


def served(state: DashboardState, heard_ago_ms: int | None = None) -> dict[str, Any]:
    """What the app serves for ``state``: its snapshot, with when the feed last heard."""
    snapshot = state.snapshot()
    snapshot["header"]["heard_ago_ms"] = heard_ago_ms
    return snapshot


class CountingPump:
    """A feed that counts its pumps and can be told to fail."""

    name = "counting"

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.pumps = 0
        self.closed = threading.Event()
        self.heard_at: float | None = None  # as DashboardFeed: when records last came in

    def pump(self, timeout: float = 0.0) -> int:
        self.pumps += 1
        if self.fail:
            raise ConnectionError("broker away")
        return 0

    def close(self) -> None:
        self.closed.set()


def test_page_is_rendered_with_the_current_snapshot() -> None:
    app = create_app(board(), name=unique_name())
    _, response = app.test_client.get("/")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "O&#x27;Hare" in response.text and "BL001" in response.text
    assert "/static/dashboard.js" in response.text


def test_static_assets_are_served() -> None:
    app = create_app(board(), name=unique_name())
    _, script = app.test_client.get("/static/dashboard.js")
    _, style = app.test_client.get("/static/dashboard.css")
    assert script.status == 200 and "EventSource" in script.text
    assert style.status == 200 and "--line-color" in style.text


def test_api_status_is_the_snapshot() -> None:
    state = board()
    app = create_app(state, name=unique_name())
    _, response = app.test_client.get("/api/status")
    assert response.status == 200
    assert response.json == served(state)
    assert response.json["lines"][0]["stations"][1]["b"] == {
        "train_id": "BL001", "status": "in service",
    }


def test_the_snapshot_says_how_long_ago_the_feed_last_heard_from_the_pipeline() -> None:
    feed = CountingPump()
    app = create_app(board(), name=unique_name(), feed=feed)
    _, response = app.test_client.get("/api/status")
    assert response.json["header"]["heard_ago_ms"] is None  # nothing heard yet
    feed.heard_at = time.monotonic() - 3.0
    _, response = app.test_client.get("/api/status")
    assert 3000 <= response.json["header"]["heard_ago_ms"] < 60_000


def test_healthz_is_ok_without_a_feed() -> None:
    app = create_app(board(), name=unique_name())
    _, response = app.test_client.get("/healthz")
    assert response.status == 200
    assert response.json["status"] == "ok"
    assert response.json["feed"] is None


def test_feed_runs_in_the_background_while_serving_and_stops_after() -> None:
    feed = CountingPump()
    app = create_app(DashboardState(), name=unique_name(), feed=feed)
    _, response = app.test_client.get("/healthz")
    assert response.status == 200
    assert response.json["feed"]["name"] == "counting"
    assert feed.closed.is_set()  # stopped with the server


def test_monitored_pump_counts_consecutive_failures_and_recovers() -> None:
    inner = CountingPump(fail=True)
    monitor = MonitoredPump(inner)
    for _ in range(FAILING_AFTER):
        with pytest.raises(ConnectionError):
            monitor.pump()
    assert monitor.failing
    assert monitor.health()["last_error"] == "ConnectionError: broker away"
    inner.fail = False
    monitor.pump()
    assert not monitor.failing
    assert monitor.failures == FAILING_AFTER


def test_healthz_answers_503_when_the_feed_keeps_failing(serve_dashboard: Any) -> None:
    with expect_log("cta.runtime", r"pump .* failed; retrying"):  # BackgroundPump, each failure
        check_healthz_reports_the_failing_feed(serve_dashboard)


def check_healthz_reports_the_failing_feed(serve_dashboard: Any) -> None:
    feed = CountingPump(fail=True)
    server: LiveServer = serve_dashboard(DashboardState(), feed)

    def health() -> tuple[int, dict[str, Any]]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        try:
            conn.request("GET", "/healthz")
            answer = conn.getresponse()
            return answer.status, json.loads(answer.read())
        finally:
            conn.close()

    wait_for(lambda: health()[0] == 503, timeout=10, what="healthz to report the failing feed")
    status, body = health()
    assert status == 503
    assert body["status"] == "failing"
    assert body["feed"]["consecutive_failures"] >= FAILING_AFTER
    server.stop()  # inside the expectation: the feed fails until it stops


class EventStream:
    """A raw SSE client: reads events one at a time from a live server."""

    def __init__(self, port: int, headers: dict[str, str] | None = None, path: str = "/events"):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.conn.request("GET", path, headers={"Accept": "text/event-stream", **(headers or {})})
        self.response = self.conn.getresponse()

    def next_event(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        while True:
            line = self.response.readline()
            if not line:
                raise EOFError("stream ended")
            text = line.decode("utf-8").rstrip("\n")
            if not text:
                if "data" in fields:
                    return fields
                continue
            if text.startswith(":"):
                continue
            name, _, value = text.partition(":")
            fields[name] = value.lstrip(" ")

    def close(self) -> None:
        self.conn.close()


def test_events_sends_the_snapshot_on_connect_then_changes(serve_dashboard: Any) -> None:
    state = board()
    server: LiveServer = serve_dashboard(state)
    stream = EventStream(server.port)
    try:
        assert stream.response.status == 200
        assert stream.response.getheader("Content-Type", "").startswith("text/event-stream")
        first = stream.next_event()
        assert first["event"] == "snapshot"
        assert json.loads(first["data"]) == served(state)
        state.apply_summary(2, 99)
        second = stream.next_event()  # what changed, not the whole board again
        assert second["event"] == "delta"
        assert second["id"].endswith(f"-{state.version}")
        delta = json.loads(second["data"])
        assert delta["lines"]["blue"]["rows"] == {"2": {"entries": 99}}
        assert apply_delta(json.loads(first["data"]), delta) == served(state)
    finally:
        stream.close()


def test_events_stream_ends_when_the_server_shuts_down(serve_dashboard: Any) -> None:
    server: LiveServer = serve_dashboard(board())
    stream = EventStream(server.port)
    stream.next_event()
    server.stop()  # would time out if the open stream kept the server alive
    with pytest.raises((EOFError, http.client.IncompleteRead, ConnectionError)):
        while True:
            stream.next_event()
    stream.close()


def test_a_client_going_away_does_not_disturb_the_server(serve_dashboard: Any) -> None:
    state = board()
    server: LiveServer = serve_dashboard(state)
    stream = EventStream(server.port)
    stream.next_event()
    stream.close()
    state.apply_summary(1, 5)  # something to push to the departed client
    again = EventStream(server.port)
    try:
        assert json.loads(again.next_event()["data"])["version"] == state.version
    finally:
        again.close()


def test_healthz_is_503_naming_a_dead_processor_and_200_once_it_is_back() -> None:
    supervised: dict[str, Any] = {"ok": False, "down": ["faust-stations"], "processors": {
        "faust-stations": {"state": "backoff", "last_exit": "killed by SIGKILL"},
        "ksql-engine": {"state": "running", "last_exit": None},
    }}
    app = create_app(DashboardState(), name=unique_name(), processors=lambda: supervised)
    _, response = app.test_client.get("/healthz")
    assert response.status == 503
    assert response.json["status"] == "failing"
    assert response.json["down"] == ["faust-stations"]
    assert response.json["processors"]["faust-stations"]["last_exit"] == "killed by SIGKILL"
    supervised.update(ok=True, down=[])
    _, response = app.test_client.get("/healthz")
    assert response.status == 200 and response.json["status"] == "ok"
