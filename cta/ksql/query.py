"""A persistent aggregation query (CTAS ... GROUP BY col with COUNT) run as a ``Pump``.

Delivery is at-least-once, as ksqlDB's default: a batch's summary rows are flushed to the sink
before the source offsets are committed. On start the counts are restored by reading the sink
topic from its beginning up to its end offsets, then consumption resumes from the group's
committed offsets (the earliest offset for a new group). Undecodable records go to the dead
letter topic with the reason in the ``error`` header.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from cta.avro import AvroDecoder
from cta.ksql.formats import DecodeError, RowDecoder, decode_key, encode_key, encode_value
from cta.ksql.statements import ColumnRef, Comparison, Expression, IsNull, Literal, Logical, Not
from cta.ports import EventLog, Headers, Record, TopicAdmin
from cta.processors.turnstile_summary import TurnstileCounter
from cta.topics import DEAD_LETTERS

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CountPlan:
    """What a GROUP BY + COUNT query computes and how it writes its rows."""

    source_topic: str
    sink_topic: str
    group_column: str  # the source column grouped by
    key_column: str  # the sink's key column (the grouping column or its alias)
    key_type: str
    key_format: str
    # Sink value columns in order: (name, "KEY") copies the grouping value, (name, "COUNT")
    # is the count.
    value_columns: tuple[tuple[str, str], ...]
    counted_column: str | None = None  # COUNT(col) counts rows where col is not null
    where: Expression | None = None

    @property
    def count_column(self) -> str:
        return next(name for name, role in self.value_columns if role == "COUNT")


@dataclass(slots=True)
class QueryStats:
    consumed: int = 0
    written: int = 0
    filtered: int = 0
    ignored: int = 0  # null values: a stream ignores tombstones
    dead_lettered: int = 0
    restored_rows: int = 0


class RestoreError(RuntimeError):
    """The sink could not be read back to its end: starting would publish wrong counts."""


class CountQuery:
    """One running persistent query; ``name`` is its query id (e.g. CTAS_TURNSTILE_SUMMARY_2)."""

    def __init__(
        self,
        query_id: str,
        statement: str,
        plan: CountPlan,
        *,
        sink: str,
        log_: EventLog,
        admin: TopicAdmin,
        decoder: RowDecoder,
        avro: AvroDecoder,
        group_id: str,
        batch_size: int = 500,
        restore_timeout: float = 30.0,
    ) -> None:
        self.name = query_id
        self.statement = statement
        self.plan = plan
        self.sink = sink
        self.group_id = group_id
        self.stats = QueryStats()
        self._log = log_
        self._admin = admin
        self._decoder = decoder
        self._avro = avro
        self._batch_size = batch_size
        self._restore_timeout = restore_timeout
        self._counter: TurnstileCounter[Any] = TurnstileCounter()
        self._pending: dict[Any, int] = {}  # counted but not yet acknowledged by the sink
        self._lock = threading.Lock()
        self._closed = False
        self.restore()
        self._producer = log_.producer(client_id=query_id)
        self._consumer = log_.consumer(group_id, client_id=query_id)
        self._consumer.subscribe([plan.source_topic])

    @property
    def source_topics(self) -> tuple[str, ...]:
        """What the query's group consumes (``Pipeline.settle`` waits on its lag)."""
        return (self.plan.source_topic,)

    @property
    def state(self) -> str:
        return "TERMINATED" if self._closed else "RUNNING"

    def counts(self) -> dict[Any, int]:
        return self._counter.counts()

    # -- restore ----------------------------------------------------------------------------

    def restore(self) -> None:
        """Load the totals already published to the sink (the latest row per key wins)."""
        ends = {p: end for p, end in self._admin.end_offsets(self.plan.sink_topic).items() if end}
        if not ends:
            return
        consumer = self._log.consumer(f"{self.group_id}-restore", client_id=f"{self.name}-restore")
        try:
            consumer.subscribe([self.plan.sink_topic], from_beginning=True)
            deadline = time.monotonic() + self._restore_timeout
            while ends:
                if time.monotonic() > deadline:
                    raise RestoreError(
                        f"{self.name}: sink {self.plan.sink_topic} not read back to its end "
                        f"within {self._restore_timeout}s (partitions left: {sorted(ends)})"
                    )
                for record in consumer.consume(self._batch_size, 0.1):
                    self._restore_row(record)
                    if record.offset + 1 >= ends.get(record.partition, 0):
                        ends.pop(record.partition, None)
        finally:
            consumer.close()

    def _restore_row(self, record: Record) -> None:
        plan = self.plan
        key = decode_key(record.key, plan.key_type, plan.key_format, self._avro)
        if record.value is None:
            self._counter.forget(key)
            return
        count = json.loads(record.value).get(plan.count_column)
        if isinstance(count, int):
            self._counter.restore(key, count)
            self.stats.restored_rows += 1

    # -- Pump -------------------------------------------------------------------------------

    def pump(self, timeout: float = 0.0) -> int:
        with self._lock:
            if self._closed:
                return 0
            records = self._consumer.consume(self._batch_size, timeout)
            for record in records:
                self._handle(record)
            if records or self._pending:
                self._publish()
                self._consumer.commit()
            return len(records)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._pending:
                    self._publish()
                    self._consumer.commit()
            finally:
                self._producer.close()
                self._consumer.close()

    def _handle(self, record: Record) -> None:
        self.stats.consumed += 1
        if record.value is None:
            self.stats.ignored += 1
            return
        try:
            row = self._decoder.decode(record.key, record.value)
        except DecodeError as exc:
            self._dead_letter(record, str(exc))
            return
        plan = self.plan
        if plan.where is not None and evaluate(plan.where, row) is not True:
            self.stats.filtered += 1
            return
        if plan.counted_column is not None and row.get(plan.counted_column) is None:
            self.stats.filtered += 1
            return
        key = row.get(plan.group_column)
        if key is None:
            self._dead_letter(record, f"grouping column {plan.group_column} is null")
            return
        self._pending[key] = self._counter.add(key)

    def _publish(self) -> None:
        """Write the newest total of every key counted since the last flush, then flush."""
        plan = self.plan
        for key, count in self._pending.items():
            value = {name: key if role == "KEY" else count for name, role in plan.value_columns}
            self._producer.produce(
                plan.sink_topic,
                encode_value(value),
                key=encode_key(key, plan.key_type, plan.key_format),
            )
        self._producer.flush()
        self.stats.written += len(self._pending)
        self._pending.clear()

    def _dead_letter(self, record: Record, reason: str) -> None:
        self.stats.dead_lettered += 1
        log.warning(
            "%s: dead-lettering %s[%d]@%d: %s",
            self.name,
            record.topic,
            record.partition,
            record.offset,
            reason,
        )
        self._producer.produce(
            DEAD_LETTERS,
            record.value,
            key=record.key,
            headers=self._dead_letter_headers(record, reason),
        )

    def _dead_letter_headers(self, record: Record, reason: str) -> Headers:
        return (
            ("error", reason.encode("utf-8")),
            ("source.topic", record.topic.encode("utf-8")),
            ("source.partition", str(record.partition).encode("ascii")),
            ("source.offset", str(record.offset).encode("ascii")),
            ("ksql.query", self.name.encode("utf-8")),
        )


def evaluate(expression: Expression, row: dict[str, Any]) -> Any:
    """SQL semantics for the WHERE subset: a comparison with NULL is NULL (never true)."""
    if isinstance(expression, Literal):
        return expression.value
    if isinstance(expression, ColumnRef):
        return row.get(expression.name)
    if isinstance(expression, IsNull):
        return (evaluate(expression.operand, row) is None) != expression.negated
    if isinstance(expression, Not):
        inner = evaluate(expression.operand, row)
        return None if inner is None else not inner
    if isinstance(expression, Logical):
        left, right = evaluate(expression.left, row), evaluate(expression.right, row)
        if expression.op == "AND":
            if left is False or right is False:
                return False
            return None if left is None or right is None else True
        if left is True or right is True:
            return True
        return None if left is None or right is None else False
    if isinstance(expression, Comparison):
        return _compare(
            expression.op, evaluate(expression.left, row), evaluate(expression.right, row)
        )
    raise TypeError(f"cannot evaluate {expression!r} in WHERE")


def _compare(op: str, left: Any, right: Any) -> bool | None:
    if left is None or right is None:
        return None
    try:
        if op == "=":
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        return None
