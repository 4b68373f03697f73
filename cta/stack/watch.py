"""``cta stack status --watch``: a Grafana-free live view. Every few seconds it reads the end
offsets of our topics and the committed offsets of every consumer group, and prints a
progress-style line per processor group (how far it has consumed, its rate, its lag) and a
rate line per topic, redrawn in place on a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from cta.stack.config import StackConfig
from cta.stack.status import StackStatus, status

BAR_WIDTH = 24


@dataclass(frozen=True, slots=True)
class Sample:
    at: float
    # topic -> messages held; group -> (committed sum, lag sum)
    topics: dict[str, int]
    groups: dict[str, tuple[int, int]]


def sample(report: StackStatus, at: float) -> Sample:
    groups: dict[str, tuple[int, int]] = {}
    for row in report.lag:
        committed, lag = groups.get(row.group, (0, 0))
        groups[row.group] = (committed + row.committed, lag + row.lag)
    return Sample(at, dict(report.topics), groups)


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    filled = width if total <= 0 else min(width, round(width * done / total))
    return "#" * filled + "-" * (width - filled)


def render(previous: Sample | None, current: Sample) -> list[str]:
    """Lines for one refresh; rates need a previous sample (blank on the first)."""
    elapsed = None if previous is None else max(current.at - previous.at, 1e-6)
    lines = ["processor groups (consumed / end, rate, lag):"]
    for group, (committed, lag) in sorted(current.groups.items()):
        rate = ""
        if elapsed is not None and previous is not None and group in previous.groups:
            rate = f"{(committed - previous.groups[group][0]) / elapsed:9.0f}/s"
        lines.append(
            f"  {group:<32} [{bar(committed, committed + lag)}] {committed}/{committed + lag}"
            f" {rate:>11} lag {lag}"
        )
    lines.append("topics (messages, rate in):")
    for topic, held in sorted(current.topics.items()):
        rate = ""
        if elapsed is not None and previous is not None and topic in previous.topics:
            rate = f"{(held - previous.topics[topic]) / elapsed:9.0f}/s"
        lines.append(f"  {topic:<40} {held:>10} {rate:>11}")
    return lines


def watch_forever(
    config: StackConfig,
    interval: float = 2.0,
    *,
    rounds: int | None = None,
    read: Callable[[StackConfig], StackStatus] = status,
    write: Callable[[str], object] = sys.stdout.write,
) -> int:
    """Refresh until Ctrl-C (or ``rounds`` refreshes, for tests); returns the exit code."""
    previous: Sample | None = None
    shown = 0
    try:
        while rounds is None or shown < rounds:
            report = read(config)
            current = sample(report, time.monotonic())
            lines = render(previous, current) + [f"  ! {e}" for e in report.errors]
            if sys.stdout.isatty():
                write("\x1b[H\x1b[J")  # home and clear: redraw in place
            write("\n".join(lines) + "\n")
            previous, shown = current, shown + 1
            if rounds is None or shown < rounds:
                time.sleep(interval)  # the refresh period of a live view
    except KeyboardInterrupt:
        return 0
    return 0
