"""Several instances of the KSQL engine share the turnstile partitions through their consumer
group; when a partition moves (an instance added, stopped) its state moves with it: the new
owner reads the summary back, so nothing is lost and nothing is counted twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from cta.ksql.engine import KsqlEngine
from cta.runtime import drain
from tests.ksql.conftest import Stack
from tests.ksql.test_engine import started

# Every seventh id: keys spread over all four partitions (consecutive ones hash to two).
STATIONS = list(range(40_000, 41_000, 7))[:40]


def _drain(engines: list[KsqlEngine]) -> None:
    drain([p for engine in engines for p in engine.pumps()])


def _feed(stack: Stack, expected: Counter[int], rounds: int = 1) -> None:
    for _ in range(rounds):
        stack.produce_entries(STATIONS)
        expected.update(STATIONS)


def test_two_instances_split_the_partitions_and_count_exactly(stack: Stack) -> None:
    first, second = started(stack), started(stack)
    expected: Counter[int] = Counter()
    _feed(stack, expected, rounds=3)
    _drain([first, second])
    (a,), (b,) = first.queries(), second.queries()
    assert a.group_id == b.group_id
    assert a.stats.consumed > 0 and b.stats.consumed > 0
    assert a.stats.consumed + b.stats.consumed == sum(expected.values())
    assert stack.summary() == dict(expected)


def test_partitions_that_move_and_return_keep_exact_counts(stack: Stack) -> None:
    expected: Counter[int] = Counter()
    first = started(stack)
    _feed(stack, expected)
    _drain([first])
    # An instance joins: some partitions move to it, carrying their counts.
    second = started(stack)
    _feed(stack, expected)
    _drain([first, second])
    assert stack.summary() == dict(expected)
    # It stops: its partitions return to the first, which counted them before.
    second.close()
    _feed(stack, expected)
    _drain([first])
    assert stack.summary() == dict(expected)
    # A third joins and the first leaves: every partition ends on the newcomer.
    third = started(stack)
    _feed(stack, expected)
    _drain([first, third])
    first.close()
    _feed(stack, expected, rounds=2)
    _drain([third])
    assert stack.summary() == dict(expected)
    (query,) = third.queries()
    assert query.stats.restores >= 1


def test_cta_processors_supervises_n_of_each_with_their_own_ids_and_metrics_ports(
    tmp_path: Path,
) -> None:
    from cta.config import Settings
    from cta.kafka.processors import instance_specs

    specs = instance_specs(Settings(), tmp_path, 2, 9310)
    names = [spec.name for spec in specs]
    assert names == ["faust-stations-1", "faust-stations-2", "ksql-engine-1", "ksql-engine-2"]
    faust, ksql = specs[:2], specs[2:]
    assert [c.command[c.command.index("--instance") + 1] for c in ksql] == names[2:]
    assert [c.command[-1] for c in ksql] == ["9310", "9311"]
    assert [c.command[-1] for c in faust] == ["9312", "9313"]
    assert all("--without-web" not in c.command for c in faust)
    datadirs = {c.command[c.command.index("--datadir") + 1] for c in faust}
    logs = {c.log_path for c in specs}
    assert len(datadirs) == 2 and len(logs) == 4
    # Faust workers join one after the other (the stations topics have one partition).
    assert [c.start_after for c in faust] == [None, "faust-stations-1"]
    assert [c.start_after for c in ksql] == [None, None]
    # One instance keeps the plain names (the demo's /healthz); no ports: no web server.
    plain = instance_specs(Settings(), tmp_path, 1, None)
    assert [s.name for s in plain] == ["faust-stations", "ksql-engine"]
    assert "--without-web" in plain[0].command and "--metrics-port" not in plain[1].command
    # A ksqlDB server runs the queries: Faust workers only.
    server = instance_specs(Settings(ksql_url="http://127.0.0.1:8088"), tmp_path, 3, None)
    assert [s.name for s in server] == [f"faust-stations-{n}" for n in (1, 2, 3)]


def test_a_restore_that_fails_once_loses_no_record_of_the_batch_that_moved(stack: Stack) -> None:
    """A partition moves to an instance, and reading the sink back fails once (a broker just
    killed: its partitions' leader unknown). The batch whose records showed the move is counted
    once the restore succeeds on the next round, not dropped."""
    expected: Counter[int] = Counter()
    first = started(stack)
    _feed(stack, expected)
    _drain([first])
    second = started(stack)
    (query,) = second.queries()
    failures = iter([RuntimeError("Failed to get watermark offsets: Unknown partition")])
    restore = query.restore

    def flaky_restore() -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        restore()

    query.restore = flaky_restore  # type: ignore[method-assign]
    _feed(stack, expected)
    failed = 0
    for _ in range(20):  # the background pump's retries, by hand
        try:
            _drain([first, second])
            break
        except RuntimeError:
            failed += 1
    assert failed == 1
    assert stack.summary() == dict(expected)
