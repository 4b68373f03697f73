"""Benchmark (run by hand): one simulated weekday through the memory backend.

    .venv/bin/python bench/pipeline.py [--network l] [--month 2019-10] [--steps 288] [--seed 0]

By default the whole 'L' with October 2019 ridership (about 625,000 entries on a weekday);
``--network seed`` runs the original three lines with their October 2018 figures.

Measured in one run, on the same records:
1. baseline: a plain fastavro loop, encode + decode of every key and value (schemaless, parsed
   schemas), no broker;
2. devices -> broker -> consumer: the producers (wire-format Avro, batched) into the in-process
   broker, then a consumer reading every message back and decoding it;
3. the whole pipeline after that: the KSQL engine counting turnstiles and the dashboard state fed
   from every topic.
It prints events/s for each and the ratios to the baseline.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import fastavro

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cta import schemas, topics
from cta.avro import AvroDecoder
from cta.bootstrap.memory import memory_backend
from cta.data_l import NETWORKS, load_network, load_network_rows
from cta.domain.clock import CHICAGO
from cta.domain.lines import Network
from cta.domain.simulation import Simulation, StepEvents
from cta.pipeline import Pipeline
from cta.runtime import drain


def simulate(network: Network, steps: int, seed: int) -> tuple[list[StepEvents], float]:
    simulation = Simulation(
        network, seed=seed, start=datetime(2026, 11, 23, 0, 0, tzinfo=CHICAGO)  # a Monday
    )
    started = time.perf_counter()
    events = [simulation.placement()] + [simulation.step() for _ in range(steps)]
    return events, time.perf_counter() - started


def parsed(name: str) -> Any:
    return fastavro.parse_schema(json.loads(schemas.load(name)))


def baseline(events: list[StepEvents]) -> float:
    """Seconds for a plain fastavro encode+decode of every key and value."""
    arrival = (parsed(schemas.ARRIVAL_KEY), parsed(schemas.ARRIVAL_VALUE))
    turnstile = (parsed(schemas.TURNSTILE_KEY), parsed(schemas.TURNSTILE_VALUE))
    weather = (parsed(schemas.WEATHER_KEY), parsed(schemas.WEATHER_VALUE))
    started = time.perf_counter()
    for step in events:
        batches: list[tuple[tuple[Any, Any], list[Any]]] = [
            (arrival, step.arrivals),
            (turnstile, step.turnstiles),
            (weather, [step.weather] if step.weather else []),
        ]
        for (key_schema, value_schema), items in batches:
            for event in items:
                for schema, record in (
                    (key_schema, event.as_key()),
                    (value_schema, event.as_value()),
                ):
                    buffer = io.BytesIO()
                    fastavro.schemaless_writer(buffer, schema, record)
                    buffer.seek(0)
                    fastavro.schemaless_reader(buffer, schema, None)
    return time.perf_counter() - started


def through_broker(
    events: list[StepEvents], network: Network
) -> tuple[float, float, int, Pipeline]:
    """Seconds to produce everything, seconds to consume+decode it all; events read back."""
    backend = memory_backend()
    pipeline = Pipeline(backend, network=network, station_rows=load_network_rows(network.name))
    pipeline.setup()
    pipeline.drain()
    runner = pipeline.simulation(start=events[0].at)
    started = time.perf_counter()
    for step in events:
        runner.publish(step)
    produced = time.perf_counter() - started

    decoder = AvroDecoder(backend.registry)
    consumer = backend.log.consumer("bench-reader")
    consumer.subscribe([topics.ARRIVALS, topics.TURNSTILES, topics.WEATHER], from_beginning=True)
    expected = sum(runner.progress.per_topic.values())
    seen = 0
    started = time.perf_counter()
    while seen < expected:
        records = consumer.consume(10_000, 1.0)
        if not records:
            break
        for record in records:
            decoder.decode(record.key or b"")
            decoder.decode(record.value or b"")
        seen += len(records)
    consumed = time.perf_counter() - started
    consumer.close()
    return produced, consumed, seen, pipeline


def through_pipeline(pipeline: Pipeline) -> tuple[float, int]:
    """Seconds for the KSQL engine and the dashboard feed to take in everything produced."""
    _state, feed = pipeline.dashboard()
    started = time.perf_counter()
    handled = drain([*pipeline.pumps(), feed])
    return time.perf_counter() - started, handled


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=288, help="288 five-minute steps = one day")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--network", choices=NETWORKS, default="l")
    parser.add_argument("--month", default=None, help="YYYY-MM (l only; default 2019-10)")
    args = parser.parse_args()
    month = args.month or ("2019-10" if args.network == "l" else None)
    network = load_network(args.network, month)
    print(f"network {network.name}, ridership {network.month or 'October 2018 (seed)'}")

    events, simulated = simulate(network, args.steps, args.seed)
    count = sum(len(s.arrivals) + len(s.turnstiles) + (1 if s.weather else 0) for s in events)
    turnstiles = sum(len(s.turnstiles) for s in events)
    print(
        f"simulated {args.steps} steps: {count:,} events ({turnstiles:,} turnstile entries) "
        f"in {simulated:.2f}s"
    )

    base = baseline(events)
    produced, consumed, seen, pipeline = through_broker(events, network)
    assert seen == count, f"read back {seen} of {count}"
    downstream, handled = through_pipeline(pipeline)

    base_rate = count / base
    broker_rate = count / (produced + consumed)
    full_rate = count / (produced + consumed + downstream)
    print(f"fastavro encode+decode loop:          {base_rate:>10,.0f} events/s ({base:.2f}s)")
    print(
        f"producers -> broker -> consumer+decode: {broker_rate:>10,.0f} events/s "
        f"(produce {produced:.2f}s, consume {consumed:.2f}s) ratio {broker_rate / base_rate:.2f}"
    )
    print(
        f"+ KSQL engine + dashboard state:      {full_rate:>10,.0f} events/s "
        f"(downstream {downstream:.2f}s, {handled:,} records) ratio {full_rate / base_rate:.2f}"
    )


if __name__ == "__main__":
    main()
