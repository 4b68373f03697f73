"""Several instances of the KSQL engine share the turnstile partitions through their consumer
group; when a partition moves (an instance added, stopped) its state moves with it: the new
owner reads the summary back, so nothing is lost and nothing is counted twice."""

from __future__ import annotations

from collections import Counter

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


def test_the_launcher_starts_n_of_each_with_their_own_metrics_ports(tmp_path: object) -> None:
    from pathlib import Path

    from cta.scale import instance_commands

    commands = instance_commands(2, 2, 9310, Path("/tmp/w"))
    assert [c[2:4] for c in commands[:2]] == [["cta.scale", "ksql"]] * 2
    assert [c[-1] for c in commands] == ["9310", "9311", "9312", "9313"]
    faust = commands[2:]
    assert all("--without-web" not in c and "--web-port" in c for c in faust)
    assert faust[0][faust[0].index("--datadir") + 1] != faust[1][faust[1].index("--datadir") + 1]
    plain = instance_commands(1, 1, None, Path("/tmp/w"))
    assert "--metrics-port" not in plain[0] and "--without-web" in plain[1]
