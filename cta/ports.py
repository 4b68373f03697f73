"""Ports: the small protocols the pipeline is written against.

Each port has an in-process adapter and a real one (docs/architecture.md lists them);
``cta.backend.Backend`` holds one backend's set, wired by ``cta.bootstrap``.
HTTP services (REST Proxy, Connect, ksqlDB) share one requests-based client per service; the
memory backend mounts an in-process transport that answers with the emulator's HTTP handler, so
the contract is exercised on both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from cta.topics import TopicSpec

Headers = tuple[tuple[str, bytes], ...]
# Called with (partition, offset) once the log has acknowledged a message (from poll/flush).
DeliveryCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Record:
    """One message as a consumer sees it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    headers: Headers = ()


class DeliveryError(RuntimeError):
    """A produced message was not acknowledged by the log."""

    def __init__(self, topic: str, reason: str) -> None:
        super().__init__(f"delivery to {topic!r} failed: {reason}")
        self.topic = topic
        self.reason = reason


class EventProducer(Protocol):
    """Asynchronous, batched producer: ``produce`` enqueues; failures surface on poll/flush."""

    def produce(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: Headers = (),
        timestamp_ms: int | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None: ...

    def poll(self, timeout: float = 0.0) -> int:
        """Serve delivery reports; raises DeliveryError for failed deliveries."""
        ...

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every queued message is delivered; raises DeliveryError on failures."""
        ...

    def close(self) -> None: ...


class EventConsumer(Protocol):
    def subscribe(self, topics: Sequence[str], *, from_beginning: bool = False) -> None:
        """Subscribe to names, or patterns starting with ``^``. ``from_beginning`` ignores
        committed offsets and replays every partition from its start."""
        ...

    def assignment(self) -> list[tuple[str, int]]:
        """The (topic, partition) pairs this member holds now (empty before the group joins)."""
        ...

    def poll(self, timeout: float = 0.0) -> Record | None: ...

    def consume(self, max_records: int = 500, timeout: float = 0.0) -> list[Record]: ...

    def commit(self) -> None:
        """Commit the positions of everything returned so far."""
        ...

    def position(self, topic: str, partition: int) -> int | None:
        """The offset this member reads next from an assigned partition, past transaction
        markers and aborted records (None before it has a position there). A reader that
        wants "everything up to the end offset" waits on this, not on the last record's offset:
        a transactional topic's last offset is a commit marker no consumer ever returns."""
        ...

    def close(self) -> None: ...


class EventLog(Protocol):
    """Consumers read at ``read_committed`` (librdkafka's default, which the Kafka adapter sets
    explicitly): a transaction's records are invisible until it commits, and never seen if it
    aborts."""

    def producer(self, client_id: str = "cta") -> EventProducer: ...

    def consumer(self, group_id: str, *, client_id: str = "cta") -> EventConsumer: ...


class TransactionAbortedError(RuntimeError):
    """The transaction cannot commit (a produce failed, the group rebalanced under it, the
    broker went away): abort it; nothing in it is visible and its offsets are not committed."""


class ProducerFencedError(TransactionAbortedError):
    """A newer producer with the same ``transactional.id`` has started: this one is a zombie,
    everything it tries to commit is refused (Kafka's PRODUCER_FENCED)."""


class TransactionalProducer(EventProducer, Protocol):
    """A producer with a ``transactional.id`` (Kafka transactions, KIP-98/KIP-447). Creating
    it (``init_transactions``) fences any older producer with the same id and aborts that
    producer's open transaction. Every ``produce`` happens between ``begin_transaction`` and
    ``commit_transaction``/``abort_transaction``."""

    def begin_transaction(self) -> None: ...

    def send_offsets_to_transaction(self, consumer: EventConsumer) -> None:
        """Add the consumer's positions (after everything it has returned) to the transaction,
        for the consumer's group: they are committed if and only if the transaction is. Raises
        TransactionAbortedError when the group has moved on (a rebalance took the partitions)."""
        ...

    def commit_transaction(self, timeout: float = 30.0) -> None:
        """Make the transaction's records visible and commit its offsets, atomically. Raises
        TransactionAbortedError (abort, then start again) or ProducerFencedError."""
        ...

    def abort_transaction(self, timeout: float = 30.0) -> None: ...


@runtime_checkable
class TransactionalEventLog(EventLog, Protocol):
    """An EventLog that can also make transactional producers."""

    def transactional_producer(
        self, transactional_id: str, *, client_id: str = "cta"
    ) -> TransactionalProducer: ...


class TopicAdmin(Protocol):
    def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        """Create missing topics; an existing topic is not an error."""
        ...

    def list_topics(self) -> dict[str, int]:
        """Topic name -> partition count (internal topics included)."""
        ...

    def end_offsets(self, topic: str) -> dict[int, int]:
        """Partition -> high watermark."""
        ...

    def group_lag(self, group_id: str) -> dict[tuple[str, int], int]:
        """(topic, partition) -> messages not yet committed by the group."""
        ...


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    schema_id: int
    subject: str
    version: int
    schema: str


class ServiceError(RuntimeError):
    """A refusal by a Confluent-style HTTP service: HTTP status, its error code, the message.
    ``status`` 0 means the service could not be reached."""

    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(f"{status} ({error_code}): {message}")
        self.status = status
        self.error_code = error_code
        self.message = message


class SchemaRegistryError(ServiceError):
    """A registry refusal, with Confluent's error code (40401, 409, 42201...)."""


class SchemaRegistry(Protocol):
    def register(self, subject: str, schema: str) -> int:
        """Register (or find) a schema under a subject; returns its global id. Raises
        SchemaRegistryError 409 when the subject's compatibility rule refuses it."""
        ...

    def schema_by_id(self, schema_id: int) -> str: ...

    def latest(self, subject: str) -> RegisteredSchema: ...

    def subjects(self) -> list[str]: ...

    def is_compatible(self, subject: str, schema: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class ProduceOffset:
    partition: int | None
    offset: int | None
    error_code: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ProduceResult:
    key_schema_id: int | None
    value_schema_id: int | None
    offsets: tuple[ProduceOffset, ...]


class RestProxy(Protocol):
    def produce_avro(
        self,
        topic: str,
        records: Sequence[Mapping[str, Any]],
        *,
        key_schema: str,
        value_schema: str,
    ) -> ProduceResult:
        """POST /topics/{topic} in REST Proxy v2's Avro embedded format. ``records`` are
        ``{"key": ..., "value": ...}`` in Avro JSON encoding. Raises RestProxyError."""
        ...


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    name: str
    state: str
    task_states: tuple[str, ...] = ()
    traces: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        return self.state == "RUNNING" and bool(self.task_states) and all(
            s == "RUNNING" for s in self.task_states
        )


class ConnectAdmin(Protocol):
    def apply(self, name: str, config: Mapping[str, str]) -> None:
        """Create or update (PUT /connectors/{name}/config): idempotent."""
        ...

    def status(self, name: str) -> ConnectorStatus: ...

    def wait_running(self, name: str, timeout: float = 60.0) -> ConnectorStatus:
        """Wait for RUNNING; raises with the failed task's trace."""
        ...

    def delete(self, name: str) -> None: ...

    def connectors(self) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class KsqlResult:
    statement: str
    command_id: str | None
    status: str
    message: str = ""
    query_id: str | None = None


class KsqlAdmin(Protocol):
    def execute(
        self, statements: str, properties: Mapping[str, str] | None = None
    ) -> list[KsqlResult]:
        """Run statements idempotently (an existing stream/table is not an error) and wait
        for each command to finish."""
        ...

    def queries(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class StationRow:
    """One row of the ``stations`` table (one platform stop)."""

    stop_id: int
    direction_id: str
    stop_name: str
    station_name: str
    station_descriptive_name: str
    station_id: int
    order: int
    red: bool
    blue: bool
    green: bool
    # Added for the whole 'L' (NULL/empty for the seed's rows, which never had them): the lines
    # that stop at this platform, space-separated in page order ("blue brown green"), step-free
    # access, and the platform's coordinates (WGS 84 degrees).
    lines: str = ""
    ada: bool | None = None
    latitude: float | None = None
    longitude: float | None = None

    @property
    def line_names(self) -> tuple[str, ...]:
        return tuple(self.lines.split())

    def as_json(self) -> dict[str, Any]:
        """The flat JSON row a source connector writes (JsonConverter, schemas disabled)."""
        return {
            "stop_id": self.stop_id,
            "direction_id": self.direction_id,
            "stop_name": self.stop_name,
            "station_name": self.station_name,
            "station_descriptive_name": self.station_descriptive_name,
            "station_id": self.station_id,
            "order": self.order,
            "red": self.red,
            "blue": self.blue,
            "green": self.green,
            "lines": self.lines,
            "ada": self.ada,
            "latitude": self.latitude,
            "longitude": self.longitude,
        }


class StationDatabase(Protocol):
    def create_schema(self) -> None:
        """Create the ``stations`` table if missing."""
        ...

    def load(self, rows: Iterable[StationRow]) -> int:
        """Insert or update rows by stop_id (loading twice is safe); returns rows written."""
        ...

    def rows(self) -> list[StationRow]: ...

    def upsert(self, row: StationRow) -> None: ...

    def delete(self, stop_id: int) -> None: ...
