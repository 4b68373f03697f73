"""``Pipeline.settle()`` returns only once every consumer group of the pipeline has no lag: the
in-process KSQL queries' groups as well as the out-of-process ones. (Seen on the real stack: after
a restart the engine's consumer was still rejoining its group, found nothing for a few rounds,
and settle() said "settled" with the summary 8,953 entries short.)"""

from __future__ import annotations

import json
from datetime import datetime

from cta import topics
from cta.backend import Backend
from cta.config import Settings
from cta.domain.clock import CHICAGO
from cta.pipeline import Pipeline
from cta.ports import Record
from cta.runtime import Pump
from cta.verify import read_all


def summary_total(records: list[Record]) -> int:
    """The sum of the latest COUNT per key of the summary table topic."""
    latest: dict[bytes | None, int] = {}
    for record in records:
        if record.value is None:
            latest.pop(record.key, None)
        else:
            latest[record.key] = int(json.loads(record.value)["COUNT"])
    return sum(latest.values())


class Rejoining:
    """Wraps a query: its consumer finds nothing for the first ``rounds`` pumps, as one that is
    still waiting for its partitions after a rebalance."""

    def __init__(self, query: object, rounds: int) -> None:
        self._query = query
        self._rounds = rounds

    def __getattr__(self, name: str) -> object:
        return getattr(self._query, name)

    def pump(self, timeout: float = 0.0) -> int:
        if self._rounds > 0:
            self._rounds -= 1
            return 0
        return int(self._query.pump(timeout))  # type: ignore[attr-defined]


def test_settle_waits_for_a_ksql_group_that_still_has_lag(
    backend: Backend, settings: Settings
) -> None:
    pipeline = Pipeline(backend, settings=settings)
    pipeline.setup()
    pipeline.settle()
    runner = pipeline.simulation(start=datetime(2026, 11, 23, 8, 0, tzinfo=CHICAGO), seed=3)
    for _ in range(3):
        runner.step()
    entries = runner.progress.per_topic[topics.TURNSTILES]
    assert entries > 0
    # More stalled rounds than any backend's quiet_rounds.
    stalled: list[Pump] = [
        Rejoining(p, 5) if hasattr(p, "group_id") else p  # type: ignore[misc]
        for p in backend.pumps()
    ]
    backend.pumps = lambda: stalled
    pipeline.settle()
    summary = read_all(backend, topics.TURNSTILE_SUMMARY)
    assert summary_total(summary) == entries
