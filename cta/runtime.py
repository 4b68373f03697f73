"""Running pumps: processors expose ``pump`` and are driven either by a test (``drain``) or by a
background thread (``BackgroundPump``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from cta.metrics import process_metrics

log = logging.getLogger(__name__)


class Pump(Protocol):
    name: str

    def pump(self, timeout: float = 0.0) -> int:
        """Process what is available (waiting up to ``timeout`` for it); returns records handled."""
        ...

    def close(self) -> None: ...


def drain(pumps: Sequence[Pump], *, max_rounds: int = 10_000) -> int:
    """Pump every pump until a whole round handles nothing; returns records handled."""
    total = 0
    for _ in range(max_rounds):
        handled = sum(p.pump(0.0) for p in pumps)
        total += handled
        if handled == 0:
            return total
    raise RuntimeError(f"pumps still busy after {max_rounds} rounds")


def wait_for(
    condition: Callable[[], bool], *, timeout: float = 30.0, interval: float = 0.02, what: str = ""
) -> None:
    """Wait until ``condition()`` holds; raises TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what or condition!r}")
        time.sleep(interval)


class BackgroundPump:
    """Drives one pump in a daemon thread; errors are logged and retried with backoff."""

    def __init__(self, pump: Pump, *, poll_timeout: float = 0.1, max_backoff: float = 5.0) -> None:
        self._pump = pump
        self._poll_timeout = poll_timeout
        self._max_backoff = max_backoff
        self._stop = threading.Event()
        self.failures = 0
        self.last_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"pump-{pump.name}", daemon=True)

    def start(self) -> BackgroundPump:
        self._thread.start()
        return self

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                self._pump.pump(self._poll_timeout)
                backoff = 0.1
            except Exception as exc:  # reported and retried: a pump must outlive a bad moment
                self.failures += 1
                self.last_error = exc
                # Each retry after a failure is a restart of this processor, for /metrics.
                process_metrics().processor_restarts.labels(processor=self._pump.name).inc()
                log.exception("pump %s failed; retrying in %.1fs", self._pump.name, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self._pump.close()
