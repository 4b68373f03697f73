"""Nothing is lost, nor counted twice, when the Kafka broker restarts mid-stream.

A private stack (Kafka + Apicurio: containers where a Docker engine answers, else a native
stack on free ports in its own state dir; the shared stack is left alone) runs the in-process
KSQL engine over the real topics while the simulation's turnstile events are produced in
batches. Between batches the broker is stopped (SIGTERM, data kept), a batch is produced while
it is down, and the broker is started again on the same data.
TURNSTILE_SUMMARY must then count exactly the events produced, per station.

Needs CTA_STACK_TESTS=1: it starts JVMs (and downloads from Maven Central on a cold cache).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from cta import topics
from cta.data import default_network
from cta.domain.clock import CHICAGO
from cta.domain.simulation import Simulation
from cta.kafka.admin import KafkaTopicAdmin
from cta.kafka.containers import ContainerStack, docker_available
from cta.kafka.event_log import KafkaEventLog
from cta.kafka.registry import HttpSchemaRegistry
from cta.ksql.engine import KsqlEngine
from cta.ksql.project import apply_project_statements
from cta.ksql.query import CountQuery
from cta.ports import EventProducer
from cta.producers import DeviceProducer
from cta.runtime import BackgroundPump, wait_for
from cta.stack.config import StackConfig, port_in_use
from cta.stack.lifecycle import down, stop_service, up

# The broker-restart test starts JVMs: it runs in the kafka CI leg only.
needs_stack = pytest.mark.skipif(
    os.environ.get("CTA_STACK_TESTS") != "1", reason="set CTA_STACK_TESTS=1 to run"
)

log = logging.getLogger(__name__)

STEPS_PER_BATCH = 2  # about 6,000 turnstile events per batch at morning rush hour
BATCHES_BEFORE, BATCHES_AFTER = 2, 2
# Long enough for a broker restart on a busy two-core machine; flush returns when acknowledged.
RESTART_FLUSH_TIMEOUT = 120.0
# The query's consumer session (the broker's minimum) and an outage that outlasts it: the
# consumer then loses its assignment and rejoins, the case where a replay from the committed
# offsets would count records twice.
SESSION_TIMEOUT_MS = 6_000
OUTAGE_SECONDS = 10.0


def start_summary_query(
    log_: KafkaEventLog, admin: KafkaTopicAdmin, registry: HttpSchemaRegistry
) -> tuple[CountQuery, BackgroundPump]:
    """The statement files' summary query on the in-process engine, pumped in the background
    (with the hourly window's, which these tests do not look at). As
    cta.pipeline does, the turnstile value schema is registered first: the TURNSTILE stream
    infers its columns from it."""
    engine = KsqlEngine(log_, admin, registry)
    apply_project_statements(registry, engine)
    query = next(q for q in engine.queries() if q.sink == "TURNSTILE_SUMMARY")
    return query, BackgroundPump(engine).start()


@dataclass(frozen=True)
class PrivateStack:
    """Kafka and the registry of this test alone, with a way to stop and restart the broker."""

    bootstrap_servers: str
    schema_registry_url: str
    stop_kafka: Callable[[], None]
    start_kafka: Callable[[], None]

    @property
    def kafka_address(self) -> tuple[str, int]:
        host, _, port = self.bootstrap_servers.rpartition(":")
        return host, int(port)


@pytest.fixture(scope="module")
def private_stack() -> Iterator[PrivateStack]:
    """Kafka and the registry only: containers where a Docker engine answers (the broker's
    container is stopped and started again, its data kept inside it), else a native stack on
    free ports in a state dir of its own."""
    if docker_available():
        containers = ContainerStack(only=["kafka", "registry"], logs_prefix="no-loss-")
        try:
            env = containers.start()
            yield PrivateStack(
                env["CTA_BOOTSTRAP_SERVERS"],
                env["CTA_SCHEMA_REGISTRY_URL"],
                stop_kafka=lambda: containers.stop_service("kafka"),
                start_kafka=lambda: containers.start_service("kafka"),
            )
        finally:
            containers.stop()
        return
    state = Path(tempfile.mkdtemp(prefix="cta-no-loss-"))
    config = StackConfig(state_dir=state).with_free_ports()

    def stop_kafka() -> None:
        assert stop_service(config, "kafka")

    def start_kafka() -> None:
        up(config, only=["kafka"])

    try:
        endpoints = up(config, only=["kafka", "registry"])
        yield PrivateStack(
            endpoints.bootstrap_servers,
            endpoints.schema_registry_url,
            stop_kafka=stop_kafka,
            start_kafka=start_kafka,
        )
    finally:
        down(config)
        shutil.rmtree(state, ignore_errors=True)


class TurnstileFeed:
    """Produces the simulation's turnstile entries and remembers how many went to each station."""

    def __init__(self, producer: EventProducer, registry: HttpSchemaRegistry) -> None:
        self.producer = producer
        self.devices = DeviceProducer.turnstiles(producer, registry)
        self.simulation = Simulation(
            default_network(), seed=7, start=datetime(2024, 5, 6, 7, 30, tzinfo=CHICAGO)
        )
        self.per_station: Counter[int] = Counter()

    def batch(self) -> None:
        for _ in range(STEPS_PER_BATCH):
            for entry in self.simulation.step().turnstiles:
                self.devices.send(entry)  # must queue, never raise, even with the broker down
                self.per_station[entry.station_id] += 1
            self.devices.poll()

    @property
    def total(self) -> int:
        return sum(self.per_station.values())


def _latest_summary(log_: KafkaEventLog, admin: KafkaTopicAdmin) -> dict[int, dict[str, int]]:
    """TURNSTILE_SUMMARY read from its beginning to its end offsets, latest value per key."""
    ends = {p: end for p, end in admin.end_offsets(topics.TURNSTILE_SUMMARY).items() if end}
    consumer = log_.consumer(f"no-loss-reader-{time.monotonic_ns()}")
    table: dict[int, dict[str, int]] = {}
    try:
        consumer.subscribe([topics.TURNSTILE_SUMMARY], from_beginning=True)
        deadline = time.monotonic() + 60
        while ends:
            assert time.monotonic() < deadline, f"summary not read to its end: {ends}"
            for record in consumer.consume(1000, 0.2):
                assert record.key is not None
                if record.value is None:
                    table.pop(json.loads(record.key), None)
                else:
                    table[json.loads(record.key)] = json.loads(record.value)
            # The position steps over the commit markers of the engine's transactions.
            for partition, end in list(ends.items()):
                if (consumer.position(topics.TURNSTILE_SUMMARY, partition) or 0) >= end:
                    del ends[partition]
    finally:
        consumer.close()
    return table


@pytest.mark.kafka
@needs_stack
def test_the_turnstile_summary_counts_every_event_across_a_broker_restart(
    private_stack: PrivateStack,
) -> None:
    endpoints = private_stack
    log_ = KafkaEventLog(
        endpoints.bootstrap_servers,
        consumer_config={"session.timeout.ms": SESSION_TIMEOUT_MS, "heartbeat.interval.ms": 1_000},
    )
    admin = KafkaTopicAdmin(endpoints.bootstrap_servers, timeout=30.0)
    registry = HttpSchemaRegistry(endpoints.schema_registry_url)
    admin.create_topics(topics.PIPELINE_TOPICS)
    query, runner = start_summary_query(log_, admin, registry)
    producer = log_.producer("no-loss-test")
    feed = TurnstileFeed(producer, registry)
    timings: dict[str, float] = {}
    try:
        for _ in range(BATCHES_BEFORE):
            feed.batch()
        producer.flush(30)
        # Stop the broker while the query is mid-stream: consuming, publishing, committing.
        wait_for(lambda: query.stats.consumed > 0, timeout=60, what="the query consuming")
        consumed_at_stop = query.stats.consumed

        began = time.monotonic()
        private_stack.stop_kafka()
        assert not port_in_use(*private_stack.kafka_address)
        timings["stop"] = time.monotonic() - began
        feed.batch()  # queued by the idempotent producer while no broker is there
        # The outage's length is the scenario itself, not a wait for a condition.
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - began)))
        began = time.monotonic()
        private_stack.start_kafka()
        timings["start"] = time.monotonic() - began

        for _ in range(BATCHES_AFTER):
            feed.batch()
        began = time.monotonic()
        producer.flush(RESTART_FLUSH_TIMEOUT)
        timings["flush"] = time.monotonic() - began

        # Neither lost nor duplicated on the topic itself (not compacted, no transactions).
        assert sum(admin.end_offsets(topics.TURNSTILES).values()) == feed.total

        def caught_up() -> bool:
            ends = admin.end_offsets(topics.TURNSTILES)
            lag = admin.group_lag(query.group_id)
            return all(lag.get((topics.TURNSTILES, p)) == 0 for p, end in ends.items() if end)

        began = time.monotonic()
        # Offsets are committed only after the summary rows are acknowledged, so no lag means
        # the summary topic holds every count.
        wait_for(caught_up, timeout=120, interval=0.2, what="the query's group to catch up")
        timings["catch-up"] = time.monotonic() - began
    finally:
        runner.stop()
        producer.close()

    summary = _latest_summary(log_, admin)
    counts = {station: row["COUNT"] for station, row in summary.items()}
    assert feed.total > 0
    assert sum(counts.values()) == feed.total
    assert counts == dict(feed.per_station)
    assert all(row["STATION_ID"] == station for station, row in summary.items())
    assert sum(admin.end_offsets(topics.DEAD_LETTERS).values()) == 0
    assert runner.failures == 0, f"the query failed during the restart: {runner.last_error!r}"
    admin.close()
    log.info(
        "no-loss run: %d events (%d consumed when the broker stopped); timings %s",
        feed.total,
        consumed_at_stop,
        timings,
    )
