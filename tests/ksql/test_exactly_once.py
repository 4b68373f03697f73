"""Exactly-once counts across a crash between the sink write and the offset commit.

The crash is a ``BaseException`` raised where a process would die (no ``except Exception``
runs, nothing is closed): after the batch's summary rows reached the sink, before the source
offsets were committed. The crashed instance's group membership then expires (its consumer
leaves without committing, as a session timeout does) and an instance with the same id starts
over. At least once counts the batch twice; with transactions it counts it once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from cta.ksql.engine import KsqlEngine
from cta.ksql.query import AT_LEAST_ONCE, EXACTLY_ONCE, CountQuery
from cta.metrics import process_metrics
from cta.ports import ProducerFencedError
from cta.runtime import drain
from cta.testing import expect_log
from tests.ksql.conftest import Stack
from tests.ksql.test_engine import FILES

STATIONS = list(range(40_000, 41_000, 7))[:40]


class Crash(BaseException):
    """The process dies here (SIGKILL): no handler, no close."""


def engine(stack: Stack, guarantee: str) -> KsqlEngine:
    started = KsqlEngine(
        stack.broker,
        stack.broker,
        stack.registry,
        restore_timeout=5.0,
        processing_guarantee=guarantee,
        instance_id="instance-0",
    )
    started.execute(FILES)
    return started


def crash_after_the_sink_write(query: CountQuery) -> None:
    """Make the query die once its rows are on the sink, before its offsets are committed."""

    def die(*args: Any, **kwargs: Any) -> None:
        raise Crash

    if query.processing_guarantee == EXACTLY_ONCE:
        # The rows are produced and flushed into the open transaction; it never commits.
        query._producer.commit_transaction = die  # type: ignore[attr-defined]
    else:
        query._consumer.commit = die  # type: ignore[method-assign]


def crash_and_restart(stack: Stack, guarantee: str, expected: Counter[int]) -> KsqlEngine:
    first = engine(stack, guarantee)
    stack.produce_entries(STATIONS)
    expected.update(STATIONS)
    (query,) = first.queries()
    crash_after_the_sink_write(query)
    with pytest.raises(Crash):
        drain(first.pumps())
    query._consumer.close()  # the session times out: the group forgets the dead member
    return engine(stack, guarantee)


@pytest.mark.parametrize("guarantee", [AT_LEAST_ONCE, EXACTLY_ONCE])
def test_a_crash_between_sink_write_and_commit(stack: Stack, guarantee: str) -> None:
    expected: Counter[int] = Counter()
    restarted = crash_and_restart(stack, guarantee, expected)
    stack.produce_entries(STATIONS)
    expected.update(STATIONS)
    drain(restarted.pumps())
    if guarantee == AT_LEAST_ONCE:
        # Why the engine does not run at least once: the first batch is counted twice.
        assert stack.summary() == {s: n + 1 for s, n in expected.items()}
    else:
        assert stack.summary() == dict(expected)


def metric(counter: Any, processor: str) -> float:
    value: float = counter.labels(processor=processor)._value.get()
    return value


def test_every_pump_commits_one_transaction_and_a_failed_one_aborts(stack: Stack) -> None:
    running = engine(stack, EXACTLY_ONCE)
    (query,) = running.queries()
    metrics = process_metrics()
    committed = metric(metrics.transactions_committed, query.name)
    aborted = metric(metrics.transactions_aborted, query.name)
    stack.produce_entries(STATIONS)
    drain(running.pumps())
    assert metric(metrics.transactions_committed, query.name) > committed

    # A produce that fails (the sink gone) aborts the transaction; the query starts over.
    real_publish: Callable[[], None] = query._publish

    def failing_publish() -> None:
        query._publish = real_publish  # type: ignore[method-assign]
        raise RuntimeError("the broker refused the batch")

    query._publish = failing_publish  # type: ignore[method-assign]
    stack.produce_entries(STATIONS)
    drain(running.pumps())
    assert metric(metrics.transactions_aborted, query.name) == aborted + 1
    assert stack.summary() == {s: 2 for s in STATIONS}


def test_a_zombie_instance_is_fenced_by_its_successor(stack: Stack) -> None:
    """The successor (same instance id) fences the old instance: its next transaction is
    refused, it stops, and the successor alone counts."""
    zombie = engine(stack, EXACTLY_ONCE)
    stack.produce_entries(STATIONS)
    drain(zombie.pumps())
    (old,) = zombie.queries()
    old._consumer.close()  # a session timeout took its partitions
    successor = engine(stack, EXACTLY_ONCE)
    stack.produce_entries(STATIONS)
    old._consumer = old._new_consumer()  # the zombie comes back to life and rejoins
    with expect_log("cta.ksql.query", "fenced, stopping"), pytest.raises(ProducerFencedError):
        for _ in range(50):
            zombie.pump(0.05)
    assert old.state == "TERMINATED"
    drain(successor.pumps())
    assert stack.summary() == {s: 2 for s in STATIONS}


@pytest.mark.parametrize("guarantee", [AT_LEAST_ONCE, EXACTLY_ONCE])
def test_a_restore_that_fails_mid_pump_loses_no_batch(stack: Stack, guarantee: str) -> None:
    """The first batch after start makes the query read the sink back (the partitions are new
    to it); if that read fails (the broker went away, as in the chaos run) the batch must be
    read again, not skipped: counting the next one would commit offsets past it."""
    running = engine(stack, guarantee)
    (query,) = running.queries()
    stack.produce_entries(STATIONS)
    real_restore = query.restore

    def failing_restore() -> None:
        query.restore = real_restore  # type: ignore[method-assign]
        raise RuntimeError("sink not read back: the broker went away")

    query.restore = failing_restore  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="broker went away"):
        query.pump(0.0)
    drain(running.pumps())
    assert stack.summary() == {s: 1 for s in STATIONS}


def test_a_restore_is_not_held_up_by_a_member_left_in_an_earlier_restores_group(
    stack: Stack,
) -> None:
    """A restore reads the sink with a group of its own. A member of an earlier restore's group
    that never left (its LeaveGroup lost as the broker went down) would otherwise hold some of
    the sink's partitions, and the next restore could never read them."""
    running = engine(stack, EXACTLY_ONCE)
    (query,) = running.queries()
    stack.produce_entries(STATIONS)
    drain(running.pumps())
    query.restore()  # the sink holds rows now: read with a group, as after a restart
    restore_groups = [g for g in stack.broker._groups if "-restore-" in g]
    assert restore_groups, "the restore read the sink with a group"
    for group in restore_groups:
        stale = stack.broker.consumer(group)
        stale.subscribe([query.plan.sink_topic], from_beginning=True)
        stale.consume(1)  # joined: it holds its share of the sink's partitions
    query._restore_timeout = 1.0
    query.restore()
    assert query.counts() == {s: 1 for s in STATIONS}


def test_a_start_over_ends_a_transaction_the_broker_still_holds_open_under_the_query_id(
    stack: Stack,
) -> None:
    """The query starts over as a restarted instance would: with a new producer under its
    transactional id, which aborts whatever transaction the broker still holds open for that
    id (one whose end the old producer lost track of in a broker restart). Reusing the old
    producer would leave it open, and the restore would wait on it for good."""
    running = engine(stack, EXACTLY_ONCE)
    (query,) = running.queries()
    stack.produce_entries(STATIONS)
    drain(running.pumps())
    lost = query._transactions
    assert lost is not None
    lost.begin_transaction()
    lost.produce(query.plan.sink_topic, b"{}", key=b"40000")
    lost.flush()
    query._restore_timeout = 1.0
    query._start_over()
    assert query.counts() == {s: 1 for s in STATIONS}
    stack.produce_entries(STATIONS)
    drain(running.pumps())
    assert stack.summary() == {s: 2 for s in STATIONS}
