"""Benchmark (run by hand): event-to-dashboard latency on the real backend at a paced rate.

    .venv/bin/python bench/kafka_latency.py --brokers 3 --instances 2 [--find-max]
    .venv/bin/python bench/kafka_latency.py --private-stack [--rate 6000] [--seconds 60]
    .venv/bin/python bench/kafka_latency.py --endpoints FILE --rate 3000

``--brokers 3`` starts a private three-node stack on free ports (topics RF 3,
min.insync.replicas 2; also Postgres, Connect and the registry) and stops it at the end; it
never uses the shared stack. The pipeline runs as ``cta demo --backend kafka`` runs it:
``Pipeline(backend).setup()`` (topics, stations table, connector, KSQL statements), then the
processes of ``cta processors --instances N`` under the supervisor (N Faust workers, N KSQL
engine processes sharing the partitions), a dashboard feed + state in a background thread, and
one producer thread sending a simulated weekday from 06:00 (arrivals and turnstile entries;
weather goes through the REST Proxy and is left out) at ``--rate`` events/s, polling every 10 ms.

Measured per event, wall clock to wall clock:
- arrivals: (the moment the dashboard feed has applied the record) - record timestamp, which is
  the produce time (CreateTime; the producers do not set it);
- turnstile summary: (the moment the state applied a station's count c) - (the produce time of
  that station's c-th entry, the one that made the count reach c) - "completing entry"; and
  the same for every entry that count took in since the last one ("every entry": the KSQL
  engine writes one row per station per batch, so an entry may wait for its batch).
The apply moments are observed by subclassing the feed and the state here; cta/ is unchanged.
It prints the achieved rate, p50/p99/max per path, how long the backlog took to drain after the
producer stopped, and CPU seconds per thread and per child process over the measured window.
``--find-max`` then ramps the rate (x1.5 a step, shorter windows, one bisection) to the highest
that holds p99 < ``--limit-ms`` (1 s) on both paths; last, the producer's throughput against raw
librdkafka on the same cluster (``bench/kafka_producer.py``'s measure, ``--producer-events``).
"""

from __future__ import annotations

import argparse
import gc
import logging
import re
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cpu import cpu_sample, print_cpu
from kafka_producer import (
    add_stack_arguments,
    machine_line,
    simulated_events,
    simulated_turnstiles,
    stack_settings,
)
from kafka_producer import measure as measure_producers

from cta import topics
from cta.bootstrap.kafka import kafka_backend
from cta.config import Settings
from cta.dashboard.feed import DashboardFeed
from cta.dashboard.state import LINE_COLORS, DashboardState
from cta.domain.events import Arrival, TurnstileEntry
from cta.kafka.processors import hand_over_ksql, supervise
from cta.pipeline import Pipeline
from cta.ports import Record
from cta.producers import DeviceProducer
from cta.runtime import wait_for
from cta.supervisor import Supervisor

TICK = 0.01  # the producer thread sends what is due, then polls, every 10 ms
_ARRIVALS = re.compile(topics.ARRIVALS_PATTERN)


def now_ms() -> float:
    return time.time() * 1000.0


# -- observing the dashboard ---------------------------------------------------------------------


class TimedState(DashboardState):
    """The dashboard state, noting when each station's count was applied."""

    def __init__(self) -> None:
        super().__init__()
        self.last_count: dict[int, int] = {}
        self.summaries: list[tuple[int, int, float]] = []  # (station, count, applied ms)
        self.recording = False

    def apply_summary(
        self, station_id: int, count: int, first_timestamp: int | None = None
    ) -> bool:
        changed = super().apply_summary(station_id, count, first_timestamp)
        station, total = int(station_id), int(count)
        self.last_count[station] = total
        if self.recording:
            self.summaries.append((station, total, now_ms()))
        return changed

    def station_rows(self) -> int:
        return sum(len(line["stations"]) for line in self.snapshot()["lines"])


class TimedFeed(DashboardFeed):
    """The dashboard feed, noting when each arrival record has been applied."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: list[tuple[int, float]] = []  # (record timestamp ms, applied ms)

    def _handle(self, record: Record) -> None:
        super()._handle(record)
        if _ARRIVALS.match(record.topic):
            self.arrivals.append((record.timestamp_ms, now_ms()))


# -- the paced producer --------------------------------------------------------------------------


@dataclass(slots=True)
class Sent:
    """What the producer thread sent: produce wall times of each station's turnstile entries."""

    turnstiles: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    arrivals: int = 0
    events: int = 0
    started: float = 0.0
    finished: float = 0.0


def produce_paced(
    events: Sequence[Arrival | TurnstileEntry],
    arrivals: DeviceProducer,
    turnstiles: DeviceProducer,
    rate: float,
    sent: Sent,
    on_sent: Callable[[], None],
) -> None:
    """Send ``events`` at ``rate`` per second: every tick, whatever is due by then; call
    ``on_sent`` after the last send (while this thread still counts for CPU), then flush."""
    sent.started = time.monotonic()
    index = 0
    while index < len(events):
        due = min(len(events), int((time.monotonic() - sent.started) * rate) + 1)
        while index < due:
            event = events[index]
            if isinstance(event, TurnstileEntry):
                sent.turnstiles[event.station_id].append(now_ms())
                turnstiles.send(event)
            else:
                arrivals.send(event)
                sent.arrivals += 1
            index += 1
        sent.events = index
        turnstiles.poll()
        next_tick = sent.started + (index / rate)
        time.sleep(max(0.0, min(TICK, next_tick - time.monotonic())))
    sent.finished = time.monotonic()
    on_sent()
    turnstiles.flush(60)


# -- latency figures ----------------------------------------------------------------------------


def percentiles(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return (
        f"p50 {at(0.50):7.0f} ms  p99 {at(0.99):7.0f} ms  max {ordered[-1]:7.0f} ms  "
        f"(n={len(ordered):,})"
    )


def summary_latencies(
    summaries: Sequence[tuple[int, int, float]], sent: Sent, baseline: dict[int, int]
) -> tuple[list[float], list[float], int]:
    """(completing-entry latencies, every-entry latencies, counts beyond what was sent)."""
    completing: list[float] = []
    every: list[float] = []
    beyond = 0
    accounted: dict[int, int] = defaultdict(int)  # entries of this run already counted
    for station, count, applied in summaries:
        produced = sent.turnstiles.get(station, [])
        reached = count - baseline.get(station, 0)
        if reached > len(produced):
            beyond += 1  # at-least-once: a replayed batch may count twice
            continue
        if reached <= accounted[station]:
            continue  # a count already seen (a duplicate row)
        completing.append(applied - produced[reached - 1])
        every.extend(
            applied - produced_at for produced_at in produced[accounted[station] : reached]
        )
        accounted[station] = reached
    return completing, every, beyond


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else float("inf")


# -- the run ------------------------------------------------------------------------------------


def board_size(pipeline: Pipeline) -> int:
    """(line, station) rows the dashboard shows once every station has loaded."""
    return len(
        {
            (line, row.station_id)
            for row in pipeline.station_rows
            for line in LINE_COLORS
            if getattr(row, line)
        }
    )


@dataclass
class Figures:
    """One measured window."""

    rate: float
    achieved: float
    arrivals: list[float]
    completing: list[float]
    every: list[float]
    beyond: int
    drained: float | None  # seconds to catch up after the last send; None: not in 120 s

    def holds(self, limit_ms: float) -> bool:
        """p99 of both paths under ``limit_ms``, and the board caught up."""
        return (
            self.drained is not None
            and p99(self.arrivals) < limit_ms
            and p99(self.completing) < limit_ms
        )


class LatencyBench:
    """The pipeline as ``cta demo --backend kafka`` runs it, set up once; ``measure`` a window
    at a paced rate as often as needed (``--find-max`` ramps the rate)."""

    def __init__(self, settings: Settings, instances: int) -> None:
        self.settings = settings
        self.instances = instances
        self.backend = kafka_backend(settings)
        self.pipeline = Pipeline(self.backend, settings=settings)
        self.workdir = Path(tempfile.mkdtemp(prefix="cta-bench-processors-"))
        self.supervisor: Supervisor | None = None
        self.state = TimedState()
        self.feed = TimedFeed(self.backend.log, self.backend.registry, self.state)
        self.producer = self.backend.log.producer("bench-latency")
        self.arrival_devices = DeviceProducer.arrivals(self.producer, self.backend.registry)
        self.turnstile_devices = DeviceProducer.turnstiles(self.producer, self.backend.registry)

    def setup(self) -> None:
        began = time.monotonic()
        # As cta demo: set-up, then the supervised processes of cta processors --instances N.
        self.pipeline.setup(start_processors=False)
        hand_over_ksql(self.backend.ksql_engine)
        self.supervisor = supervise(self.settings, self.workdir, instances=self.instances)
        supervisor = self.supervisor
        wait_for(lambda: supervisor.health()["ok"], timeout=300, what="the processors up")
        self.pipeline.settle(feeds=(self.feed,), timeout=180)
        expected = board_size(self.pipeline)

        def board_loaded() -> bool:
            self.feed.pump(0.2)
            return self.state.station_rows() >= expected

        wait_for(board_loaded, timeout=120, what=f"{expected} station rows on the dashboard")
        self.state.recording = True
        self.pipeline.start_background(self.feed)
        print(
            f"pipeline set up and settled in {time.monotonic() - began:.0f}s; "
            f"{self.state.station_rows()} station rows on the board; "
            f"{self.instances} supervised instance(s) of each processor (logs in {self.workdir})",
            flush=True,
        )

    def measure(
        self, rate: float, seconds: float, seed: int, cpu: list[dict[str, float]] | None = None
    ) -> Figures:
        events = simulated_events(int(rate * seconds), seed)
        baseline = dict(self.state.last_count)
        arrivals_from = len(self.feed.arrivals)
        summaries_from = len(self.state.summaries)
        sent = Sent()
        samples = cpu if cpu is not None else []
        thread = threading.Thread(
            target=produce_paced,
            args=(
                events,
                self.arrival_devices,
                self.turnstile_devices,
                rate,
                sent,
                lambda: samples.append(cpu_sample()),
            ),
            name="bench-producer",
            daemon=True,
        )
        samples.append(cpu_sample())
        thread.start()
        thread.join()
        stopped = time.monotonic()
        drained: float | None
        try:
            wait_for(
                lambda: caught_up(
                    len(self.feed.arrivals) - arrivals_from, self.state, sent, baseline
                ),
                timeout=120,
                interval=0.05,
                what="the dashboard to apply everything sent",
            )
            drained = time.monotonic() - stopped
        except TimeoutError:
            drained = None
        completing, every, beyond = summary_latencies(
            self.state.summaries[summaries_from:], sent, baseline
        )
        return Figures(
            rate=rate,
            achieved=sent.events / (sent.finished - sent.started),
            arrivals=[applied - stamp for stamp, applied in self.feed.arrivals[arrivals_from:]],
            completing=completing,
            every=every,
            beyond=beyond,
            drained=drained,
        )

    def close(self) -> None:
        self.pipeline.stop_background()
        self.producer.close()
        if self.supervisor is not None:
            self.supervisor.stop()
        self.feed.close()
        self.backend.close()


def caught_up(arrivals: int, state: TimedState, sent: Sent, baseline: dict[int, int]) -> bool:
    if arrivals < sent.arrivals:
        return False
    return all(
        state.last_count.get(station, 0) - baseline.get(station, 0) >= len(times)
        for station, times in sent.turnstiles.items()
    )


def print_figures(figures: Figures, seconds: float) -> None:
    drained = "NOT within 120s" if figures.drained is None else f"{figures.drained:.1f}s"
    print(
        f"target {figures.rate:,.0f} events/s for {seconds:.0f}s: achieved "
        f"{figures.achieved:,.0f} events/s; dashboard caught up {drained} after the last send"
    )
    print(f"arrival -> dashboard:                    {percentiles(figures.arrivals)}")
    print(f"turnstile -> KSQL -> summary, completing: {percentiles(figures.completing)}")
    print(f"turnstile -> KSQL -> summary, every entry:{percentiles(figures.every)}")
    if figures.beyond:
        print(f"{figures.beyond} summary counts above what was sent (duplicates)")


def find_max_rate(
    bench: LatencyBench, start: float, seconds: float, seed: int, limit_ms: float
) -> float | None:
    """Ramp the rate by 1.5x from ``start`` while p99 holds under ``limit_ms``, then bisect
    once between the last rate that held and the first that did not."""
    held: float | None = None
    failed: float | None = None
    rate = start
    while failed is None and rate <= 200_000:
        figures = bench.measure(rate, seconds, seed)
        print_figures(figures, seconds)
        if figures.holds(limit_ms) and figures.achieved >= 0.95 * rate:
            held, rate = rate, rate * 1.5
        else:
            failed = rate
    if held is not None and failed is not None:
        middle = (held + failed) / 2
        figures = bench.measure(middle, seconds, seed)
        print_figures(figures, seconds)
        if figures.holds(limit_ms) and figures.achieved >= 0.95 * middle:
            held = middle
    return held


def producer_ratio(settings: Settings, events: int, seed: int, rounds: int) -> float:
    """Our producer's throughput over raw librdkafka's, on this cluster (bench/kafka_producer),
    best of ``rounds`` each (one round on a loaded machine is noise)."""
    best = measure_producers(settings, simulated_turnstiles(events, seed), rounds=rounds)
    return best["ours"] / best["raw"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=6000.0, help="target events/s")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--instances", type=int, default=1, help="instances of each processor (KSQL, Faust)"
    )
    parser.add_argument(
        "--find-max",
        action="store_true",
        help="after the run at --rate, ramp the rate to the highest that holds p99 < --limit-ms",
    )
    parser.add_argument("--limit-ms", type=float, default=1000.0)
    parser.add_argument(
        "--producer-events",
        type=int,
        default=200_000,
        help="events for the producer-vs-raw-librdkafka ratio on the same cluster (0: skip)",
    )
    parser.add_argument("--producer-rounds", type=int, default=3)
    add_stack_arguments(parser)
    args = parser.parse_args()
    if args.brokers > 1 and args.endpoints is None:
        args.private_stack = True  # a cluster of our own: never the shared stack
    logging.basicConfig(level=logging.WARNING)
    with stack_settings(args, None) as settings:
        bench = LatencyBench(settings, args.instances)
        try:
            bench.setup()
            cpu: list[dict[str, float]] = []
            figures = bench.measure(args.rate, args.seconds, args.seed, cpu)
            highest = (
                find_max_rate(bench, args.rate, max(args.seconds / 3, 15), args.seed, args.limit_ms)
                if args.find_max
                else None
            )
        finally:
            bench.close()
            gc.collect()  # producers sit in reference cycles: free their librdkafka handles
        ratio = (
            producer_ratio(settings, args.producer_events, args.seed, args.producer_rounds)
            if args.producer_events
            else None
        )
        brokers = len(settings.bootstrap_servers.split(","))
        print(f"== {brokers} broker(s); {args.instances} instance(s) of each processor")
        print_figures(figures, args.seconds)
        if highest is not None or args.find_max:
            shown = "none" if highest is None else f"{highest:,.0f} events/s"
            print(f"highest rate holding p99 < {args.limit_ms:.0f} ms on both paths: {shown}")
        if ratio is not None:
            print(f"producer throughput, ours / raw librdkafka on this cluster: {ratio:.2f}")
        print(machine_line())
        print_cpu(cpu[0], cpu[-1], max(args.seconds, 1.0))


if __name__ == "__main__":
    main()
