"""A windowed count (CTAS ... WINDOW TUMBLING (...) GROUP BY k) run as a ``Pump``.

It is a ``CountQuery`` whose state is keyed by (grouping value, window start); the produce and
commit cycle, restore and dead letters are the count query's. What windows add:

- **Event time.** A record's time is its source's TIMESTAMP column (epoch ms, BIGINT), or the
  record timestamp (ROWTIME) when the source names none. A null or negative time goes to the dead
  letters with the reason (Kafka Streams would drop and log it; we lose nothing).
- **Stream time** per source partition: the largest event time seen there (Kafka Streams keeps
  it per task). A record whose window ended at or before ``stream time - grace`` is dropped,
  counted in ``late_dropped`` and logged, as Kafka Streams' window aggregation does. Stream time
  starts afresh when the query starts: Kafka Streams restores it from the committed offsets'
  metadata, which our ports do not carry, so a restarted query accepts rather than drops.
- **Retention**: once every assigned partition has a stream time, windows that started at or
  before ``min(stream time) - retention`` leave the state (their totals stay in the sink). Since
  retention >= size + grace, a record for such a window is always too late, so no count restarts.
- **Keys** in Kafka Streams' time-windowed format (``cta.ksql.windows``); values may carry
  ``WINDOWSTART`` / ``WINDOWEND``. Sink rows keep the producer's clock as their timestamp, where
  ksqlDB would stamp the latest event time the window counted: a simulated clock running ahead
  of the wall clock would put them beyond the broker's ``message.timestamp.after.max.ms``
  (one hour on Kafka 4), and the broker would refuse them.
"""

from __future__ import annotations

import logging
from typing import Any

from cta.ksql.formats import decode_key, encode_key
from cta.ksql.query import CountPlan, CountQuery
from cta.ksql.windows import TumblingWindow, encode_windowed_key, split_windowed_key
from cta.ports import Record

log = logging.getLogger(__name__)

WindowKey = tuple[Any, int]  # (grouping value, window start ms)


class WindowedCountQuery(CountQuery):
    """``counts()`` maps (grouping value, window start) to the window's count."""

    def __init__(
        self,
        query_id: str,
        statement: str,
        plan: CountPlan,
        *,
        window: TumblingWindow,
        timestamp_column: str | None,
        **kwargs: Any,
    ) -> None:
        # Set before the count query's constructor runs: it restores, which decodes keys here.
        self.window = window
        self.timestamp_column = timestamp_column
        self.late_dropped = 0
        self.evicted = 0
        self._stream_time: dict[int, int] = {}  # source partition -> largest event time seen
        super().__init__(query_id, statement, plan, **kwargs)

    def stream_time(self) -> dict[int, int]:
        """Source partition -> its stream time (epoch ms)."""
        with self._lock:
            return dict(self._stream_time)

    # -- counting ---------------------------------------------------------------------------

    def _state_key(self, group_value: Any, row: dict[str, Any], record: Record) -> Any:
        column = self.timestamp_column
        event_time = record.timestamp_ms if column is None else row.get(column)
        if isinstance(event_time, bool) or not isinstance(event_time, int) or event_time < 0:
            source = "the record timestamp" if column is None else f"timestamp column {column}"
            self._dead_letter(
                record, f"{source} is {event_time!r}, not a non-negative epoch-ms BIGINT"
            )
            return None
        partition = record.partition
        previous = self._stream_time.get(partition)
        stream_time = event_time if previous is None else max(previous, event_time)
        self._stream_time[partition] = stream_time
        start = self.window.start_of(event_time)
        if self.window.closed(start, stream_time):
            self.late_dropped += 1
            log.warning(
                "%s: skipping record for expired window: %s[%d]@%d timestamp=%d "
                "window=[%d,%d) expiration=%d streamTime=%d",
                self.name,
                record.topic,
                partition,
                record.offset,
                event_time,
                start,
                self.window.end_of(start),
                start + self.window.size_ms + self.window.grace_ms,
                stream_time,
            )
            return None
        if previous is None or self.window.start_of(previous) != self.window.start_of(stream_time):
            self._evict_expired()  # stream time entered a new window: some may have expired
        key: WindowKey = (group_value, start)
        return key

    def _start_over(self) -> None:
        # An aborted batch is read again: with the stream time it had pushed forward kept, its
        # own earlier records would now look late and be dropped. A restart forgets it too.
        self._stream_time.clear()
        super()._start_over()

    def _evict_expired(self) -> None:
        """Drop windows past retention (see the module docstring); not before every assigned
        partition has a stream time, and never a window with a total not yet published."""
        assigned = {partition for _, partition in self._consumer.assignment()}
        if not assigned or any(p not in self._stream_time for p in assigned):
            return
        horizon = min(self._stream_time[p] for p in assigned)
        for key in [k for k in self._counter.counts() if k not in self._pending]:
            if self.window.expired(key[1], horizon):
                self._counter.forget(key)
                self._minimums.pop(key, None)
                self.evicted += 1

    # -- sink rows --------------------------------------------------------------------------

    def _decode_sink_key(self, record: Record) -> Any:
        inner, start = split_windowed_key(record.key)
        return (decode_key(inner, self.plan.key_type, self.plan.key_format, self._avro), start)

    def _encode_sink_key(self, key: Any) -> bytes:
        group_value, start = key
        inner = encode_key(group_value, self.plan.key_type, self.plan.key_format)
        return encode_windowed_key(inner, start)

    def _sink_value(self, key: Any, count: int) -> dict[str, Any]:
        group_value, start = key
        smallest = self._minimums.get(key, {})
        bounds = {"WINDOWSTART": start, "WINDOWEND": self.window.end_of(start)}
        value: dict[str, Any] = {}
        for name, role in self.plan.value_columns:
            if role == "KEY":
                value[name] = group_value
            elif role == "MIN":
                value[name] = smallest.get(name)
            else:
                value[name] = bounds.get(role, count)
        return value
