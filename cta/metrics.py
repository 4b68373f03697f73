"""The metrics a control room scrapes, in Prometheus' text format (``prometheus-client``).

Each process has one ``Metrics`` on a registry of its own (never the client's global one, so
tests and several apps in one process do not collide); ``process_metrics()`` is this process's.
Processors, the dashboard and the supervisor increment what they see:

- ``cta_records_in_total`` / ``cta_records_out_total`` {processor, topic}
- ``cta_dead_letters_total`` {processor, reason}: the reason's first words, not its full text
- ``cta_processor_restarts_total`` {processor}
- ``cta_transactions_committed_total`` / ``cta_transactions_aborted_total`` {processor}
- ``cta_sse_clients``: server-sent-event streams open on a dashboard
- ``cta_event_to_board_latency_seconds`` {kind}: a histogram, record CreateTime to applied
- ``cta_consumer_lag`` {group, topic, partition}: read from the broker at each scrape for the
  groups ``watch_lag`` was given
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Event-to-board latency: tens of milliseconds when healthy, seconds when a backlog builds.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_REASON_WORDS = 4


class LagSource(Protocol):
    """What lag needs from a TopicAdmin (both backends have it)."""

    def group_lag(self, group_id: str) -> dict[tuple[str, int], int]: ...


def reason_label(reason: str) -> str:
    """A bounded label for a dead-letter reason: the text before any ':' detail, its first few
    words, lower case (``"grouping column X is null"`` -> ``"grouping column x is"``)."""
    head = reason.split(":", 1)[0]
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", head)[:_REASON_WORDS]
    return " ".join(words).lower() or "unknown"


class _LagCollector(Collector):
    def __init__(self, admin: LagSource, groups: Callable[[], Iterable[str]]) -> None:
        self._admin = admin
        self._groups = groups

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "cta_consumer_lag",
            "Records behind the end of the partition, per consumer group",
            labels=["group", "topic", "partition"],
        )
        for group in self._groups():
            try:
                lag = self._admin.group_lag(group)
            except Exception as exc:  # a scrape must not fail because one group is unreadable
                log.debug("lag of %s not read: %s", group, exc)
                continue
            for (topic, partition), behind in sorted(lag.items()):
                family.add_metric([group, topic, str(partition)], behind)
        yield family

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())  # collected live: nothing to describe ahead of a scrape


class Metrics:
    """One process's metrics on a registry of its own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.records_in = Counter(
            "cta_records_in",
            "Records consumed, per processor and topic",
            ["processor", "topic"],
            registry=r,
        )
        self.records_out = Counter(
            "cta_records_out",
            "Records produced, per processor and topic",
            ["processor", "topic"],
            registry=r,
        )
        self.dead_letters = Counter(
            "cta_dead_letters",
            "Records sent to the dead-letter topic, by reason",
            ["processor", "reason"],
            registry=r,
        )
        self.processor_restarts = Counter(
            "cta_processor_restarts",
            "Processor restarts after a failure",
            ["processor"],
            registry=r,
        )
        self.transactions_committed = Counter(
            "cta_transactions_committed",
            "Kafka transactions committed",
            ["processor"],
            registry=r,
        )
        self.transactions_aborted = Counter(
            "cta_transactions_aborted", "Kafka transactions aborted", ["processor"], registry=r
        )
        self.sse_clients = Gauge(
            "cta_sse_clients", "Server-sent-event streams open on the dashboard", registry=r
        )
        self.event_to_board = Histogram(
            "cta_event_to_board_latency_seconds",
            "Record CreateTime to the dashboard state applying it",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._lag_lock = threading.Lock()

    def dead_letter(self, processor: str, reason: str) -> None:
        self.dead_letters.labels(processor=processor, reason=reason_label(reason)).inc()

    def watch_lag(self, admin: LagSource, groups: Callable[[], Iterable[str]]) -> None:
        """Report ``cta_consumer_lag`` for ``groups()`` (read at each scrape)."""
        with self._lag_lock:
            self.registry.register(_LagCollector(admin, groups))

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format (serve it with ``CONTENT_TYPE``)."""
        return generate_latest(self.registry)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """``/metrics`` on its own HTTP thread, for processes that serve nothing else."""
        start_http_server(port, addr=host, registry=self.registry)


_process_metrics: Metrics | None = None
_process_lock = threading.Lock()


def process_metrics() -> Metrics:
    """This process's metrics, made on first use."""
    global _process_metrics
    with _process_lock:
        if _process_metrics is None:
            _process_metrics = Metrics()
        return _process_metrics
