"""The in-process KSQL engine: a metastore of streams and tables plus persistent queries.

It executes the statements of ``sql/ksql/*.sql`` over the ports (``EventLog``, ``TopicAdmin``,
``SchemaRegistry``), so the memory backend runs the same statement files a ksqlDB server runs.
Supported: source streams/tables (declared or registry-inferred columns, TIMESTAMP='col' for event
time), CREATE TABLE AS SELECT with one GROUP BY column and COUNT, optionally over a tumbling
window (cta.ksql.windowed_query), DROP, TERMINATE. Everything else is refused by name.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cta.avro import AvroDecoder
from cta.ksql.errors import KsqlError, KsqlStatementError, KsqlUnsupportedError
from cta.ksql.formats import (
    KEY_FORMATS,
    SINK_KEY_FORMATS,
    SINK_VALUE_FORMATS,
    VALUE_FORMATS,
    RowDecoder,
    columns_from_avro,
)
from cta.ksql.parser import parse
from cta.ksql.planner import plan_count_query
from cta.ksql.query import EXACTLY_ONCE, PROCESSING_GUARANTEES, CountQuery
from cta.ksql.statements import (
    ColumnDef,
    CreateAsSelect,
    CreateSource,
    DropSource,
    PropertyValue,
    SourceKind,
    Statement,
    Terminate,
)
from cta.ksql.windowed_query import WindowedCountQuery
from cta.ksql.windows import TumblingWindow
from cta.ports import EventLog, SchemaRegistry, SchemaRegistryError, TopicAdmin
from cta.runtime import Pump
from cta.topics import TopicSpec, subject_for

# ksqlDB's default ksql.service.id; query consumer groups are
# ``_confluent-ksql-<service id>query_<query id>``.
DEFAULT_SERVICE_ID = "default_"
OFFSET_RESET = "ksql.streams.auto.offset.reset"


@dataclass(frozen=True, slots=True)
class DataSource:
    kind: SourceKind
    name: str
    topic: str
    key_format: str
    value_format: str
    columns: tuple[ColumnDef, ...]
    statement: str
    query_id: str | None = None  # the persistent query writing it (CTAS/CSAS)
    timestamp_column: str | None = None  # WITH (TIMESTAMP='col'): event time; None: ROWTIME
    window: TumblingWindow | None = None  # a windowed table's window

    def column(self, name: str) -> ColumnDef | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one executed statement did."""

    statement: str
    command_id: str | None
    message: str
    query_id: str | None = None
    warning: bool = False  # IF [NOT] EXISTS made it a no-op


@dataclass(slots=True)
class _State:
    sources: dict[str, DataSource] = field(default_factory=dict)
    queries: dict[str, CountQuery] = field(default_factory=dict)
    sequence: int = 0


class KsqlEngine:
    """Executes parsed KSQL statements; its persistent queries are ``Pump``s.

    The engine is itself a ``Pump`` over every running query, so one ``BackgroundPump`` can
    drive queries created after it started.
    """

    name = "ksql-engine"

    def __init__(
        self,
        log: EventLog,
        admin: TopicAdmin,
        registry: SchemaRegistry,
        *,
        service_id: str = DEFAULT_SERVICE_ID,
        restore_timeout: float = 30.0,
        processing_guarantee: str = EXACTLY_ONCE,
        instance_id: str | None = None,
    ) -> None:
        """``instance_id`` names this engine among the instances sharing its queries' groups:
        a query's ``transactional.id`` is ``<group id>-<instance id>``, so an instance restarted
        with the same id fences its zombie at once (without one, a random id: a dead
        instance's open transaction waits for the transaction timeout instead)."""
        if processing_guarantee not in PROCESSING_GUARANTEES:
            raise ValueError(
                f"processing guarantee {processing_guarantee!r}: not one of "
                f"{', '.join(PROCESSING_GUARANTEES)}"
            )
        self.processing_guarantee = processing_guarantee
        self.instance_id = instance_id or uuid.uuid4().hex[:12]
        self._log = log
        self._admin = admin
        self._registry = registry
        self._avro = AvroDecoder(registry)
        self.service_id = service_id
        self._restore_timeout = restore_timeout
        self._state = _State()
        self._lock = threading.RLock()

    # -- statements -------------------------------------------------------------------------

    def execute(self, text: str, properties: Mapping[str, Any] | None = None) -> list[Outcome]:
        """Parse and execute every statement of ``text``; stops at the first error."""
        return [self.execute_statement(s, properties) for s in parse(text)]

    def execute_statement(
        self, statement: Statement, properties: Mapping[str, Any] | None = None
    ) -> Outcome:
        _check_properties(properties or {}, statement.text)
        with self._lock:
            if isinstance(statement, CreateSource):
                return self._create_source(statement)
            if isinstance(statement, CreateAsSelect):
                return self._create_as_select(statement)
            if isinstance(statement, DropSource):
                return self._drop(statement)
            if isinstance(statement, Terminate):
                return self._terminate(statement)
        raise KsqlUnsupportedError(
            f"{type(statement).__name__} is not executed by the engine", statement.text
        )

    def _next_sequence(self) -> int:
        self._state.sequence += 1
        return self._state.sequence

    def _exists(self, kind: SourceKind, name: str, text: str, if_not_exists: bool) -> Outcome:
        existing = self._state.sources[name]
        noun = existing.kind.lower()
        if if_not_exists:
            return Outcome(
                text,
                None,
                f"Cannot add {kind.lower()} `{name}`: A {noun} with the same name already exists.",
                warning=True,
            )
        raise KsqlStatementError(
            f"Cannot add {kind.lower()} '{name}': A {noun} with the same name already exists", text
        )

    def _create_source(self, statement: CreateSource) -> Outcome:
        name, text, props = statement.name, statement.text, statement.properties
        if name in self._state.sources and not statement.or_replace:
            return self._exists(statement.kind, name, text, statement.if_not_exists)
        topic = _required(props, "KAFKA_TOPIC", text)
        value_format = _format(props, "VALUE_FORMAT", text, VALUE_FORMATS, props.get("FORMAT"))
        key_format = _format(props, "KEY_FORMAT", text, KEY_FORMATS, props.get("FORMAT", "KAFKA"))
        self._ensure_topic(topic, props, text)
        columns = statement.columns
        if not any(not c.key for c in columns):
            columns = columns + self._infer_columns(topic, value_format, text)
        timestamp = _timestamp_column(props, columns, text)
        source = DataSource(
            statement.kind,
            name,
            topic,
            key_format,
            value_format,
            columns,
            text,
            timestamp_column=timestamp,
        )
        self._state.sources[name] = source
        self._next_sequence()
        noun = statement.kind.lower()
        return Outcome(text, f"{noun}/{name}/create", f"{noun.capitalize()} created")

    def _ensure_topic(self, topic: str, props: Mapping[str, PropertyValue], text: str) -> None:
        if topic in self._admin.list_topics():
            return
        partitions = props.get("PARTITIONS")
        if not isinstance(partitions, int) or isinstance(partitions, bool):
            raise KsqlStatementError(
                f"Topic '{topic}' does not exist. If you want to create a new topic for the "
                "stream/table please re-run the statement providing the required 'PARTITIONS' "
                "configuration in the WITH clause (and optionally 'REPLICAS').",
                text,
            )
        self._admin.create_topics([TopicSpec(topic, partitions=partitions)])

    def _infer_columns(self, topic: str, value_format: str, text: str) -> tuple[ColumnDef, ...]:
        if value_format != "AVRO":
            raise KsqlStatementError(
                f"The statement does not define any columns and {value_format} values carry "
                "no schema to infer them from",
                text,
            )
        subject = subject_for(topic, is_key=False)
        try:
            registered = self._registry.latest(subject)
        except SchemaRegistryError as exc:
            raise KsqlStatementError(
                f"Schema for message values on topic '{topic}' does not exist in the Schema "
                f"Registry. Subject: {subject} ({exc.message})",
                text,
            ) from exc
        try:
            return columns_from_avro(registered.schema)
        except (ValueError, KeyError) as exc:
            raise KsqlStatementError(f"Cannot infer columns from {subject}: {exc}", text) from exc

    def _create_as_select(self, statement: CreateAsSelect) -> Outcome:
        name, text, props = statement.name, statement.text, statement.properties
        if name in self._state.sources:
            if not statement.or_replace:
                return self._exists(statement.kind, name, text, statement.if_not_exists)
            raise KsqlUnsupportedError("CREATE OR REPLACE of a query's sink", text)
        if statement.kind == "STREAM":
            raise KsqlUnsupportedError("CREATE STREAM AS SELECT (only aggregating CTAS runs)", text)
        source = self._state.sources.get(statement.select.source)
        if source is None:
            raise KsqlStatementError(f"{statement.select.source} does not exist.", text)
        if source.kind != "STREAM":
            raise KsqlUnsupportedError("aggregating a TABLE", text)
        topic = str(props.get("KAFKA_TOPIC", name))
        key_format = str(props.get("KEY_FORMAT", props.get("FORMAT", source.key_format))).upper()
        # Plan first: a wrong query is reported before an unsupported format.
        plan, columns = plan_count_query(
            statement, source.columns, source.topic, topic, key_format, text
        )
        _format(props, "KEY_FORMAT", text, SINK_KEY_FORMATS, key_format)
        value_format = _format(
            props,
            "VALUE_FORMAT",
            text,
            SINK_VALUE_FORMATS,
            props.get("FORMAT", source.value_format),
        )
        sequence = self._next_sequence()
        query_id = f"CTAS_{name}_{sequence}"
        partitions = props.get("PARTITIONS")
        partition_count = (
            partitions
            if isinstance(partitions, int)
            else max(self._admin.list_topics().get(source.topic, 1), 1)
        )
        self._admin.create_topics([TopicSpec(topic, partitions=partition_count, compacted=True)])
        group_id = f"_confluent-ksql-{self.service_id}query_{query_id}"
        common: dict[str, Any] = {
            "sink": name,
            "log_": self._log,
            "admin": self._admin,
            "decoder": RowDecoder(
                source.columns, source.key_format, source.value_format, self._avro
            ),
            "avro": self._avro,
            "group_id": group_id,
            "restore_timeout": self._restore_timeout,
            "transactional_id": (
                f"{group_id}-{self.instance_id}"
                if self.processing_guarantee == EXACTLY_ONCE
                else None
            ),
        }
        window = statement.select.window
        query = (
            CountQuery(query_id, text, plan, **common)
            if window is None
            else WindowedCountQuery(
                query_id,
                text,
                plan,
                window=window,
                timestamp_column=source.timestamp_column,
                **common,
            )
        )
        self._state.queries[query_id] = query
        self._state.sources[name] = DataSource(
            "TABLE", name, topic, key_format, value_format, columns, text, query_id, window=window
        )
        return Outcome(
            text, f"table/{name}/create", f"Created query with ID {query_id}", query_id=query_id
        )

    def _drop(self, statement: DropSource) -> Outcome:
        name, text = statement.name, statement.text
        source = self._state.sources.get(name)
        if source is None:
            if statement.if_exists:
                return Outcome(text, None, f"Source `{name}` does not exist.", warning=True)
            raise KsqlStatementError(f"Source {name} does not exist.", text)
        if source.kind != statement.kind:
            raise KsqlStatementError(
                f"Incompatible data source type is {source.kind}, but statement was DROP "
                f"{statement.kind}",
                text,
            )
        if statement.delete_topic:
            raise KsqlUnsupportedError(
                "DROP ... DELETE TOPIC (the topic admin cannot delete)", text
            )
        readers = sorted(
            q.name
            for q in self._state.queries.values()
            if q.plan.source_topic == source.topic and q.name != source.query_id
        )
        if readers:
            raise KsqlStatementError(
                f"Cannot drop {name}. The following queries read from this source: "
                f"[{', '.join(readers)}]. You need to terminate them before dropping {name}.",
                text,
            )
        if source.query_id is not None:
            self._state.queries.pop(source.query_id).close()
        del self._state.sources[name]
        self._next_sequence()
        return Outcome(
            text,
            f"{source.kind.lower()}/{name}/drop",
            f"Source `{name}` (topic: {source.topic}) was dropped.",
        )

    def _terminate(self, statement: Terminate) -> Outcome:
        text = statement.text
        if statement.query_id is None:
            ids = list(self._state.queries)
        elif statement.query_id in self._state.queries:
            ids = [statement.query_id]
        else:
            raise KsqlStatementError(f"Unknown queryId: {statement.query_id}", text)
        for query_id in ids:
            self._state.queries.pop(query_id).close()
        self._next_sequence()
        target = statement.query_id or "ALL"
        return Outcome(text, f"terminate/{target}/execute", "Query terminated.")

    # -- introspection and driving ----------------------------------------------------------

    def sources(self) -> list[DataSource]:
        with self._lock:
            return list(self._state.sources.values())

    def source(self, name: str) -> DataSource | None:
        with self._lock:
            return self._state.sources.get(name.upper())

    def queries(self) -> list[CountQuery]:
        with self._lock:
            return list(self._state.queries.values())

    def pumps(self) -> list[Pump]:
        return list(self.queries())

    def pump(self, timeout: float = 0.0) -> int:
        queries = self.queries()
        if not queries:
            return 0
        share = timeout / len(queries)
        return sum(q.pump(share) for q in queries)

    def close(self) -> None:
        with self._lock:
            queries = list(self._state.queries.values())
            self._state.queries.clear()
        errors: list[BaseException] = []
        for query in queries:
            try:
                query.close()
            except Exception as exc:  # close every query, then report
                errors.append(exc)
        if errors:
            raise errors[0]


def _check_properties(properties: Mapping[str, Any], text: str) -> None:
    reset = properties.get(OFFSET_RESET, "earliest")
    if str(reset).lower() != "earliest":
        raise KsqlUnsupportedError(
            f"{OFFSET_RESET}={reset}: the engine always starts new queries at the earliest offset",
            text,
        )


def _timestamp_column(
    props: Mapping[str, PropertyValue], columns: tuple[ColumnDef, ...], text: str
) -> str | None:
    """The TIMESTAMP property's column, read as ksqlDB's ColumnReferenceParser reads it:
    unquoted upper-cased, back-quoted kept as written. Only BIGINT (epoch ms) columns run."""
    raw = props.get("TIMESTAMP")
    if "TIMESTAMP_FORMAT" in props:
        raise KsqlUnsupportedError("TIMESTAMP_FORMAT (only BIGINT epoch-ms columns)", text)
    if raw is None:
        return None
    text_value = str(raw).strip()
    quoted = len(text_value) > 2 and text_value[0] == text_value[-1] == "`"
    name = text_value[1:-1] if quoted else text_value.upper()
    column = next((c for c in columns if c.name == name), None)
    if column is None:
        raise KsqlStatementError(
            f"The TIMESTAMP column set in the WITH clause does not exist in the schema: '{name}'",
            text,
        )
    if column.type != "BIGINT":
        raise KsqlUnsupportedError(
            f"TIMESTAMP column {name} of type {column.type} (only BIGINT epoch ms)", text
        )
    return name


def _required(props: Mapping[str, PropertyValue], name: str, text: str) -> str:
    value = props.get(name)
    if not isinstance(value, str) or not value:
        raise KsqlStatementError(
            f'Missing required property "{name}" which has no default value.', text
        )
    return value


def _format(
    props: Mapping[str, PropertyValue],
    name: str,
    text: str,
    supported: Iterable[str],
    default: PropertyValue | None,
) -> str:
    value = props.get(name, default)
    if value is None:
        raise KsqlStatementError(f'Missing required property "{name}".', text)
    upper = str(value).upper()
    if upper not in supported:
        raise KsqlUnsupportedError(
            f"{name}='{value}' (supported: {', '.join(sorted(supported))})", text
        )
    return upper


__all__ = ["DataSource", "KsqlEngine", "KsqlError", "Outcome"]
