"""Benchmark (run by hand): event-to-dashboard latency on the real backend at a paced rate.

    .venv/bin/python bench/kafka_latency.py --private-stack [--rate 6000] [--seconds 60]
    .venv/bin/python bench/kafka_latency.py --endpoints FILE --rate 3000
    .venv/bin/python bench/kafka_latency.py --private-stack --brokers 3 --instances 2

The pipeline runs as the demo runs it: ``Pipeline(backend).setup()`` on the kafka backend (the
Faust worker in its own process, the in-process KSQL engine), the KSQL queries and a dashboard
feed + state in background threads, and one producer thread sending a simulated weekday from
06:00 (arrivals and turnstile entries; weather goes through the REST Proxy and is left out) at
``--rate`` events/s, polling every 10 ms.

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
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import re
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kafka_producer import add_stack_arguments, machine_line, simulated_events, stack_settings

from cta import topics
from cta.bootstrap.kafka import kafka_backend
from cta.config import Settings
from cta.dashboard.feed import DashboardFeed
from cta.dashboard.state import LINE_COLORS, DashboardState
from cta.domain.events import Arrival, TurnstileEntry
from cta.pipeline import Pipeline
from cta.ports import Record
from cta.producers import DeviceProducer
from cta.runtime import wait_for

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


# -- CPU -----------------------------------------------------------------------------------------


def _cpu_seconds(stat_path: str) -> float:
    """utime + stime of a /proc stat file, in seconds."""
    with open(stat_path, encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _thread_names() -> dict[int, str]:
    names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    for tid in os.listdir("/proc/self/task"):
        if int(tid) not in names:
            with open(f"/proc/self/task/{tid}/comm", encoding="utf-8") as handle:
                # librdkafka names its threads rdk:main, rdk:broker<n>...: group them by kind
                names[int(tid)] = re.sub(r"\d+$", "", handle.read().strip())
    return names


def _children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == parent:
                        found.append(int(entry))
            except OSError:
                continue
    return found + [grandchild for child in found for grandchild in _children(child)]


def _process_label(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        argv = handle.read().split(b"\0")
    text = " ".join(a.decode(errors="replace") for a in argv if a)
    for marker in ("kafka.Kafka", "ConnectDistributed", "apicurio", "faust", "rest_proxy"):
        if marker.lower() in text.lower():
            return f"{marker} (pid {pid})"
    return f"{Path(argv[0].decode(errors='replace')).name} (pid {pid})"


def cpu_sample() -> dict[str, float]:
    """CPU seconds so far: each thread of this process (by name), each descendant process."""
    sample: dict[str, float] = defaultdict(float)
    names = _thread_names()
    for tid in os.listdir("/proc/self/task"):
        try:
            sample[f"thread {names.get(int(tid), tid)}"] += _cpu_seconds(
                f"/proc/self/task/{tid}/stat"
            )
        except OSError:
            continue
    for pid in _children(os.getpid()):
        try:
            sample[f"process {_process_label(pid)}"] += _cpu_seconds(f"/proc/{pid}/stat")
        except OSError:
            continue
    with open("/proc/stat", encoding="ascii") as handle:
        total = [int(v) for v in handle.readline().split()[1:]]
    sample["process this one (all threads)"] = _cpu_seconds("/proc/self/stat")
    sample["machine busy"] = (sum(total) - total[3] - total[4]) / os.sysconf("SC_CLK_TCK")
    return sample


def print_cpu(before: dict[str, float], after: dict[str, float], seconds: float) -> None:
    used = {name: after[name] - before.get(name, 0.0) for name in after}
    print(f"CPU over the {seconds:.0f}s window (cores used; 2 cores):")
    for name, value in sorted(used.items(), key=lambda item: -item[1]):
        if value / seconds >= 0.01:
            print(f"  {name:<48} {value / seconds:5.2f}")


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
    state: TimedState, sent: Sent, baseline: dict[int, int]
) -> tuple[list[float], list[float], int]:
    """(completing-entry latencies, every-entry latencies, counts beyond what was sent)."""
    completing: list[float] = []
    every: list[float] = []
    beyond = 0
    accounted: dict[int, int] = defaultdict(int)  # entries of this run already counted
    for station, count, applied in state.summaries:
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


def caught_up(feed: TimedFeed, state: TimedState, sent: Sent, baseline: dict[int, int]) -> bool:
    if len(feed.arrivals) < sent.arrivals:
        return False
    return all(
        state.last_count.get(station, 0) - baseline.get(station, 0) >= len(times)
        for station, times in sent.turnstiles.items()
    )


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


def extra_instances(backend: Any, settings: Settings, count: int) -> tuple[list[Any], list[Any]]:
    """``count`` more KSQL engines (same statements, so the same query id and group: the
    partitions are shared) pumped in threads of their own, and ``count`` more Faust workers."""
    from cta.kafka.faust_worker import FaustWorker
    from cta.ksql.client import statement_files
    from cta.ksql.engine import OFFSET_RESET, KsqlEngine
    from cta.runtime import BackgroundPump

    runners, workers = [], []
    for _ in range(count):
        engine = KsqlEngine(backend.log, backend.admin, backend.registry)
        for path in statement_files():
            engine.execute(path.read_text(encoding="utf-8"), {OFFSET_RESET: "earliest"})
        runners.append((engine, BackgroundPump(engine).start()))
        workers.append(FaustWorker(settings, create_topics=False).start())
    for worker in workers:
        worker.wait_ready(timeout=120)
    return runners, workers


def run(settings: Settings, rate: float, seconds: float, seed: int, instances: int = 1) -> None:
    events = simulated_events(int(rate * seconds), seed)
    backend = kafka_backend(settings)
    pipeline = Pipeline(backend, settings=settings)
    began = time.monotonic()
    pipeline.setup()
    runners, workers = extra_instances(backend, settings, instances - 1)
    state = TimedState()
    feed = TimedFeed(backend.log, backend.registry, state)
    pipeline.settle(feeds=(feed,), timeout=120)
    expected = board_size(pipeline)

    def board_loaded() -> bool:
        feed.pump(0.2)
        return state.station_rows() >= expected

    wait_for(
        board_loaded,
        timeout=120,
        what=f"{expected} station rows on the dashboard",
    )
    feed.arrivals.clear()
    baseline = dict(state.last_count)
    state.recording = True
    print(
        f"pipeline set up and settled in {time.monotonic() - began:.0f}s; "
        f"{state.station_rows()} station rows on the board"
    )

    producer = backend.log.producer("bench-latency")
    arrivals = DeviceProducer.arrivals(producer, backend.registry)
    turnstiles = DeviceProducer.turnstiles(producer, backend.registry)
    pipeline.start_background(feed)
    sent = Sent()
    cpu: list[dict[str, float]] = []
    thread = threading.Thread(
        target=produce_paced,
        args=(events, arrivals, turnstiles, rate, sent, lambda: cpu.append(cpu_sample())),
        name="bench-producer",
        daemon=True,
    )
    try:
        cpu.append(cpu_sample())
        thread.start()
        thread.join()
        window = sent.finished - sent.started
        stopped = time.monotonic()
        try:
            wait_for(
                lambda: caught_up(feed, state, sent, baseline),
                timeout=120,
                interval=0.05,
                what="the dashboard to apply everything sent",
            )
            drained = f"{time.monotonic() - stopped:.1f}s"
        except TimeoutError:
            drained = "NOT within 120s"
    finally:
        pipeline.stop_background()
        producer.close()
        for engine, runner in runners:
            runner.stop()
            engine.close()
        for worker in workers:
            worker.stop()
        backend.close()

    completing, every, beyond = summary_latencies(state, sent, baseline)
    arrival_latencies = [applied - stamp for stamp, applied in feed.arrivals]
    print(
        f"target {rate:,.0f} events/s for {seconds:.0f}s: sent {sent.events:,} events "
        f"({sent.arrivals:,} arrivals) in {window:.1f}s = {sent.events / window:,.0f} events/s; "
        f"dashboard caught up {drained} after the last send"
    )
    print(f"arrival -> dashboard:                    {percentiles(arrival_latencies)}")
    print(f"turnstile -> KSQL -> summary, completing: {percentiles(completing)}")
    print(f"turnstile -> KSQL -> summary, every entry:{percentiles(every)}")
    print(
        f"summary rows applied: {len(state.summaries):,} for "
        f"{sum(len(t) for t in sent.turnstiles.values()):,} entries"
        + (f"; {beyond} counts above what was sent (duplicates)" if beyond else "")
    )
    brokers = len(settings.bootstrap_servers.split(","))
    print(f"{brokers} broker(s); {instances} instance(s) of the KSQL engine and the Faust worker")
    print(machine_line())
    print_cpu(cpu[0], cpu[-1], window)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=6000.0, help="target events/s")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--instances", type=int, default=1, help="instances of each processor (KSQL, Faust)"
    )
    add_stack_arguments(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with stack_settings(args, None) as settings:
        run(settings, args.rate, args.seconds, args.seed, args.instances)
        gc.collect()  # producers sit in reference cycles: free their librdkafka handles first


if __name__ == "__main__":
    main()
