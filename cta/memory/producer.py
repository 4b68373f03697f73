"""The memory broker's producer: batched and asynchronous like librdkafka's.

``produce`` only enqueues. A batch is appended to the broker when it reaches ``batch_size``
messages, when ``linger_ms`` has passed (a shared timer thread, so a producer that never polls
still delivers), or on ``poll``/``flush``. Refusals are kept and raised as ``DeliveryError`` from
the next ``poll``/``flush``; delivery callbacks run there too, on the caller's thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from cta.memory.protocols import BatchLog, PendingMessage
from cta.ports import DeliveryCallback, DeliveryError, Headers

log = logging.getLogger(__name__)


class MemoryProducer:
    def __init__(
        self,
        broker: BatchLog,
        *,
        client_id: str = "cta",
        batch_size: int = 10_000,
        linger_ms: float = 5.0,
    ) -> None:
        self.client_id = client_id
        self._broker = broker
        self._batch_size = batch_size
        self._linger = linger_ms / 1000.0
        self._lock = threading.Lock()
        self._pending: list[PendingMessage] = []
        self._reports: deque[tuple[DeliveryCallback, int, int]] = deque()
        self._errors: deque[DeliveryError] = deque()
        self._closed = False

    def produce(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: Headers = (),
        timestamp_ms: int | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        if self._closed:
            raise RuntimeError(f"producer {self.client_id!r} is closed")
        with self._lock:
            pending = self._pending
            pending.append((topic, value, key, headers, timestamp_ms, on_delivery))
            size = len(pending)
        if size >= self._batch_size:
            self._deliver()
        elif size == 1:
            _linger_timer.schedule(self, self._linger)

    def poll(self, timeout: float = 0.0) -> int:
        self._deliver()
        return self._serve_reports()

    def flush(self, timeout: float = 30.0) -> None:
        self._deliver()
        self._serve_reports()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._closed = True

    def __len__(self) -> int:
        """Messages not yet delivered (as ``len(confluent_kafka.Producer)``)."""
        return len(self._pending)

    def _deliver(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        deliveries, failures = self._broker.append_batch(batch)
        self._reports.extend(deliveries)
        if failures:
            self._record_failures(failures)

    def _record_failures(self, failures: list[tuple[str, str]]) -> None:
        counts: dict[tuple[str, str], int] = {}
        for failure in failures:
            counts[failure] = counts.get(failure, 0) + 1
        for (topic, reason), count in counts.items():
            detail = reason if count == 1 else f"{reason} ({count} messages)"
            # Logged as well as raised later: a producer that never polls still leaves a trace.
            log.warning("producer %s: delivery to %r failed: %s", self.client_id, topic, detail)
            self._errors.append(DeliveryError(topic, detail))

    def _serve_reports(self) -> int:
        served = 0
        while self._reports:
            callback, partition, offset = self._reports.popleft()
            callback(partition, offset)
            served += 1
        if self._errors:
            raise self._errors.popleft()
        return served


class _LingerTimer:
    """One daemon thread for all producers: delivers each batch once its linger time is up."""

    def __init__(self) -> None:
        self._due: deque[tuple[float, MemoryProducer]] = deque()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def schedule(self, producer: MemoryProducer, delay: float) -> None:
        with self._wake:
            self._due.append((time.monotonic() + delay, producer))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="memory-producer-linger", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                if not self._due and not self._wake.wait(timeout=1.0) and not self._due:
                    self._thread = None  # idle: exit; the next schedule starts a new one
                    return
                if not self._due:
                    continue
                deadline, producer = self._due[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                self._due.popleft()
            try:
                producer._deliver()
            except Exception:  # the timer must outlive one broken batch; the cause is logged
                log.exception("producer %s: lingering batch failed", producer.client_id)


_linger_timer = _LingerTimer()
