"""Chaos run on a private stack: load, processor kills, a broker SIGKILL, then exact counts.

The processors (the Faust stations worker and the KSQL engine) run under ``cta.supervisor`` as
``cta processors`` runs them. While turnstile entries are produced at a target rate (100x the
real CTA peak: ~6,000 events/s), processors are killed as Faust's own stress killer does: first
SIGTERM at random intervals, then bursts of SIGKILL 0.1-1 s apart. The broker is SIGKILLed and
restarted once mid-run. A few known-bad records are injected (undecodable turnstile values, a
raw station row that is not JSON). Afterwards ``verify`` checks:

* the sum of TURNSTILE_SUMMARY counts equals the valid turnstile entries on the topic, exactly;
* every station row produced is in the stations table;
* the dead letters hold the bad records and nothing else.

``tests/kafka/test_chaos.py`` runs a short one; ``bench/chaos.py`` a long one by hand. Only
loopback: the stack is started by the caller on free ports (``StackConfig.with_free_ports``).
``ChaosRun(extra_checks=...)`` is the hook for more sums over summary tables (TURNSTILE_HOURLY:
a check that reads it with ``run.read`` and compares its sum with ``run.figures.entries``).
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cta import schemas, topics
from cta.config import Settings
from cta.data import default_network, load_station_rows
from cta.domain.clock import CHICAGO
from cta.domain.simulation import Simulation
from cta.kafka.admin import KafkaTopicAdmin
from cta.kafka.event_log import KafkaEventLog
from cta.kafka.processors import FAUST, KSQL, processor_specs
from cta.kafka.registry import HttpSchemaRegistry
from cta.lag import group_lag
from cta.ports import Record
from cta.processors.stations import decode_table_key, transform_stations
from cta.producers.devices import DeviceProducer
from cta.runtime import wait_for
from cta.supervisor import RestartPolicy, Supervisor
from cta.verify import read_topic

log = logging.getLogger(__name__)

PROCESSORS = (FAUST, KSQL)
FAUST_GROUP = "stations-stream"
KSQL_GROUP_PREFIX = "_confluent-ksql-"
# A chaos run kills far more often than the supervisor's "keeps dying" rule allows.
CHAOS_POLICY = RestartPolicy(
    initial_backoff=0.2, max_backoff=2.0, max_exits=10_000, ready_timeout=90.0
)


@dataclass
class ChaosFigures:
    seconds: float = 0.0
    entries: int = 0  # valid turnstile entries produced (and on the topic)
    bad_records: int = 0
    sigterms: int = 0
    sigkills: int = 0
    broker_kills: int = 0
    recover_seconds: float = 0.0  # chaos over -> processors healthy and caught up
    summary_total: int = 0
    stations: int = 0
    kills: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.entries / self.seconds if self.seconds else 0.0


class TurnstileLoad(threading.Thread):
    """Produces the simulation's turnstile entries at ``rate`` per second until stopped."""

    def __init__(self, log_: KafkaEventLog, registry: HttpSchemaRegistry, rate: float) -> None:
        super().__init__(name="chaos-load", daemon=True)
        self.producer = log_.producer(client_id="chaos-load")
        self.devices = DeviceProducer.turnstiles(self.producer, registry)
        self.simulation = Simulation(
            default_network(), seed=11, start=datetime(2024, 5, 6, 7, 30, tzinfo=CHICAGO)
        )
        self.rate = rate
        self.sent = 0
        self.stop_event = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        started = time.monotonic()
        try:
            while not self.stop_event.is_set():
                for entry in self.simulation.step().turnstiles:
                    self.devices.send(entry)  # queues, even with the broker down
                    self.sent += 1
                self.devices.poll()
                ahead = self.sent / self.rate - (time.monotonic() - started)
                if ahead > 0:
                    self.stop_event.wait(ahead)  # pacing the load, not waiting on a condition
        except BaseException as exc:  # reported by ChaosRun.finish
            self.error = exc


class ChaosRun:
    """One run: ``start`` the processors and the load, ``chaos`` for a while, ``finish``."""

    def __init__(
        self,
        settings: Settings,
        workdir: Path,
        *,
        kill_broker: Callable[[], None],
        restart_broker: Callable[[], None],
        rate: float = 6_000.0,
        seed: int = 1,
        extra_checks: Sequence[Callable[[ChaosRun], None]] = (),
    ) -> None:
        """``extra_checks`` run at the end of ``verify`` with this run (its ``figures.entries``
        and ``read``): the hook for TURNSTILE_HOURLY's sum, once that table exists."""
        self.settings = settings
        self.workdir = workdir
        self.kill_broker = kill_broker
        self.restart_broker = restart_broker
        self.log = KafkaEventLog(settings.bootstrap_servers)
        self.admin = KafkaTopicAdmin(settings.bootstrap_servers)
        self.registry = HttpSchemaRegistry(settings.schema_registry_url)
        self.random = random.Random(seed)
        self.figures = ChaosFigures()
        self.rate = rate
        self.extra_checks = tuple(extra_checks)
        self.bad: set[tuple[str, bytes]] = set()
        self.station_keys: set[str] = set()
        self.supervisor: Supervisor | None = None
        self.load: TurnstileLoad | None = None
        self._started = 0.0
        self._restart: threading.Thread | None = None

    # -- set-up ---------------------------------------------------------------------------

    def start(self, timeout: float = 240.0) -> None:
        self.registry.register(
            topics.subject_for(topics.TURNSTILES, is_key=False),
            schemas.load(schemas.TURNSTILE_VALUE),
        )
        specs = processor_specs(self.settings, self.workdir)  # creates the topics
        self._produce_stations()
        self.supervisor = Supervisor(specs, CHAOS_POLICY).start()
        wait_for(lambda: self.supervisor is not None and self.supervisor.health()["ok"],
                 timeout=timeout, interval=0.5, what="processors ready")  # fmt: skip
        self.load = TurnstileLoad(self.log, self.registry, self.rate)
        self._started = time.monotonic()
        self.load.start()

    def _produce_stations(self) -> None:
        """Every seed row on the raw topic (as Debezium writes it), and one row that is not
        JSON (dead-lettered by the stations processor)."""
        producer = self.log.producer(client_id="chaos-stations")
        for row in load_station_rows():
            raw = row.as_json()
            self.station_keys.update(s.table_key for s in transform_stations(raw))
            key = json.dumps({"stop_id": row.stop_id}).encode()
            producer.produce(topics.STATIONS_RAW, json.dumps(raw).encode(), key=key)
        self._bad(producer, topics.STATIONS_RAW, b"chaos: not a JSON row", b'{"stop_id": 1}')
        producer.flush(60)
        producer.close()

    def _bad(self, producer: Any, topic: str, value: bytes, key: bytes) -> None:
        producer.produce(topic, value, key=key)
        self.bad.add((topic, value))
        self.figures.bad_records += 1

    # -- chaos ----------------------------------------------------------------------------

    def chaos(self, seconds: float) -> None:
        """SIGTERMs for the first third, then the broker killed (and restarted in the
        background) and SIGKILL bursts; a bad turnstile record now and then."""
        assert self.supervisor is not None and self.load is not None
        end = time.monotonic() + seconds
        middle = time.monotonic() + seconds / 3
        broker_done = False
        bad_producer = self.log.producer(client_id="chaos-bad")
        while time.monotonic() < end:
            self._check_load()
            if self.random.random() < 0.3:
                n = self.figures.bad_records
                self._bad(bad_producer, topics.TURNSTILES, f"chaos bad {n}".encode(), b"bad")
                bad_producer.poll(0)
            if time.monotonic() < middle:
                self._kill(signal.SIGTERM)
                time.sleep(self.random.uniform(2.0, 5.0))
                continue
            if not broker_done:
                self._broker_outage()
                broker_done = True
                continue
            for _ in range(self.random.randint(2, 5)):  # a burst
                self._kill(signal.SIGKILL)
                time.sleep(self.random.uniform(0.1, 1.0))
            time.sleep(self.random.uniform(2.0, 5.0))
        if self._restart is not None:
            self._restart.join(180)
        bad_producer.flush(120)
        bad_producer.close()

    def _kill(self, signum: signal.Signals) -> None:
        assert self.supervisor is not None
        name = self.random.choice(PROCESSORS)
        pid = self.supervisor.pid(name)
        if pid is None:
            return  # between a death and its restart
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return
        if signum == signal.SIGTERM:
            self.figures.sigterms += 1
        else:
            self.figures.sigkills += 1
        self.figures.kills.append(f"{time.monotonic() - self._started:.1f}s {signum.name} {name}")

    def _broker_outage(self) -> None:
        log.info("chaos: SIGKILL of the broker")
        self.kill_broker()
        self.figures.broker_kills += 1
        self.figures.kills.append(f"{time.monotonic() - self._started:.1f}s SIGKILL broker")
        time.sleep(3.0)  # an outage the clients notice
        # Started again in the background: the kills go on while it comes back.
        self._restart = threading.Thread(target=self.restart_broker, name="chaos-broker")
        self._restart.start()

    def _check_load(self) -> None:
        assert self.load is not None
        if self.load.error is not None:
            raise RuntimeError("the load driver failed") from self.load.error

    # -- the end --------------------------------------------------------------------------

    def finish(self, timeout: float = 300.0) -> ChaosFigures:
        """Stop the load, wait for the processors to recover and catch up; the figures."""
        assert self.supervisor is not None and self.load is not None
        self.load.stop_event.set()
        self.load.join(30)
        self._check_load()
        self.load.producer.flush(180)
        self.figures.entries = self.load.sent
        self.figures.seconds = time.monotonic() - self._started
        over = time.monotonic()
        supervisor = self.supervisor
        wait_for(lambda: supervisor.health()["ok"], timeout=timeout, interval=0.5,
                 what="processors healthy after the chaos")  # fmt: skip
        wait_for(self._caught_up, timeout=timeout, interval=2.0, what="processors caught up")
        self.figures.recover_seconds = time.monotonic() - over
        return self.figures

    def _groups(self) -> list[str]:
        from confluent_kafka.admin import AdminClient

        client = AdminClient({"bootstrap.servers": self.settings.bootstrap_servers})
        listed = client.list_consumer_groups().result(timeout=10)
        # A query's group, not the throw-away groups its restores read the sink with.
        return [g.group_id for g in listed.valid if g.group_id.startswith(KSQL_GROUP_PREFIX)
                and "query_" in g.group_id and "-restore-" not in g.group_id]  # fmt: skip

    def _fresh_admin(self) -> KafkaTopicAdmin:
        """A client made after the broker restart: an older one may hold stale metadata."""
        self.admin.close()
        self.admin = KafkaTopicAdmin(self.settings.bootstrap_servers)
        return self.admin

    def _caught_up(self) -> bool:
        ksql_groups = self._groups()
        if not ksql_groups:
            return False
        admin = self._fresh_admin()
        lags = [group_lag(admin, g, [topics.TURNSTILES]) for g in ksql_groups]
        lags.append(group_lag(admin, FAUST_GROUP, [topics.STATIONS_RAW]))
        log.info("chaos: lag of %s and %s: %s", ksql_groups, FAUST_GROUP, lags)
        return not any(lags)

    def log_tails(self, chars: int = 3000) -> str:
        """The end of each processor's log, without librdkafka's connection-refused noise."""
        tails = []
        for name in PROCESSORS:
            path = self.workdir / f"{name}.log"
            if path.exists():
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
                kept = [line for line in lines if "Connect to ipv4" not in line
                        and "Unable connect" not in line]  # fmt: skip
                tails.append(f"--- {name}\n" + "\n".join(kept)[-chars:])
        return "\n".join(tails)

    def stop(self) -> None:
        if self.load is not None:
            self.load.stop_event.set()
        if self.supervisor is not None:
            self.supervisor.stop()

    # -- checks ---------------------------------------------------------------------------

    def read(self, topic: str, timeout: float = 120.0) -> list[Record]:
        """Everything on ``topic`` (read_committed), up to its end offsets."""
        return read_topic(self.log, self.admin, topic, timeout=timeout)

    def verify(self) -> ChaosFigures:
        """The exact-count, stations and dead-letter checks; raises AssertionError."""
        figures = self.figures
        bad_turnstiles = sum(1 for topic, _ in self.bad if topic == topics.TURNSTILES)
        on_topic = sum(self.admin.end_offsets(topics.TURNSTILES).values())
        assert on_topic == figures.entries + bad_turnstiles, (on_topic, figures.entries)
        latest: dict[bytes, Any] = {}
        for record in self.read(topics.TURNSTILE_SUMMARY):
            assert record.key is not None
            latest[record.key] = None if record.value is None else json.loads(record.value)
        figures.summary_total = sum(row["COUNT"] for row in latest.values() if row)
        assert figures.summary_total == figures.entries, (
            f"TURNSTILE_SUMMARY sums to {figures.summary_total}, "
            f"{figures.entries} valid entries on the topic"
        )
        table: dict[str, bytes | None] = {}
        for record in self.read(topics.STATIONS_TABLE):
            table[decode_table_key(record.key or b'""')] = record.value
        present = {key for key, value in table.items() if value is not None}
        missing = self.station_keys - present
        assert not missing, f"stations missing from the table: {sorted(missing)[:10]}"
        figures.stations = len(present & self.station_keys)
        dead = {
            (_header(r, "source.topic"), r.value or b"") for r in self.read(topics.DEAD_LETTERS)
        }
        assert dead == self.bad, f"dead letters {sorted(dead)[:5]} != bad records"
        for check in self.extra_checks:
            check(self)
        return figures


def _header(record: Record, name: str) -> str:
    return next((v.decode() for k, v in record.headers if k == name), "")
