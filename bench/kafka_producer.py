"""Benchmark (run by hand): producer throughput on real Kafka, ours against raw librdkafka.

    .venv/bin/python bench/kafka_producer.py --private-stack [--events 300000] [--rounds 3]
    .venv/bin/python bench/kafka_producer.py --endpoints .stack/endpoints.env

Measured in one run, on the same simulated turnstile entries (a weekday from 06:00), each variant
onto a fresh topic with 4 partitions:
1. raw: ``confluent_kafka.Producer`` with the librdkafka settings of ``cta.kafka.event_log``,
   producing the pre-encoded (key, value) bytes (Confluent wire-format Avro, encoded outside the
   timing), ``poll(0)`` every 1,000 messages, then ``flush``;
2. raw + callback: the same with a Python delivery callback per message, as our producer has (it
   is how failures are collected), to show what that callback costs;
3. ours: the events through ``cta.producers.DeviceProducer`` (Avro encode + ``KafkaEventLog``'s
   producer), ``poll`` every 1,000 events, then ``flush``.
It prints events/s for each (best of ``--rounds``) and the ratio ours/raw; every topic's end
offsets are checked against the count produced.

The stack: ``--private-stack`` starts Kafka and the registry on free ports in a temporary state
dir and stops them at the end (never touch the shared stack: its tests delete topics);
``--endpoints FILE`` reads a ``cta stack up`` endpoints file; otherwise the ``CTA_*`` variables.
``bench/kafka_latency.py`` imports the stack helpers from here.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, Message, Producer
from confluent_kafka.admin import AdminClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cta import schemas
from cta.config import Settings
from cta.data import default_network
from cta.domain.clock import CHICAGO
from cta.domain.events import Arrival, TurnstileEntry
from cta.domain.simulation import Simulation
from cta.kafka.admin import KafkaTopicAdmin
from cta.kafka.event_log import PRODUCER_DEFAULTS, KafkaEventLog
from cta.kafka.registry import HttpSchemaRegistry
from cta.ports import DeliveryCallback, Headers, SchemaRegistry
from cta.producers import DeviceProducer
from cta.stack import StackConfig, StackEndpoints, down, up
from cta.topics import TopicSpec

# A Monday: the weekday ridership curve, morning rush from 06:00.
WEEKDAY_MORNING = datetime(2026, 11, 23, 6, 0, tzinfo=CHICAGO)
POLL_EVERY = 1_000
WARMUP = 20_000
PARTITIONS = 4

# -- the stack ----------------------------------------------------------------------------------


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--private-stack",
        action="store_true",
        help="start a stack of our own on free ports (temporary state dir), stop it at the end",
    )
    where.add_argument(
        "--endpoints", type=Path, help="endpoints file of a running stack (cta stack up)"
    )
    parser.add_argument(
        "--brokers",
        type=int,
        default=1,
        help="Kafka nodes of a --private-stack (3: a replicated cluster, topics RF 3)",
    )


def kafka_settings(endpoints: StackEndpoints | None) -> Settings:
    env = endpoints.as_env() if endpoints is not None else {}
    return Settings.from_env({**_cta_env(), **env, "CTA_BACKEND": "kafka"})


def _cta_env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith("CTA_")}


@contextmanager
def stack_settings(args: argparse.Namespace, services: Sequence[str] | None) -> Iterator[Settings]:
    """Settings for the stack chosen on the command line; a private stack lives as long as the
    context. ``services``: what a private stack needs (None: everything)."""
    if args.endpoints is not None:
        endpoints = StackEndpoints.read(args.endpoints)
        if endpoints is None:
            raise SystemExit(f"no endpoints file at {args.endpoints}")
        yield kafka_settings(endpoints)
        return
    if not args.private_stack:
        yield kafka_settings(None)
        return
    state = Path(tempfile.mkdtemp(prefix="cta-bench-stack-"))
    state.chmod(0o755)  # Postgres runs as `postgres` and must reach its data dir
    config = StackConfig(state_dir=state, brokers=args.brokers).with_free_ports()
    began = time.monotonic()
    print(f"starting a private stack in {state} ...", file=sys.stderr, flush=True)
    try:
        endpoints = up(config, only=services)
        print(
            f"private stack up in {time.monotonic() - began:.0f}s "
            f"(kafka {endpoints.bootstrap_servers})",
            file=sys.stderr,
            flush=True,
        )
        yield kafka_settings(endpoints)
    finally:
        down(config)
        shutil.rmtree(state, ignore_errors=True)
        print("private stack stopped", file=sys.stderr, flush=True)


# -- the events ---------------------------------------------------------------------------------


def machine_line() -> str:
    """Cores and load: figures from a shared two-core machine need this beside them."""
    one, five, _ = os.getloadavg()
    return f"machine: {os.cpu_count()} cores, load average {one:.2f} (1 min) {five:.2f} (5 min)"


def simulated_events(count: int, seed: int) -> list[Arrival | TurnstileEntry]:
    """The first ``count`` arrivals and turnstile entries of a weekday from 06:00, in order."""
    simulation = Simulation(default_network(), seed=seed, start=WEEKDAY_MORNING)
    step = simulation.placement()
    events: list[Arrival | TurnstileEntry] = []
    while len(events) < count:
        events.extend(step.arrivals)
        events.extend(step.turnstiles)
        step = simulation.step()
    return events[:count]


def simulated_turnstiles(count: int, seed: int) -> list[TurnstileEntry]:
    simulation = Simulation(default_network(), seed=seed, start=WEEKDAY_MORNING)
    entries: list[TurnstileEntry] = []
    while len(entries) < count:
        entries.extend(simulation.step().turnstiles)
    return entries[:count]


class CapturingProducer:
    """An EventProducer that keeps what it is given: DeviceProducer's exact bytes, no broker."""

    def __init__(self) -> None:
        self.pairs: list[tuple[bytes | None, bytes | None]] = []

    def produce(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: Headers = (),
        timestamp_ms: int | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        self.pairs.append((key, value))

    def poll(self, timeout: float = 0.0) -> int:
        return 0

    def flush(self, timeout: float = 30.0) -> None:
        return None

    def close(self) -> None:
        return None


def turnstile_devices(producer: Any, registry: SchemaRegistry, topic: str) -> DeviceProducer:
    return DeviceProducer(
        producer,
        registry,
        topic,
        key_schema=schemas.load(schemas.TURNSTILE_KEY),
        value_schema=schemas.load(schemas.TURNSTILE_VALUE),
    )


# -- the variants -------------------------------------------------------------------------------


class Topics:
    """Fresh bench topics, deleted again at the end."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._admin = KafkaTopicAdmin(bootstrap_servers)
        self._raw_admin = AdminClient({"bootstrap.servers": bootstrap_servers})
        self.made: list[str] = []

    def fresh(self, label: str) -> str:
        name = f"bench.producer.{label}.{uuid.uuid4().hex[:8]}"
        self._admin.create_topics([TopicSpec(name, partitions=PARTITIONS)])
        self.made.append(name)
        return name

    def stored(self, topic: str) -> int:
        return sum(self._admin.end_offsets(topic).values())

    def delete_all(self) -> None:
        if self.made:
            for future in self._raw_admin.delete_topics(self.made).values():
                future.result(30)
        self._admin.close()


def producer_config(bootstrap_servers: str, client_id: str) -> dict[str, Any]:
    """The librdkafka settings KafkaEventLog.producer() uses."""
    return {"bootstrap.servers": bootstrap_servers, "client.id": client_id, **PRODUCER_DEFAULTS}


def run_raw(
    bootstrap_servers: str,
    topic: str,
    pairs: Sequence[tuple[bytes | None, bytes | None]],
    *,
    with_callback: bool,
) -> float:
    """Seconds to produce and flush the pre-encoded pairs with a bare confluent_kafka producer."""
    failures: list[KafkaError] = []

    def on_delivery(error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            failures.append(error)

    config = producer_config(bootstrap_servers, "bench-raw")
    if with_callback:
        config["on_delivery"] = on_delivery
    producer = Producer(config)
    started = time.perf_counter()
    for index, (key, value) in enumerate(pairs):
        while True:
            try:
                producer.produce(topic, value=value, key=key)
                break
            except BufferError:  # the local queue is full: same handling as ours
                producer.poll(0.05)
        if index % POLL_EVERY == 0:
            producer.poll(0)
    remaining = producer.flush(120)
    elapsed = time.perf_counter() - started
    if remaining or failures:
        raise RuntimeError(f"raw producer: {remaining} unflushed, failures {failures[:3]}")
    return elapsed


def run_ours(
    bootstrap_servers: str,
    registry: SchemaRegistry,
    topic: str,
    entries: Sequence[TurnstileEntry],
) -> float:
    """Seconds to send (encode + produce) and flush every entry through DeviceProducer."""
    producer = KafkaEventLog(bootstrap_servers).producer("bench-ours")
    devices = turnstile_devices(producer, registry, topic)  # registers its schemas: not timed
    started = time.perf_counter()
    for index, entry in enumerate(entries):
        devices.send(entry)
        if index % POLL_EVERY == 0:
            devices.poll()
    devices.flush(120)
    elapsed = time.perf_counter() - started
    producer.close()
    return elapsed


def measure(settings: Settings, entries: Sequence[TurnstileEntry], rounds: int) -> dict[str, float]:
    """Best events/s of each variant over ``rounds`` rounds, on fresh topics."""
    registry = HttpSchemaRegistry(settings.schema_registry_url)
    bootstrap = settings.bootstrap_servers
    bench_topics = Topics(bootstrap)
    try:
        capture = CapturingProducer()
        encoder = turnstile_devices(capture, registry, bench_topics.fresh("encoded"))
        started = time.perf_counter()
        for entry in entries:
            encoder.send(entry)
        encoded = time.perf_counter() - started
        pairs = capture.pairs
        size = sum(len(k or b"") + len(v or b"") for k, v in pairs) / len(pairs)
        print(
            f"pre-encoded with DeviceProducer's encoders in {encoded:.2f}s "
            f"({len(pairs) / encoded:,.0f} events/s, {size:.0f} bytes/event)"
        )
        variants: list[tuple[str, Callable[[str], float]]] = [
            ("raw", lambda t: run_raw(bootstrap, t, pairs, with_callback=False)),
            ("raw+callback", lambda t: run_raw(bootstrap, t, pairs, with_callback=True)),
            ("ours", lambda t: run_ours(bootstrap, registry, t, entries)),
        ]
        # Untimed: the broker's first idempotent producer waits for its coordinator to load.
        run_raw(bootstrap, bench_topics.fresh("warmup"), pairs[:WARMUP], with_callback=True)
        best: dict[str, float] = {}
        for round_ in range(rounds):
            for label, run in variants:
                topic = bench_topics.fresh(label.replace("+", "-"))
                seconds = run(topic)
                gc.collect()  # our producer sits in a reference cycle: free its librdkafka handle
                stored = bench_topics.stored(topic)
                if stored != len(entries):
                    raise RuntimeError(f"{label}: {stored} stored of {len(entries)}")
                rate = len(entries) / seconds
                print(f"  round {round_ + 1} {label:<13}{rate:>10,.0f} events/s ({seconds:.2f}s)")
                best[label] = max(best.get(label, 0.0), rate)
        return best
    finally:
        bench_topics.delete_all()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs each")
    parser.add_argument("--seed", type=int, default=0)
    add_stack_arguments(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    started = time.perf_counter()
    entries = simulated_turnstiles(args.events, args.seed)
    print(f"simulated {len(entries):,} turnstile entries in {time.perf_counter() - started:.2f}s")
    with stack_settings(args, ["kafka", "registry"]) as settings:
        best = measure(settings, entries, args.rounds)

    print(machine_line())
    raw = best["raw"]
    print(f"raw librdkafka, pre-encoded bytes:      {raw:>10,.0f} events/s")
    print(
        f"raw + Python delivery callback:         {best['raw+callback']:>10,.0f} events/s "
        f"ratio {best['raw+callback'] / raw:.2f}"
    )
    print(
        f"ours: DeviceProducer (encode+produce):  {best['ours']:>10,.0f} events/s "
        f"ratio {best['ours'] / raw:.2f}"
    )


if __name__ == "__main__":
    main()
