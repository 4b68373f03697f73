"""How far the pipeline's consumer groups are behind: what ``Pipeline.settle`` waits on.

A group counts with the topics it reads: a partition the group has committed to lags by the
admin's ``group_lag``; one it has never committed to lags by its whole end offset (the group
starts there at the earliest offset). Counting only committed partitions, or only the groups of
out-of-process workers, let settle() return while a consumer that had just restarted was still
waiting for its partitions (it found nothing for a few rounds, yet its group had lag).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cta.ports import TopicAdmin

# group id -> the topics it consumes (empty: only the partitions it has committed to)
GroupTopics = Mapping[str, Sequence[str]]


def group_topics_of(pumps: Iterable[Any]) -> dict[str, tuple[str, ...]]:
    """The groups of in-process consumers that say what they read (a KSQL query: its
    ``group_id`` and ``source_topics``)."""
    groups: dict[str, tuple[str, ...]] = {}
    for pump in pumps:
        group_id = getattr(pump, "group_id", None)
        source_topics = getattr(pump, "source_topics", None)
        if isinstance(group_id, str) and source_topics is not None:
            groups[group_id] = tuple(source_topics)
    return groups


def group_lag(admin: TopicAdmin, group_id: str, topics: Sequence[str]) -> int:
    committed = admin.group_lag(group_id)
    lag = sum(behind for (topic, _), behind in committed.items() if topic not in topics)
    existing = admin.list_topics() if topics else {}
    for topic in topics:
        if topic not in existing:
            continue
        for partition, end in admin.end_offsets(topic).items():
            lag += committed.get((topic, partition), end)
    return lag


def total_lag(admin: TopicAdmin, groups: GroupTopics) -> dict[str, int]:
    """Lag per group, only the groups that are behind."""
    lags = {group: group_lag(admin, group, topics) for group, topics in groups.items()}
    return {group: lag for group, lag in lags.items() if lag}
