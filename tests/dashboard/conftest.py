"""A dashboard served on a real socket in a background thread, for streaming and browser tests."""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cta.dashboard.app import DashboardApp, create_app
from cta.dashboard.state import DashboardState
from cta.runtime import Pump
from cta.testing import listening_socket

_names = itertools.count(1)


def unique_name() -> str:
    """Sanic keeps a registry of app names: every test app gets its own."""
    return f"cta-dashboard-test-{next(_names)}"


class LiveServer:
    """Runs the app's whole lifecycle (listeners included) on its own event loop thread."""

    def __init__(self, app: DashboardApp, sock: socket.socket | None = None) -> None:
        self.app = app
        # Sanic's TouchUp rewrites class-level methods on the first app's start; a second app
        # started in the same process (outside sanic-testing's test mode) then fails.
        app.config.TOUCHUP = False
        # Bound and listening before the server starts: no other process can take the port.
        self._sock = sock or listening_socket()
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dashboard-live", daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(15):
            raise TimeoutError("dashboard did not start")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # surfaced to the test through start()
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server: Any = await self.app.create_server(
            sock=self._sock, return_asyncio_server=True, access_log=False
        )
        await server.startup()
        await server.before_start()
        await server.after_start()
        self._ready.set()
        await self._stop.wait()
        await server.before_stop()
        await server.close()
        for connection in list(server.connections):
            connection.close_if_idle()
        await server.after_stop()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)
        if self._thread.is_alive():
            raise TimeoutError("dashboard did not stop")


@pytest.fixture
def serve_dashboard() -> Iterator[Any]:
    """Call with a state (and optionally a feed) to get a started LiveServer."""
    servers: list[LiveServer] = []

    def start(state: DashboardState, feed: Pump | None = None) -> LiveServer:
        server = LiveServer(create_app(state, name=unique_name(), feed=feed)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
