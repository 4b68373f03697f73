"""The Sanic dashboard: the page, its JSON, health, and a server-sent event stream.

The feed (a blocking ``Pump``) runs in a ``BackgroundPump`` thread started before the server
serves and stopped when it stops, so the event loop never waits on Kafka. ``/events`` sends the
full snapshot on connect and then the deltas of every version published, at most
``PUSH_INTERVAL`` apart, each built and encoded once for all clients (``cta.dashboard.fanout``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sanic import Request, Sanic
from sanic.config import Config
from sanic.response import HTTPResponse, html, raw
from sanic.response import json as json_response

from cta.dashboard.fanout import Fanout, Socket
from cta.dashboard.netmap import add_map_route
from cta.dashboard.page import render_page
from cta.dashboard.state import DashboardState
from cta.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from cta.metrics import Metrics, process_metrics
from cta.runtime import BackgroundPump, Pump

DashboardApp = Sanic[Config, SimpleNamespace]

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
PUSH_INTERVAL = 0.25  # seconds between snapshot pushes: at most ~4 a second
KEEPALIVE_INTERVAL = 15.0  # an idle stream sends a comment so proxies keep it open
# The kernel's send buffer of each /events socket (Linux doubles it), fixed instead of autotuned
# to megabytes: a client that stops reading is noticed (and costs the kernel) within this much.
EVENTS_SEND_BUFFER = 64 * 1024
# How long a busy thread keeps the GIL while another waits for it (CPython's default: 5 ms). The
# demo runs the pipeline's threads (simulation, processors, feed) in the board's process; with
# the default, the event loop queued behind them and /healthz took up to 250 ms with one client.
GIL_SWITCH_INTERVAL = 0.001
FAILING_AFTER = 3  # consecutive feed failures before /healthz answers 503


class MonitoredPump:
    """Wraps the feed to know whether it is failing *now* (BackgroundPump counts all time)."""

    def __init__(self, pump: Pump) -> None:
        self.name = pump.name
        self.inner = pump
        self.consecutive_failures = 0
        self.failures = 0
        self.last_error: str | None = None
        self.last_success: float | None = None

    def pump(self, timeout: float = 0.0) -> int:
        try:
            handled = self.inner.pump(timeout)
        except Exception as exc:
            self.failures += 1
            self.consecutive_failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            raise
        self.consecutive_failures = 0
        self.last_success = time.time()
        return handled

    def close(self) -> None:
        self.inner.close()

    @property
    def failing(self) -> bool:
        return self.consecutive_failures >= FAILING_AFTER

    def health(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "name": self.name,
            "failing": self.failing,
            "consecutive_failures": self.consecutive_failures,
            "failures": self.failures,
            "last_error": self.last_error,
            "last_success": self.last_success,
        }
        # DashboardFeed's counters, when the pump has them.
        for counter in ("records", "errors"):
            value = getattr(self.inner, counter, None)
            if isinstance(value, int):
                report[counter] = value
        last_errors = getattr(self.inner, "last_errors", None)
        if last_errors is not None:
            report["last_malformed"] = list(last_errors)[-3:]
        return report


def heard_ago_ms(feed: Pump | None) -> int | None:
    """How long ago the feed last received records, in ms; None before the first (or no feed)."""
    heard_at = getattr(feed, "heard_at", None)
    if not isinstance(heard_at, float):
        return None
    return max(0, round((time.monotonic() - heard_at) * 1000))


def html_safe_json(body: Any, *, status: int = 200) -> HTTPResponse:
    """JSON with ``<``, ``>`` and ``&`` escaped (still the same JSON): a station name holding
    markup can never close a script or start a tag, whatever the client does with the text."""
    text = json.dumps(body, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return raw(text.encode("utf-8"), status=status, content_type="application/json")


# Health of processes the dashboard does not run itself (``cta.supervisor.Supervisor.health``):
# ``{"ok": bool, "down": [names], "processors": {...}}``.
ProcessorHealth = Callable[[], Mapping[str, Any]]


def create_app(
    state: DashboardState,
    *,
    name: str = "cta-dashboard",
    feed: Pump | None = None,
    metrics: Metrics | None = None,
    processors: ProcessorHealth | None = None,
) -> DashboardApp:
    """``metrics``: what ``/metrics`` serves (default: this process's, which the feed also
    records its latencies into)."""
    # Our logging configuration (cta.cli) stays the only one: Sanic would print each line twice.
    app: DashboardApp = Sanic(name, configure_logging=False)
    app.config.KEEP_ALIVE_TIMEOUT = 30
    app.static("/static", STATIC_DIR, name="static")
    add_map_route(app, state.layout)
    monitor = None if feed is None else MonitoredPump(feed)
    exposed = metrics if metrics is not None else process_metrics()
    # Our own handles, not app.ctx: one place to find what the listeners start and stop.
    runtime: dict[str, Any] = {"runner": None, "stopping": None, "fanout": None, "publisher": None}

    def board() -> dict[str, Any]:
        """The state's snapshot, with when the feed last heard from the pipeline."""
        snapshot = state.snapshot()
        snapshot["header"]["heard_ago_ms"] = heard_ago_ms(feed)
        return snapshot

    @app.before_server_start
    async def start_feed(app: DashboardApp) -> None:
        runtime["stopping"] = asyncio.Event()
        # One per server run: a restarted server has a new epoch, so old event ids are unknown.
        fanout = runtime["fanout"] = Fanout(board)
        runtime["publisher"] = asyncio.get_running_loop().create_task(
            fanout.run(lambda: state.version, PUSH_INTERVAL), name="dashboard-publisher"
        )
        if monitor is not None:
            runtime["runner"] = BackgroundPump(monitor).start()

    @app.before_server_stop
    async def stop_feed(app: DashboardApp) -> None:
        stopping: asyncio.Event | None = runtime["stopping"]
        if stopping is not None:
            stopping.set()  # ends every /events stream, so shutdown does not wait on them
        fanout: Fanout | None = runtime["fanout"]
        publisher: asyncio.Task[None] | None = runtime["publisher"]
        if fanout is not None:
            fanout.close()  # wakes the streams waiting for a version
        if publisher is not None:
            runtime["publisher"] = None
            await publisher
        runner: BackgroundPump | None = runtime["runner"]
        if runner is not None:
            runtime["runner"] = None
            await asyncio.get_running_loop().run_in_executor(None, runner.stop)

    @app.get("/")
    async def page(request: Request) -> HTTPResponse:
        return html(render_page(board()))

    @app.get("/api/status")
    async def status(request: Request) -> HTTPResponse:
        return json_response(board())

    @app.get("/api/stations/<station_id:str>")
    async def station(request: Request, station_id: str) -> HTTPResponse:
        """The station panel's JSON (docs/dashboard.md); 404 with a JSON error for an id that is
        not a station on the board."""
        detail = state.station_detail(int(station_id)) if station_id.isdigit() else None
        if detail is None:
            return html_safe_json({"error": f"unknown station {station_id!r}"}, status=404)
        return html_safe_json(detail)

    @app.get("/healthz")
    async def healthz(request: Request) -> HTTPResponse:
        failing = monitor is not None and monitor.failing
        supervised = None if processors is None else processors()
        down = [] if supervised is None else list(supervised.get("down", ()))
        body: dict[str, Any] = {
            "status": "failing" if failing or down else "ok",
            "version": state.version,
            "pending_arrivals": state.pending(),
            "feed": None if monitor is None else monitor.health(),
        }
        fanout: Fanout | None = runtime["fanout"]
        if fanout is not None:
            body["events"] = fanout.stats()
        if supervised is not None:
            body["down"] = down
            body["processors"] = supervised.get("processors", {})
        return json_response(body, status=503 if failing or down else 200)

    @app.get("/metrics")
    async def metrics_page(request: Request) -> HTTPResponse:
        return raw(exposed.exposition(), content_type=METRICS_CONTENT_TYPE)

    @app.get("/events")
    async def events(request: Request) -> None:
        fanout: Fanout = runtime["fanout"]
        response = await request.respond(
            content_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        await response.send(b"retry: 2000\n\n")
        # EventSource sends Last-Event-ID when it reconnects by itself; the page passes it in the
        # query when it opens a new stream. Either names the version the client holds.
        last_id = request.headers.get("last-event-id") or request.args.get("last_event_id")
        held = fanout.resume_version(last_id)
        if last_id and held is None:
            fanout.resets += 1  # not ours or no longer held: a fresh snapshot
        # A new client's first snapshot is at least as new as the board when it connected.
        floor = state.version if held is None else 0
        transport = request.transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, EVENTS_SEND_BUFFER)
        # Sanic frames this response as chunks (HTTP/1.1, no length): then the fan-out may write
        # the shared, already framed deltas to the socket itself.
        chunked = response.headers.get("transfer-encoding") == "chunked"
        # A client that goes away cancels this handler (CancelledError): the gauge still drops.
        exposed.sse_clients.inc()
        try:
            await fanout.serve(
                response.send,
                held,
                floor,
                transport=transport if isinstance(transport, Socket) else None,
                direct=chunked,
                keepalive=KEEPALIVE_INTERVAL,
            )
        finally:
            exposed.sse_clients.dec()
        await response.eof()

    return app


def serve(
    state: DashboardState,
    feed: Pump | None,
    host: str = "127.0.0.1",
    port: int = 8888,
    *,
    name: str = "cta-dashboard",
    sock: socket.socket | None = None,
    processors: ProcessorHealth | None = None,
) -> None:
    """Run the dashboard in this process until stopped (Ctrl-C shuts it down cleanly). ``sock``:
    an already listening socket to serve on instead of binding ``host:port``; ``processors``:
    the health of supervised processors, which ``/healthz`` reports."""
    app = create_app(state, name=name, feed=feed, processors=processors)
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL))
    if sock is not None:
        log.info("dashboard on http://%s:%d/", *sock.getsockname()[:2])
        app.run(sock=sock, single_process=True, access_log=False, motd=False)
        return
    log.info("dashboard on http://%s:%d/", host, port)
    app.run(host=host, port=port, single_process=True, access_log=False, motd=False)
