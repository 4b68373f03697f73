"""The ``/events`` fan-out: one encoded payload per board version, shared by every client.

A single publisher task polls the state's version; when it moved, one worker thread builds the
snapshot, the delta from the previously published one (``cta.dashboard.delta``) and both SSE
frames, once, off the event loop. Each client's handler then only picks bytes to send:

- a new client gets the latest full snapshot (``event: snapshot``);
- a client at version ``v`` gets the deltas published since ``v`` (``event: delta``), joined,
  when there are at most ``backlog`` of them and they are smaller than the snapshot; else, having
  fallen behind, a fresh full snapshot instead of a backlog;
- a client resuming with ``Last-Event-ID`` is at that version if the id is this publisher's (the
  id carries an epoch, so a restarted server never applies deltas to another server's state) and
  still in the bounded history; else it is new.

So a client costs the server its handler's few locals plus the socket's bounded write buffer
(Sanic stops writing to a socket past its high-water mark): nothing is queued per client, and a
client blocked on a full socket holds only its own handler, never the publisher or the others.

The common case, a client holding the version just before the new one with nothing left unsent,
does not even wake its handler: the publisher writes the shared delta, already framed as an HTTP
chunk, to the socket itself, a few thousand clients at a time between yields to the event loop
(so /healthz is answered in between). Every other client's handler is woken to sort itself out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from cta.dashboard.delta import snapshot_delta

log = logging.getLogger(__name__)

DELIVERY_BATCH = 500  # direct writes between two yields to the event loop
HISTORY = 240  # deltas held for Last-Event-ID resumes: a minute at four versions a second
BACKLOG = 8  # deltas a live client may be behind before it gets a snapshot instead


@dataclass(frozen=True, slots=True)
class Published:
    """One board version, encoded: the full snapshot frame and the delta frame from ``since``."""

    version: int
    since: int | None  # the version the delta applies to; None for the first publication
    full: bytes
    delta: bytes | None
    delta_chunk: bytes | None = None  # the delta framed as an HTTP/1.1 chunk


@dataclass(frozen=True, slots=True)
class Frames:
    """What one client is sent next: ``data`` brings it to ``version``."""

    data: bytes
    version: int
    snapshot: bool  # a full snapshot (else deltas)


@runtime_checkable
class Socket(Protocol):
    """What the fan-out needs of a client's transport (asyncio's ``WriteTransport``)."""

    def write(self, data: bytes) -> None: ...
    def is_closing(self) -> bool: ...
    def get_write_buffer_size(self) -> int: ...


class _Stream:
    """One client: the version it holds, and whether its handler sleeps (only then may the
    publisher write to its socket)."""

    __slots__ = ("direct", "held", "idle", "woken")

    def __init__(self, held: int | None, direct: Socket | None) -> None:
        self.held = held
        self.direct = direct
        self.idle = False
        self.woken = asyncio.Event()


def _frame(event_id: str, event: str, payload: Any) -> bytes:
    data = json.dumps(payload, separators=(",", ":"))  # one line: JSON escapes newlines
    return f"id: {event_id}\nevent: {event}\ndata: {data}\n\n".encode()


class Fanout:
    """Publishes ``build()`` (a snapshot with its ``version``) and serves it to clients."""

    def __init__(
        self,
        build: Callable[[], dict[str, Any]],
        *,
        history: int = HISTORY,
        backlog: int = BACKLOG,
        epoch: str | None = None,
    ) -> None:
        if backlog > history:
            raise ValueError("backlog cannot exceed the history held")
        self._build = build
        self.epoch = epoch or secrets.token_hex(4)
        self.history_size = history
        self.backlog = backlog
        self._history: deque[Published] = deque(maxlen=history)  # each with its delta
        self.latest: Published | None = None
        self._previous: dict[str, Any] | None = None  # the worker thread's alone
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="board-encode")
        self._streams: set[_Stream] = set()
        self._running = False
        self._closing = asyncio.Event()
        # Counters for /healthz: open streams, streams waiting on a full socket, full snapshots
        # sent to clients that had fallen behind or resumed from an id not held.
        self.clients = 0
        self.blocked = 0
        self.resets = 0
        self.build_errors = 0
        # Deliveries: deltas the publisher wrote itself, handlers it woke instead.
        self.written = 0
        self.woken = 0

    # --- ids ----------------------------------------------------------------------------------

    def event_id(self, version: int) -> str:
        return f"{self.epoch}-{version}"

    def resume_version(self, last_event_id: str | None) -> int | None:
        """The version a client resuming with ``last_event_id`` holds, if it is ours and held."""
        if not last_event_id:
            return None
        epoch, _, version = last_event_id.strip().rpartition("-")
        if epoch != self.epoch or not version.isdigit():
            return None
        held = int(version)
        if self.latest is not None and held == self.latest.version:
            return held
        if any(item.since == held for item in self._history):
            return held
        return None

    # --- publishing ---------------------------------------------------------------------------

    def prepare(self) -> Published | None:
        """Build and encode the current version (in the worker thread); None if it is the one
        published last."""
        snapshot = self._build()
        previous = self._previous
        version = int(snapshot["version"])
        if previous is not None and previous["version"] == version:
            return None
        event_id = self.event_id(version)
        full = _frame(event_id, "snapshot", snapshot)
        delta = chunk = None
        if previous is not None:
            delta = _frame(event_id, "delta", snapshot_delta(previous, snapshot))
            chunk = b"%x\r\n%b\r\n" % (len(delta), delta)
        self._previous = snapshot
        since = None if previous is None else int(previous["version"])
        return Published(version, since, full, delta, chunk)

    def commit(self, published: Published) -> None:
        """Make ``published`` the latest (on the event loop); ``deliver`` sends it."""
        if published.delta is not None:
            self._history.append(published)
        self.latest = published

    async def deliver(self, published: Published) -> None:
        """Write the delta to every sleeping client that holds the version before it and has
        nothing unsent; wake every other client behind it."""
        chunk = published.delta_chunk
        for n, stream in enumerate(list(self._streams)):
            if n and n % DELIVERY_BATCH == 0:
                await asyncio.sleep(0)  # let /healthz and the handlers in
            direct = stream.direct
            if (
                chunk is not None
                and direct is not None
                and stream.idle
                and stream.held == published.since
                and not direct.is_closing()
                and direct.get_write_buffer_size() == 0
            ):
                direct.write(chunk)
                stream.held = published.version
                self.written += 1
            elif stream.held != published.version:
                stream.woken.set()
                self.woken += 1

    async def run(self, current_version: Callable[[], int], interval: float) -> None:
        """Publish whenever ``current_version()`` moved, at most once per ``interval``."""
        loop = asyncio.get_running_loop()
        self._running = True
        try:
            await self._publish_until_closed(loop, current_version, interval)
        finally:
            # Here, not in close(): a build in flight finishes instead of being cancelled.
            self._worker.shutdown(wait=False)

    async def _publish_until_closed(
        self,
        loop: asyncio.AbstractEventLoop,
        current_version: Callable[[], int],
        interval: float,
    ) -> None:
        published = None
        while not self._closing.is_set():
            if current_version() != published:
                try:
                    item = await loop.run_in_executor(self._worker, self.prepare)
                except Exception:
                    # Visible (log, /healthz) and retried next tick; the clients keep the last.
                    self.build_errors += 1
                    log.exception("dashboard could not build its snapshot")
                else:
                    if item is not None:
                        self.commit(item)
                        await self.deliver(item)
                    published = self.latest.version if self.latest is not None else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), interval)

    def close(self) -> None:
        """Stop publishing and wake every client so its stream can end."""
        self._closing.set()
        for stream in self._streams:
            stream.woken.set()
        if not self._running:  # else run() shuts the worker down when it returns
            self._worker.shutdown(wait=False)

    @property
    def closed(self) -> bool:
        return self._closing.is_set()

    # --- serving ------------------------------------------------------------------------------

    def catch_up(self, held: int | None, limit: int | None = None) -> Frames | None:
        """What brings a client holding version ``held`` (None: nothing) to the latest: the
        deltas since ``held`` when at most ``limit`` (default ``backlog``) and smaller than
        the snapshot, else the snapshot; None when it is current (or nothing is published)."""
        latest = self.latest
        if latest is None or held == latest.version:
            return None
        if held is not None:
            most = self.backlog if limit is None else limit
            chain: list[bytes] = []
            size = 0
            for item in reversed(self._history):
                if len(chain) >= most or item.delta is None:
                    break
                chain.append(item.delta)
                size += len(item.delta)
                if item.since == held:
                    if size < len(latest.full):
                        return Frames(b"".join(reversed(chain)), latest.version, False)
                    break
            self.resets += 1
        return Frames(latest.full, latest.version, True)

    async def serve(
        self,
        send: Callable[[bytes], Awaitable[Any]],
        held: int | None,
        floor: int,
        *,
        transport: Socket | None = None,
        direct: bool = False,
        keepalive: float = 15.0,
    ) -> None:
        """Stream to one client until the fan-out closes (or the handler is cancelled).

        ``send`` writes through the web server (with its backpressure); ``held``: the version
        the client resumed from (None: it needs a snapshot, at least of version ``floor``);
        ``transport``: its socket, to see what is unsent; ``direct``: the publisher may write
        chunk-framed deltas to it. A comment goes through ``send`` every ``keepalive`` seconds
        (proxies, and the server's own response timeout, see only those)."""
        stream = _Stream(held, transport if direct else None)
        unsent = transport.get_write_buffer_size if transport is not None else (lambda: 0)
        limit: int | None = self.history_size  # a resume may take the whole history it missed
        loop = asyncio.get_running_loop()
        last_sent = loop.time()
        self._streams.add(stream)
        self.clients += 1
        try:
            while not self.closed:
                latest = self.latest
                behind = latest is not None and (
                    latest.version != stream.held
                    if stream.held is not None
                    else latest.version >= floor
                )
                if behind:
                    if unsent() > 0:
                        # Still writing what it was sent last: wait (a comment line, which the
                        # server holds back while the socket is over its high-water mark)
                        # before choosing what to send, so a client that was stuck gets a
                        # snapshot of now, not the stale delta of when it got stuck.
                        self.blocked += 1
                        try:
                            await send(b":\n")
                        finally:
                            self.blocked -= 1
                    frames = self.catch_up(stream.held, limit)
                    limit = None
                    if frames is not None:
                        await send(frames.data)
                        stream.held = frames.version
                        last_sent = loop.time()
                if loop.time() - last_sent >= keepalive:
                    await send(b": keep-alive\n\n")
                    last_sent = loop.time()
                stream.idle = True
                try:
                    timeout = max(0.0, keepalive - (loop.time() - last_sent))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stream.woken.wait(), timeout)
                finally:
                    stream.idle = False
                stream.woken.clear()
        finally:
            self._streams.discard(stream)
            self.clients -= 1

    def stats(self) -> dict[str, Any]:
        latest = self.latest
        return {
            "clients": self.clients,
            "blocked": self.blocked,
            "version": None if latest is None else latest.version,
            "history": len(self._history),
            "resets": self.resets,
            "build_errors": self.build_errors,
            "written": self.written,
            "woken": self.woken,
        }
