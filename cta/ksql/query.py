"""A persistent aggregation query (CTAS ... GROUP BY col with COUNT, and MIN) run as a ``Pump``.

Delivery is exactly-once, as ksqlDB's ``processing.guarantee=exactly_once_v2``, when the event
log makes transactional producers (both backends do): each pump is one Kafka transaction holding
the batch's summary rows, its dead letters and the consumed source offsets
(``send_offsets_to_transaction``), so a crash anywhere in the cycle leaves either all of it or
none of it. The producer's ``transactional.id`` is stable per query and engine instance
(``<group id>-<instance id>``): a restarted instance fences its zombie and aborts the
transaction it left open. A transaction that fails is aborted and the query starts over as a
restarted one would: counts read back from the sink, the source re-read from the group's
committed offsets. Readers (the restore below, the dashboard) are at ``read_committed``.

With ``at_least_once`` (or an event log without transactions) a batch's summary rows are
flushed to the sink before the source offsets are committed: a crash between the two counts
that batch twice.

On start the counts are restored by reading the sink topic from its beginning up to its end
offsets (waiting on the consumer's position, which steps over transaction markers), then
consumption resumes from the group's committed offsets (the earliest offset for a new group).
Undecodable records go to the dead letter topic with the reason in the ``error`` header.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cta.avro import AvroDecoder
from cta.ksql.formats import DecodeError, RowDecoder, decode_key, encode_key, encode_value
from cta.ksql.statements import Expression
from cta.ksql.where import evaluate
from cta.metrics import process_metrics
from cta.ports import (
    EventConsumer,
    EventLog,
    EventProducer,
    Headers,
    ProducerFencedError,
    Record,
    TopicAdmin,
    TransactionalEventLog,
    TransactionalProducer,
)
from cta.processors.turnstile_summary import TurnstileCounter
from cta.topics import DEAD_LETTERS

log = logging.getLogger(__name__)

EXACTLY_ONCE = "exactly_once_v2"
AT_LEAST_ONCE = "at_least_once"
PROCESSING_GUARANTEES = (EXACTLY_ONCE, AT_LEAST_ONCE)


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
    # is the count, (name, "MIN") the smallest value of a source column (see ``minimums``).
    value_columns: tuple[tuple[str, str], ...]
    counted_column: str | None = None  # COUNT(col) counts rows where col is not null
    where: Expression | None = None
    minimums: tuple[tuple[str, str], ...] = ()  # (sink column, source column) of each MIN

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
    restores: int = 0  # sink read back after a partition moved here


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
        batch_size: int = 5_000,  # each batch costs a publish and a commit round trip
        restore_timeout: float = 30.0,
        transactional_id: str | None = None,
    ) -> None:
        """``transactional_id`` makes every pump one transaction (when ``log_`` can); None
        keeps the at-least-once cycle."""
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
        self._minimums: dict[Any, dict[str, Any]] = {}  # key -> MIN column -> smallest value
        # Source partition -> the offset after the last record this instance counted. A record
        # elsewhere means another instance (same group) had the partition meanwhile.
        self._next_offsets: dict[int, int] = {}
        self._instance = uuid.uuid4().hex[:8]
        self._restores = 0
        self._lock = threading.Lock()
        self._closed = False
        self.transactional_id = (
            transactional_id if isinstance(log_, TransactionalEventLog) else None
        )
        self._transactions: TransactionalProducer | None = None
        self._rebuild_needed = False
        self._transaction_open = False
        # The producer first: starting it fences a zombie with this transactional id and aborts
        # its open transaction, which the restore would otherwise wait on.
        self._producer = self._new_producer()
        self.restore()
        self._consumer = self._new_consumer()

    @property
    def processing_guarantee(self) -> str:
        return AT_LEAST_ONCE if self.transactional_id is None else EXACTLY_ONCE

    def _new_producer(self) -> EventProducer:
        if self.transactional_id is None:
            return self._log.producer(client_id=self.name)
        assert isinstance(self._log, TransactionalEventLog)
        self._transactions = self._log.transactional_producer(
            self.transactional_id, client_id=self.name
        )
        return self._transactions

    def _new_consumer(self) -> EventConsumer:
        consumer = self._log.consumer(self.group_id, client_id=self.name)
        consumer.subscribe([self.plan.source_topic])
        return consumer

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
        # A group of its own, new for each restore: instances of one query restoring at once
        # must each read it all, and a member an earlier restore left behind (its LeaveGroup
        # lost to a broker going down) must not keep partitions from this one. It never
        # commits: left empty without offsets, it is Kafka's clean-up's to drop.
        self._restores += 1
        consumer = self._log.consumer(
            f"{self.group_id}-restore-{self._instance}-{self._restores}",
            client_id=f"{self.name}-restore",
        )
        try:
            consumer.subscribe([self.plan.sink_topic], from_beginning=True)
            # A stall gives up, a long read does not: a sink of a million rows takes a while,
            # so the deadline moves on with every batch that brings rows.
            deadline = time.monotonic() + self._restore_timeout
            while ends:
                if time.monotonic() > deadline:
                    left = ", ".join(
                        f"{p} at {consumer.position(self.plan.sink_topic, p)} of {end}"
                        for p, end in sorted(ends.items())
                    )
                    raise RestoreError(
                        f"{self.name}: sink {self.plan.sink_topic} not read back to its end: "
                        f"no rows for {self._restore_timeout}s (partitions left: {left})"
                    )
                records = consumer.consume(self._batch_size, 0.1)
                if records:
                    deadline = time.monotonic() + self._restore_timeout
                for record in records:
                    self._restore_row(record)
                # The position, not the last record: a transactional sink ends in a marker.
                for partition, end in list(ends.items()):
                    position = consumer.position(self.plan.sink_topic, partition)
                    if position is not None and position >= end:
                        del ends[partition]
        finally:
            consumer.close()

    def _restore_row(self, record: Record) -> None:
        plan = self.plan
        key = self._decode_sink_key(record)
        if record.value is None:
            self._counter.forget(key)
            self._minimums.pop(key, None)
            return
        row = json.loads(record.value)
        count = row.get(plan.count_column)
        if isinstance(count, int):
            self._counter.restore(key, count)
            self.stats.restored_rows += 1
        # A row without a MIN column was written before the column existed (the statement
        # changed): its entries' smallest value is unknown, and stays so (published as null).
        self._minimums[key] = {
            name: row.get(name)
            for name, _ in plan.minimums
            if row.get(name) is not None or (isinstance(count, int) and count > 0)
        }

    # -- Pump -------------------------------------------------------------------------------

    def pump(self, timeout: float = 0.0) -> int:
        with self._lock:
            if self._closed:
                return 0
            if self._rebuild_needed:  # the last start-over failed (the broker away): again
                self._start_over()
            records = self._consumer.consume(self._batch_size, timeout)
            try:
                if self._partition_moved(records):
                    self._restore_moved_state()
            except Exception:
                # The batch left the consumer uncounted: the next pump starts over and reads
                # it again (carrying on would count the next batch and commit past this one).
                self._rebuild_needed = True
                raise
            if self._transactions is not None:
                return self._pump_transaction(self._transactions, records)
            self._count(records)
            if records or self._pending:
                self._publish()
                self._consumer.commit()
            return len(records)

    def _count(self, records: list[Record]) -> None:
        for record in records:
            self._handle(record)
            self._next_offsets[record.partition] = record.offset + 1

    def _pump_transaction(self, transactions: TransactionalProducer, records: list[Record]) -> int:
        """Count a batch in one transaction: its rows, dead letters and source offsets."""
        if not records:
            return 0
        metrics = process_metrics()
        try:
            transactions.begin_transaction()
            self._transaction_open = True
            self._count(records)
            self._publish()
            transactions.send_offsets_to_transaction(self._consumer)
            transactions.commit_transaction()
            self._transaction_open = False
        except ProducerFencedError as exc:
            metrics.transactions_aborted.labels(processor=self.name).inc()
            log.error("%s: fenced, stopping (another instance took over): %s", self.name, exc)
            self._stop_fenced()
            raise
        except Exception as exc:
            metrics.transactions_aborted.labels(processor=self.name).inc()
            log.warning("%s: transaction aborted, starting over: %s", self.name, exc)
            self._start_over()
            return len(records)  # handled, to be counted again: there is work left
        metrics.transactions_committed.labels(processor=self.name).inc()
        return len(records)

    def _start_over(self) -> None:
        """After an aborted transaction (or a batch left uncounted): forget what was counted
        since the last commit and resume as a restarted instance would, from the sink's
        committed totals and the group's committed offsets."""
        self._rebuild_needed = True
        if self._transactions is not None:
            if self._transaction_open:
                self._transaction_open = False
                try:
                    self._transactions.abort_transaction()
                except Exception as exc:  # the new producer below aborts it instead
                    log.warning("%s: abort failed (%s)", self.name, exc)
            # A new producer under the same id, as a restarted instance has: starting it aborts
            # any transaction the broker still holds open for the id, one the old producer may
            # have lost track of in a broker restart, which the restore would wait on for good.
            self._transactions.close()
            self._producer = self._new_producer()
        try:
            self._consumer.close()
        except Exception as exc:  # closed already by a start-over that failed further on
            log.debug("%s: consumer close: %s", self.name, exc)
        self._pending.clear()
        self._counter = TurnstileCounter()
        self._minimums.clear()
        self._next_offsets.clear()
        self.restore()
        self._consumer = self._new_consumer()
        self._rebuild_needed = False

    def _stop_fenced(self) -> None:
        self._closed = True
        self._pending.clear()
        try:
            self._producer.close()
        finally:
            self._consumer.close()

    def _partition_moved(self, records: list[Record]) -> bool:
        """Whether a partition came to this instance from another: one not counted here yet,
        or one resuming elsewhere than where this instance left it (it moved and returned)."""
        firsts: dict[int, int] = {}
        for record in records:
            firsts.setdefault(record.partition, record.offset)
        return any(self._next_offsets.get(p) != offset for p, offset in firsts.items())

    def _restore_moved_state(self) -> None:
        """The state follows the partition, as in Kafka Streams: read the sink back again, so
        the counts of the stations that moved continue from the last total their previous owner
        published. This instance's own totals are all in the sink (published every pump)."""
        if self._pending and self._transactions is None:  # a publish that failed last pump
            self._publish()
        self._counter = TurnstileCounter()
        self.restore()
        self.stats.restores += 1

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._pending and self._transactions is None:
                    self._publish()
                    self._consumer.commit()
            finally:
                self._producer.close()
                self._consumer.close()

    def _handle(self, record: Record) -> None:
        self.stats.consumed += 1
        process_metrics().records_in.labels(processor=self.name, topic=record.topic).inc()
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
        counts = plan.counted_column is None or row.get(plan.counted_column) is not None
        if not counts and not plan.minimums:
            self.stats.filtered += 1
            return
        key = row.get(plan.group_column)
        if key is None:
            self._dead_letter(record, f"grouping column {plan.group_column} is null")
            return
        key = self._state_key(key, row, record)
        if key is None:  # dead-lettered or dropped by the state (a window closed)
            return
        lowered = self._lower_minimums(key, row)
        if counts:
            self._pending[key] = self._counter.add(key)
        elif lowered:  # COUNT(col) skips a null col, but MIN still moved: the row changes
            self._pending[key] = self._counter.count(key)
        else:
            self.stats.filtered += 1

    def _lower_minimums(self, key: Any, row: dict[str, Any]) -> bool:
        """Keep the smallest non-null value of each MIN column (SQL MIN ignores nulls); one
        restored as unknown (None) stays unknown."""
        lowered = False
        current = self._minimums.setdefault(key, {})
        for name, source in self.plan.minimums:
            value = row.get(source)
            if value is None:
                continue
            if name not in current or (current[name] is not None and value < current[name]):
                current[name] = value
                lowered = True
        return lowered

    def _publish(self) -> None:
        """Write the newest total of every key counted since the last flush, then flush."""
        plan = self.plan
        for key, count in self._pending.items():
            self._producer.produce(
                plan.sink_topic,
                encode_value(self._sink_value(key, count)),
                key=self._encode_sink_key(key),
            )
        self._producer.flush()
        self.stats.written += len(self._pending)
        process_metrics().records_out.labels(processor=self.name, topic=plan.sink_topic).inc(
            len(self._pending)
        )
        self._pending.clear()

    # -- state keys and sink rows (cta.ksql.windowed_query.WindowedCountQuery overrides) ----

    def _state_key(self, group_value: Any, row: dict[str, Any], record: Record) -> Any:
        """The key the state counts ``row`` under: its grouping value; None drops the row."""
        return group_value

    def _decode_sink_key(self, record: Record) -> Any:
        return decode_key(record.key, self.plan.key_type, self.plan.key_format, self._avro)

    def _encode_sink_key(self, key: Any) -> bytes:
        return encode_key(key, self.plan.key_type, self.plan.key_format)

    def _sink_value(self, key: Any, count: int) -> dict[str, Any]:
        smallest = self._minimums.get(key, {})
        return {
            name: key if role == "KEY" else smallest.get(name) if role == "MIN" else count
            for name, role in self.plan.value_columns
        }

    def _dead_letter(self, record: Record, reason: str) -> None:
        self.stats.dead_lettered += 1
        process_metrics().dead_letter(self.name, reason)
        process_metrics().records_out.labels(processor=self.name, topic=DEAD_LETTERS).inc()
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
