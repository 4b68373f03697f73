"""The dashboard's topic consumer: replays every input topic from the beginning into the state.

One consumer (its own group id, so no other dashboard shares its partitions) subscribes to the
stations table, the arrivals pattern, the turnstile summary, the hourly entries
(TURNSTILE_HOURLY) and the weather. A malformed message
is logged with its topic and offset, counted in ``errors`` and skipped; any other failure (the
broker or the registry being away) propagates so ``BackgroundPump`` retries with backoff, and the
record that failed stays queued here so it is not lost.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections import deque
from typing import Any

from cta.avro import AvroDecoder
from cta.dashboard.state import DashboardState
from cta.ksql.windows import split_windowed_key
from cta.metrics import Metrics, process_metrics
from cta.ports import EventConsumer, EventLog, Record, SchemaRegistry, SchemaRegistryError
from cta.processors.stations import decode_table_value
from cta.topics import (
    ARRIVALS_PATTERN,
    STATIONS_TABLE,
    TURNSTILE_HOURLY,
    TURNSTILE_SUMMARY,
    WEATHER,
)

log = logging.getLogger(__name__)

SUBSCRIPTION = (STATIONS_TABLE, ARRIVALS_PATTERN, TURNSTILE_SUMMARY, TURNSTILE_HOURLY, WEATHER)
_ARRIVALS = re.compile(ARRIVALS_PATTERN)
# Errors that mean "this message is bad", as opposed to "a dependency is down".
_MALFORMED = (ValueError, KeyError, TypeError)


class MalformedMessage(ValueError):
    """A message the dashboard cannot read."""


def _json(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))


class DashboardFeed:
    """A ``Pump`` applying the dashboard's topics to a ``DashboardState``."""

    name = "dashboard-feed"

    def __init__(
        self,
        log: EventLog,
        registry: SchemaRegistry,
        state: DashboardState,
        *,
        group_id: str | None = None,
        max_records: int = 500,
        metrics: Metrics | None = None,
    ) -> None:
        self._log = log
        self._decoder = AvroDecoder(registry)
        self.state = state
        self.group_id = group_id or f"cta-dashboard-{uuid.uuid4().hex[:12]}"
        self._max_records = max_records
        self._consumer: EventConsumer | None = None
        self._backlog: deque[Record] = deque()
        self.records = 0
        self.errors = 0
        self.last_errors: deque[str] = deque(maxlen=10)
        # When a batch last came in (time.monotonic()): the board's "last heard from the pipeline".
        self.heard_at: float | None = None
        self.metrics = metrics if metrics is not None else process_metrics()

    def _subscribed(self) -> EventConsumer:
        # Made on first use, so a broker that is away at start-up is retried by the runner.
        if self._consumer is None:
            consumer = self._log.consumer(self.group_id, client_id="cta-dashboard")
            consumer.subscribe(SUBSCRIPTION, from_beginning=True)
            self._consumer = consumer
        return self._consumer

    def pump(self, timeout: float = 0.0) -> int:
        consumer = self._subscribed()
        if not self._backlog:
            batch = consumer.consume(self._max_records, timeout)
            if batch:
                self.heard_at = time.monotonic()  # before applying: the page may push meanwhile
            self._backlog.extend(batch)
        handled = 0
        while self._backlog:
            record = self._backlog[0]
            self._handle(record)  # a dependency failure leaves the record at the head
            self._backlog.popleft()
            handled += 1
        if handled:
            consumer.commit()
        self.records += handled
        return handled

    def _handle(self, record: Record) -> None:
        try:
            self._apply(record)
            self._observe(record)
        except SchemaRegistryError as exc:
            if exc.status != 404:  # an unknown schema id is a bad message; anything else retries
                raise
            self._reject(record, exc)
        except _MALFORMED as exc:
            self._reject(record, exc)

    def _observe(self, record: Record) -> None:
        """Count the record and, for arrivals and summaries, its age on reaching the board
        (now minus its CreateTime, the moment its producer sent it)."""
        self.metrics.records_in.labels(processor="dashboard", topic=record.topic).inc()
        kind = "summary" if record.topic == TURNSTILE_SUMMARY else "arrival"
        if (kind == "summary" or _ARRIVALS.match(record.topic)) and record.timestamp_ms > 0:
            age = max(time.time() - record.timestamp_ms / 1000, 0.0)
            self.metrics.event_to_board.labels(kind=kind).observe(age)

    def _reject(self, record: Record, exc: Exception) -> None:
        self.errors += 1
        reason = f"{record.topic}[{record.partition}]@{record.offset}: {exc}"
        self.last_errors.append(reason)
        log.warning("dashboard skipped a malformed message %s", reason)

    def _apply(self, record: Record) -> None:
        topic, value = record.topic, record.value
        if topic == STATIONS_TABLE:
            if value is None:
                self._remove_station(record.key)
            else:
                self.state.apply_station(decode_table_value(value))
        elif topic == TURNSTILE_SUMMARY:
            if value is None:
                return  # a tombstone: nothing to count
            self._apply_summary(record, value)
        elif topic == TURNSTILE_HOURLY:
            if value is None:
                return  # a tombstone: the window left the table, the board keeps its count
            self._apply_hourly(record, value)
        elif topic == WEATHER:
            if value is None:
                raise MalformedMessage("weather message has no value")
            self.state.apply_weather(self._decoder.decode(value))
        elif _ARRIVALS.match(topic):
            if value is None:
                raise MalformedMessage("arrival message has no value")
            self.state.apply_arrival(self._decoder.decode(value))
        else:
            log.debug("dashboard ignores topic %s", topic)

    def _remove_station(self, key: bytes | None) -> None:
        """A table tombstone: key ``"<line>:<station_id>"``, or a bare station id (every line)."""
        if key is None:
            raise MalformedMessage("stations-table tombstone without a key")
        entry = _json(key)
        if isinstance(entry, str) and ":" in entry:
            line, _, station_id = entry.partition(":")
            self.state.remove_station(line, int(station_id))
        elif isinstance(entry, int | str) and not isinstance(entry, bool):
            for line in self.state.lines():
                self.state.remove_station(line, int(entry))
        else:
            raise MalformedMessage(f"stations-table key {entry!r} names no station")

    def _apply_summary(self, record: Record, value: bytes) -> None:
        summary = _json(value)
        if not isinstance(summary, dict):
            raise MalformedMessage(f"summary must be a JSON object, got {summary!r}")
        station_id = summary.get("STATION_ID")
        if station_id is None and record.key is not None:
            station_id = _json(record.key)
        if station_id is None or "COUNT" not in summary:
            raise MalformedMessage(f"summary lacks STATION_ID or COUNT: {summary!r}")
        # FIRST_TIMESTAMP: the earliest entry the count includes (absent from older rows).
        self.state.apply_summary(station_id, summary["COUNT"], summary.get("FIRST_TIMESTAMP"))

    def _apply_hourly(self, record: Record, value: bytes) -> None:
        """A TURNSTILE_HOURLY row: windowed key (JSON station id + 8-byte window start) and
        ``{"STATION_ID", "WINDOW_START", "WINDOW_END", "COUNT"}``; key and value must agree."""
        inner, start = split_windowed_key(record.key)
        row = _json(value)
        if not isinstance(row, dict) or "COUNT" not in row:
            raise MalformedMessage(f"hourly row must be a JSON object with COUNT, got {row!r}")
        station_id = row.get("STATION_ID", _json(inner))
        if station_id != _json(inner) or row.get("WINDOW_START", start) != start:
            raise MalformedMessage(f"hourly key and value disagree: {row!r}")
        self.state.apply_hourly(station_id, start, row["COUNT"])

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
