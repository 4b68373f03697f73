"""Contract suites: one per port, run against every adapter of that port.

A test asks for the port's fixture (``event_log``, ``topic_admin``...); ``pytest_generate_tests``
parametrizes it, indirectly, over the adapters this run can reach: the in-process adapter always,
librdkafka's mock cluster where the real client can run on it, and the real stack with
``--backend kafka``. ``@pytest.mark.adapters("memory", "kafka")`` narrows a test to the adapters
that support what it checks (the mock cluster cannot create topics or list group offsets).
"""

from __future__ import annotations

import contextlib
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import pytest

from cta.config import Settings
from cta.ports import (
    EventConsumer,
    EventLog,
    EventProducer,
    Record,
    SchemaRegistry,
    StationDatabase,
    TopicAdmin,
    TransactionalEventLog,
    TransactionalProducer,
)
from cta.runtime import wait_for
from cta.topics import TopicSpec

# Adapters per port, in the order they run. "kafka" needs --backend kafka.
PORT_ADAPTERS: dict[str, tuple[str, ...]] = {
    "event_log": ("memory", "mock", "kafka"),
    "topic_admin": ("memory", "mock", "kafka"),
    "schema_registry": ("memory", "kafka"),
    "station_database": ("memory", "kafka"),
}
# The mock coordinator waits a full session timeout for a closed member before the next join.
# Its JoinGroup answers seem to come on whole seconds; with the adapter's 1 s metadata refresh
# landing on the same instant, a joining member was seen to find "metadata for subscribed
# topics has changed" on every answer and rejoin for good (about 1 in 5 runs of the event-log
# contract file: a member never assigned in 30 s). A 10 s refresh still lets the regex case see
# its new topic.
MOCK_CONSUMER_CONFIG = {
    "session.timeout.ms": 3000,
    "heartbeat.interval.ms": 500,
    "topic.metadata.refresh.interval.ms": 10_000,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "adapters(*names): the adapters a contract case runs on")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    backend = metafunc.config.getoption("--backend")
    marker = metafunc.definition.get_closest_marker("adapters")
    for port, adapters in PORT_ADAPTERS.items():
        if port not in metafunc.fixturenames:
            continue
        chosen = [a for a in adapters if marker is None or a in marker.args]
        if backend != "kafka":
            chosen = [a for a in chosen if a != "kafka"]
        metafunc.parametrize(port, chosen, indirect=True)


@dataclass
class LogUnderTest:
    """One EventLog adapter, and how to make topics on it."""

    kind: str
    log: EventLog
    admin: TopicAdmin
    bootstrap: str = ""
    prefix: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    _closers: list[EventConsumer | EventProducer] = field(default_factory=list)

    def topic(self, name: str, partitions: int = 2, *, compacted: bool = False) -> tuple[str, int]:
        """A fresh topic; returns its name and partition count (the mock's own layout)."""
        full = f"{name}-{self.prefix}"
        if self.kind == "mock":
            # The mock cluster cannot create topics by request; asking for a topic's metadata
            # auto-creates it, in the mock's layout.
            from confluent_kafka import Producer

            metadata = Producer({"bootstrap.servers": self.bootstrap}).list_topics(full, 10)
            return full, len(metadata.topics[full].partitions)
        self.admin.create_topics([TopicSpec(full, partitions=partitions, compacted=compacted)])
        return full, partitions

    def group(self, name: str = "g") -> str:
        return f"{name}-{self.prefix}"

    def consumer(self, group: str) -> EventConsumer:
        consumer = self.log.consumer(group)
        self._closers.append(consumer)
        return consumer

    def producer(self) -> EventProducer:
        producer = self.log.producer()
        self._closers.append(producer)
        return producer

    def transactional_producer(self, name: str = "txn") -> TransactionalProducer:
        assert isinstance(self.log, TransactionalEventLog)
        producer = self.log.transactional_producer(f"{name}-{self.prefix}")
        self._closers.append(producer)
        return producer

    def close(self) -> None:
        for client in reversed(self._closers):
            with contextlib.suppress(RuntimeError):  # closed by the test already
                client.close()
        close_admin = getattr(self.admin, "close", None)
        if close_admin is not None and self.kind != "memory":
            close_admin()


def _real_settings(request: pytest.FixtureRequest) -> Settings:
    settings: Settings = request.getfixturevalue("settings")
    return settings


def _log_under_test(request: pytest.FixtureRequest) -> LogUnderTest:
    kind = request.param
    if kind == "memory":
        from cta.memory.broker import MemoryBroker

        broker = MemoryBroker()
        return LogUnderTest(kind, broker, broker)
    from cta.kafka.admin import KafkaTopicAdmin
    from cta.kafka.event_log import KafkaEventLog

    if kind == "mock":
        bootstrap = str(request.getfixturevalue("mock_bootstrap"))
        log = KafkaEventLog(bootstrap, consumer_config=MOCK_CONSUMER_CONFIG)
        return LogUnderTest(kind, log, KafkaTopicAdmin(bootstrap), bootstrap)
    servers = _real_settings(request).bootstrap_servers
    return LogUnderTest(kind, KafkaEventLog(servers), KafkaTopicAdmin(servers))


@pytest.fixture
def event_log(request: pytest.FixtureRequest) -> Iterator[LogUnderTest]:
    """The EventLog port (producer and consumers) on one adapter."""
    under_test = _log_under_test(request)
    yield under_test
    under_test.close()


@pytest.fixture
def topic_admin(request: pytest.FixtureRequest) -> Iterator[LogUnderTest]:
    """The TopicAdmin port on one adapter, with the same cluster's EventLog to fill topics."""
    under_test = _log_under_test(request)
    yield under_test
    under_test.close()


def key_for(partition: int, partitions: int, *, start: int = 0) -> bytes:
    """A key librdkafka's default partitioner (crc32, as the memory broker's) puts on
    ``partition``."""
    i = start
    while zlib.crc32(f"k{i}".encode()) % partitions != partition:
        i += 1
    return f"k{i}".encode()


def read(consumer: EventConsumer, count: int, *, timeout: float = 30.0) -> list[Record]:
    """Consume until ``count`` records have come (more may come in the last batch)."""
    records: list[Record] = []

    def enough() -> bool:
        records.extend(consumer.consume(500, 0.1))
        return len(records) >= count

    wait_for(enough, timeout=timeout, what=f"{count} records")
    return records


@pytest.fixture
def schema_registry(request: pytest.FixtureRequest) -> SchemaRegistry:
    """The SchemaRegistry port: the in-process registry, or the real one over HTTP (Apicurio's
    Confluent API on the native stack, Confluent's in compose)."""
    if request.param == "memory":
        from cta.memory.registry import MemorySchemaRegistry

        return MemorySchemaRegistry()
    from cta.kafka.registry import HttpSchemaRegistry

    return HttpSchemaRegistry(_real_settings(request).schema_registry_url)


@pytest.fixture
def station_database(request: pytest.FixtureRequest) -> Iterator[StationDatabase]:
    """The StationDatabase port: in memory, or PostgreSQL in a scratch database (created and
    dropped here, so the real ``stations`` table is never touched; the role needs CREATEDB)."""
    if request.param == "memory":
        from cta.memory.stations_db import MemoryStationDatabase

        yield MemoryStationDatabase()
        return
    import psycopg

    from cta.kafka.stations_db import PostgresStationDatabase

    server = _real_settings(request).database_url
    name = f"cta_contract_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(server, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"CTA_DATABASE_URL is configured but PostgreSQL is not reachable: {exc}")
    try:
        admin.execute(f"CREATE DATABASE {name}".encode())
        yield PostgresStationDatabase(urlunsplit(urlsplit(server)._replace(path=f"/{name}")))
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())
        admin.close()
