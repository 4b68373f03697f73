"""cta.metrics and the /metrics endpoints: Prometheus text, parsed back with
prometheus_client's own parser. Each test uses a Metrics of its own (its own registry), or
compares before/after values of the process's one, so tests never depend on each other."""

from __future__ import annotations

import asyncio
import http.client
import json
from collections.abc import Iterable

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cta.dashboard.app import create_app
from cta.dashboard.feed import DashboardFeed
from cta.dashboard.state import DashboardState
from cta.metrics import CONTENT_TYPE, Metrics, process_metrics, reason_label
from cta.runtime import drain, wait_for
from tests.dashboard.conftest import LiveServer, unique_name
from tests.dashboard.test_feed import Pipeline

NAMES = {
    "cta_records_in",
    "cta_records_out",
    "cta_dead_letters",
    "cta_processor_restarts",
    "cta_transactions_committed",
    "cta_transactions_aborted",
    "cta_sse_clients",
    "cta_event_to_board_latency_seconds",
    "cta_consumer_lag",
}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value, from Prometheus text."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def families(text: str) -> set[str]:
    return {family.name for family in text_string_to_metric_families(text)}


class FakeLag:
    def __init__(self, lag: dict[str, dict[tuple[str, int], int]]) -> None:
        self.lag = lag

    def group_lag(self, group_id: str) -> dict[tuple[str, int], int]:
        if group_id not in self.lag:
            raise KeyError(group_id)
        return self.lag[group_id]


def test_every_metric_is_exposed_and_parses() -> None:
    metrics = Metrics()
    metrics.records_in.labels(processor="ksql", topic="t").inc(3)
    metrics.records_out.labels(processor="ksql", topic="s").inc()
    metrics.dead_letter("ksql", "grouping column STATION_ID is null")
    metrics.processor_restarts.labels(processor="faust").inc()
    metrics.transactions_committed.labels(processor="ksql").inc(2)
    metrics.transactions_aborted.labels(processor="ksql").inc()
    metrics.sse_clients.inc()
    metrics.event_to_board.labels(kind="arrival").observe(0.12)
    metrics.watch_lag(FakeLag({"g": {("t", 0): 5, ("t", 1): 0}}), lambda: ["g", "gone"])
    text = metrics.exposition().decode()
    assert families(text) >= NAMES
    values = samples(text)
    assert values[("cta_records_in_total", (("processor", "ksql"), ("topic", "t")))] == 3
    reason = (("processor", "ksql"), ("reason", "grouping column station_id is"))
    assert values[("cta_dead_letters_total", reason)] == 1
    assert values[("cta_transactions_committed_total", (("processor", "ksql"),))] == 2
    assert values[("cta_sse_clients", ())] == 1
    lag = ("cta_consumer_lag", (("group", "g"), ("partition", "0"), ("topic", "t")))
    assert values[lag] == 5
    assert values[("cta_event_to_board_latency_seconds_count", (("kind", "arrival"),))] == 1
    bucket = (("kind", "arrival"), ("le", "0.15"))
    assert values[("cta_event_to_board_latency_seconds_bucket", bucket)] == 1
    # An unreadable group ("gone") is left out, the scrape still answers.
    assert not any(
        name == "cta_consumer_lag" and ("group", "gone") in labels for name, labels in values
    )


def test_two_metrics_do_not_share_a_registry() -> None:
    first, second = Metrics(), Metrics()
    first.processor_restarts.labels(processor="x").inc()
    assert 'processor="x"' not in second.exposition().decode()
    assert process_metrics() is process_metrics()


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("not JSON: Expecting value: line 1 column 1", "not json"),
        ("grouping column STATION_ID is null", "grouping column station_id is"),
        ("", "unknown"),
    ],
)
def test_dead_letter_reasons_become_bounded_labels(reason: str, label: str) -> None:
    assert reason_label(reason) == label


def _fed_board(metrics: Metrics) -> DashboardState:
    pipeline = Pipeline()
    state = DashboardState()
    feed = DashboardFeed(pipeline.broker, pipeline.registry, state, metrics=metrics)
    pipeline.arrival(station_id=2, train_id="BL001")
    pipeline.raw("TURNSTILE_SUMMARY", json.dumps({"STATION_ID": 2, "COUNT": 4}).encode(), b"2")
    pipeline.producer.flush(5)
    assert drain([feed]) == 2
    return state


def test_the_dashboard_serves_its_metrics_with_the_feeds_latencies() -> None:
    metrics = Metrics()
    state = _fed_board(metrics)
    app = create_app(state, name=unique_name(), metrics=metrics)
    _, response = app.test_client.get("/metrics")
    assert response.status == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    values = samples(response.text)
    assert NAMES - {"cta_consumer_lag"} <= families(response.text)
    for kind in ("arrival", "summary"):
        assert values[("cta_event_to_board_latency_seconds_count", (("kind", kind),))] == 1
    summary_in = (
        "cta_records_in_total",
        (("processor", "dashboard"), ("topic", "TURNSTILE_SUMMARY")),
    )
    assert values[summary_in] == 1


def _value(text: str, name: str, labels: Iterable[tuple[str, str]]) -> float:
    return samples(text).get((name, tuple(sorted(labels))), 0.0)


def test_sse_clients_count_open_streams() -> None:
    metrics = Metrics()
    app = create_app(DashboardState(), name=unique_name(), metrics=metrics)
    server = LiveServer(app).start()

    def clients() -> float:
        return _value(metrics.exposition().decode(), "cta_sse_clients", ())

    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/events")
        response = connection.getresponse()
        assert response.status == 200
        response.readline()  # the retry line: the handler is streaming
        wait_for(lambda: clients() == 1, timeout=10, what="one SSE client")
        connection.close()
        # The server notices the closed socket and cancels the handler.
        wait_for(lambda: clients() == 0, timeout=10, what="no SSE client")
    finally:
        server.stop()


def test_the_faust_worker_serves_metrics_and_counts_what_its_agent_does() -> None:
    pytest.importorskip("faust")
    from tests.processors.test_faust_app import key, raw, run

    before = process_metrics().exposition().decode()
    app, _ = run((key(40380), raw(40380)), (key(1), b"not json"))
    after = process_metrics().exposition().decode()
    labels = (("processor", "stations-stream"), ("topic", "org.chicago.cta.stations"))
    assert (
        _value(after, "cta_records_in_total", labels)
        - _value(before, "cta_records_in_total", labels)
        == 2
    )
    dead = [name for name, _ in samples(after) if name == "cta_dead_letters_total"]
    assert dead
    view = app.web.views["/metrics"]
    response = asyncio.run(view.get(None))
    assert response.headers["Content-Type"] == CONTENT_TYPE
    assert NAMES - {"cta_consumer_lag"} <= families(response.body.decode())


class _FailingPump:
    name = "metrics-test-failing-pump"

    def pump(self, timeout: float = 0.0) -> int:
        raise ConnectionError("broker away")

    def close(self) -> None:
        pass


def test_a_pump_retried_after_a_failure_counts_as_a_processor_restart() -> None:
    from cta.runtime import BackgroundPump
    from cta.testing import expect_log

    labels = (("processor", _FailingPump.name),)

    def restarts() -> float:
        return _value(
            process_metrics().exposition().decode(), "cta_processor_restarts_total", labels
        )

    before = restarts()
    with expect_log("cta.runtime", f"pump {_FailingPump.name} failed"):
        runner = BackgroundPump(_FailingPump(), max_backoff=0.05).start()
        try:
            wait_for(lambda: restarts() >= before + 2, timeout=10, what="two restarts")
        finally:
            runner.stop()
    assert runner.failures >= 2
