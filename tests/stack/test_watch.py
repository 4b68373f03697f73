"""``cta stack status --watch``: rates from two samples, a progress bar per group."""

from __future__ import annotations

from cta.stack import StackConfig
from cta.stack.status import GroupLag, StackStatus
from cta.stack.watch import Sample, bar, render, sample, watch_forever


def test_a_bar_fills_with_the_consumed_share() -> None:
    assert bar(0, 10, width=10) == "-" * 10
    assert bar(5, 10, width=10) == "#" * 5 + "-" * 5
    assert bar(0, 0, width=4) == "####"


def test_groups_sum_their_partitions_and_rates_come_from_the_previous_sample() -> None:
    report = StackStatus(
        services=[],
        topics={"t": 300},
        lag=[GroupLag("g", "t", 0, 100, 50), GroupLag("g", "t", 1, 100, 50)],
    )
    now = sample(report, at=10.0)
    assert now.groups == {"g": (200, 100)} and now.topics == {"t": 300}
    before = Sample(at=8.0, topics={"t": 100}, groups={"g": (100, 0)})
    lines = render(before, now)
    group_line = next(line for line in lines if line.strip().startswith("g "))
    assert "200/300" in group_line and "50/s" in group_line and "lag 100" in group_line
    topic_line = next(line for line in lines if line.strip().startswith("t "))
    assert "100/s" in topic_line
    assert all("/s" not in line for line in render(None, now) if line.strip().startswith("g "))


def test_watch_prints_each_refresh() -> None:
    out: list[str] = []
    report = StackStatus(services=[], topics={"t": 1}, errors=["kafka: down"])
    code = watch_forever(
        StackConfig(), interval=0.0, rounds=2, read=lambda _: report, write=out.append
    )
    assert code == 0
    assert sum("processor groups" in chunk for chunk in out) == 2
    assert any("! kafka: down" in chunk for chunk in out)
