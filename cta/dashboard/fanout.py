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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cta.dashboard.delta import snapshot_delta

log = logging.getLogger(__name__)

HISTORY = 240  # deltas held for Last-Event-ID resumes: a minute at four versions a second
BACKLOG = 8  # deltas a live client may be behind before it gets a snapshot instead


@dataclass(frozen=True, slots=True)
class Published:
    """One board version, encoded: the full snapshot frame and the delta frame from ``since``."""

    version: int
    since: int | None  # the version the delta applies to; None for the first publication
    full: bytes
    delta: bytes | None


@dataclass(frozen=True, slots=True)
class Frames:
    """What one client is sent next: ``data`` brings it to ``version``."""

    data: bytes
    version: int
    snapshot: bool  # a full snapshot (else deltas)


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
        self._next: asyncio.Future[None] | None = None
        self._closing = asyncio.Event()
        # Counters for /healthz: open streams, streams waiting on a full socket, full snapshots
        # sent to clients that had fallen behind or resumed from an id not held.
        self.clients = 0
        self.blocked = 0
        self.resets = 0
        self.build_errors = 0

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
        delta = None
        if previous is not None:
            delta = _frame(event_id, "delta", snapshot_delta(previous, snapshot))
        self._previous = snapshot
        since = None if previous is None else int(previous["version"])
        return Published(version, since, full, delta)

    def commit(self, published: Published) -> None:
        """Make ``published`` the latest and wake every waiting client (on the event loop)."""
        if published.delta is not None:
            self._history.append(published)
        self.latest = published
        waking, self._next = self._next, None
        if waking is not None and not waking.done():
            waking.set_result(None)

    async def run(self, current_version: Callable[[], int], interval: float) -> None:
        """Publish whenever ``current_version()`` moved, at most once per ``interval``."""
        loop = asyncio.get_running_loop()
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
                    published = self.latest.version if self.latest is not None else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), interval)

    def close(self) -> None:
        """Stop publishing and wake every client so its stream can end."""
        self._closing.set()
        if self._next is not None and not self._next.done():
            self._next.set_result(None)
        self._worker.shutdown(wait=False, cancel_futures=True)

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

    async def wait_beyond(self, version: int | None, timeout: float) -> None:
        """Until a version newer than ``version`` is published, the fan-out closes, or
        ``timeout`` passes."""
        latest = self.latest
        if self.closed or (latest is not None and (version is None or latest.version > version)):
            return
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        # asyncio.wait leaves the shared future alone on timeout (wait_for would cancel it).
        await asyncio.wait((self._next,), timeout=timeout)

    def stats(self) -> dict[str, Any]:
        latest = self.latest
        return {
            "clients": self.clients,
            "blocked": self.blocked,
            "version": None if latest is None else latest.version,
            "history": len(self._history),
            "resets": self.resets,
            "build_errors": self.build_errors,
        }
