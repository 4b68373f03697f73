"""Drives the simulation: steps the pure model and hands its events to the device producers,
paced by a simulated clock (real time, accelerated, or as fast as possible)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from cta import topics
from cta.backend import Backend
from cta.domain.clock import real_seconds_per_step
from cta.domain.simulation import Simulation, StepEvents
from cta.producers import DeviceProducer, WeatherProducer


@dataclass(slots=True)
class Progress:
    steps: int = 0
    per_topic: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    @property
    def events(self) -> int:
        return sum(self.per_topic.values())

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.events / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        counts = ", ".join(
            f"{name.removeprefix('org.chicago.cta.')}={count}"
            for name, count in sorted(self.per_topic.items())
        )
        return f"step {self.steps}: {counts} ({self.rate():,.0f} events/s)"


class SimulationRunner:
    """Publishes every event of every step; flushes the producer once per step."""

    def __init__(
        self,
        simulation: Simulation,
        backend: Backend,
        *,
        step: timedelta,
        client_id: str = "simulation",
    ) -> None:
        self.simulation = simulation
        self.step_length = step
        self._producer = backend.log.producer(client_id)
        self.arrivals = DeviceProducer.arrivals(self._producer, backend.registry)
        self.turnstiles = DeviceProducer.turnstiles(self._producer, backend.registry)
        self.weather = WeatherProducer(backend.rest_proxy)
        self.progress = Progress()
        self._placed = False

    def publish(self, events: StepEvents) -> None:
        if events.weather is not None:
            self.weather.send(events.weather)
            self.progress.per_topic[topics.WEATHER] += 1
        self.arrivals.send_all(events.arrivals)
        self.turnstiles.send_all(events.turnstiles)
        self._producer.flush()
        self.progress.per_topic[topics.ARRIVALS] += len(events.arrivals)
        self.progress.per_topic[topics.TURNSTILES] += len(events.turnstiles)

    def step(self) -> StepEvents:
        """Place the trains on the first call, then advance one step; publish what happened."""
        if self._placed:
            events = self.simulation.step()
            self.progress.steps += 1
        else:
            events = self.simulation.placement()
            self._placed = True
        self.publish(events)
        return events

    def run(
        self,
        steps: int | None,
        *,
        speed: float | None = None,
        stop: threading.Event | None = None,
        on_step: Callable[[Progress], None] | None = None,
    ) -> Progress:
        """Run ``steps`` steps (None: until ``stop`` is set). ``speed``: None as fast as possible,
        1.0 real time, N N-times faster. Sleeps only to keep pace, and wakes at once on stop."""
        stop = stop or threading.Event()
        pace = real_seconds_per_step(self.step_length, speed)
        deadline = time.monotonic()
        if not self._placed:
            self.step()
        while (steps is None or self.progress.steps < steps) and not stop.is_set():
            if pace:
                deadline += pace
                if stop.wait(max(0.0, deadline - time.monotonic())):
                    break
            self.step()
            if on_step is not None:
                on_step(self.progress)
        self._producer.flush()
        return self.progress

    def close(self) -> None:
        self._producer.flush()
        self._producer.close()
