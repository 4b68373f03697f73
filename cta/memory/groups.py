"""Consumer-group membership and partition assignment (the coordinator's bookkeeping)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

TopicPartition = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Subscription:
    names: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, topics: Sequence[str]) -> Subscription:
        # librdkafka treats a subscription as a regex only when it starts with "^".
        names = frozenset(t for t in topics if not t.startswith("^"))
        patterns = tuple(re.compile(t) for t in topics if t.startswith("^"))
        return cls(names, patterns)

    def matches(self, topic: str) -> bool:
        return topic in self.names or any(p.search(topic) for p in self.patterns)


class Group:
    """Members, their subscriptions and the current assignment. Every join or leave, and every
    change of the topic set, starts a new generation (a rebalance)."""

    __slots__ = ("_assigned_for", "_assignment", "generation", "members")

    def __init__(self) -> None:
        self.members: dict[int, Subscription] = {}
        self.generation = 0
        self._assignment: dict[int, list[TopicPartition]] = {}
        self._assigned_for: tuple[int, int] = (-1, -1)

    def join(self, member_id: int, subscription: Subscription) -> None:
        self.members[member_id] = subscription
        self.generation += 1

    def leave(self, member_id: int) -> None:
        if self.members.pop(member_id, None) is not None:
            self.generation += 1

    def assignment(
        self, member_id: int, topics: Mapping[str, int], topics_version: int
    ) -> list[TopicPartition]:
        if self._assigned_for != (self.generation, topics_version):
            self._assignment = self._assign(topics)
            self._assigned_for = (self.generation, topics_version)
        return self._assignment.get(member_id, [])

    def _assign(self, topics: Mapping[str, int]) -> dict[int, list[TopicPartition]]:
        """Each partition goes to the least-loaded member subscribed to its topic."""
        assignment: dict[int, list[TopicPartition]] = {m: [] for m in self.members}
        ordered = sorted(self.members)
        for topic in sorted(topics):
            candidates = [m for m in ordered if self.members[m].matches(topic)]
            if not candidates:
                continue
            for partition in range(topics[topic]):
                owner = min(candidates, key=lambda m: len(assignment[m]))
                assignment[owner].append((topic, partition))
        return assignment
