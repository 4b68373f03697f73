"""The TopicAdmin port over confluent-kafka's AdminClient."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaError, KafkaException
from confluent_kafka import TopicPartition as KafkaTopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource
from confluent_kafka.admin._resource import ResourceType
from confluent_kafka.cimpl import NewTopic

from cta.retry import Backoff, retry
from cta.runtime import wait_for
from cta.topics import TopicSpec, replication_for

# librdkafka reports "no committed offset" with this sentinel.
_OFFSET_INVALID = -1001


class TopicAdminError(RuntimeError):
    """The cluster refused an admin request."""


class LeaderNotAvailable(TopicAdminError):
    """A partition's leader is not known yet (the topic was just created, a broker restarts)."""


log = logging.getLogger(__name__)
# Watermarks of a partition whose leader is not known yet: retried for about 15 s in all (a
# broker restarted in its container was seen to take over 4 s to lead its partitions again).
WATERMARK_BACKOFF = Backoff(attempts=20, initial=0.05, maximum=1.0)
# _UNKNOWN_PARTITION: the client's metadata lost the partition with its leader (a broker killed).
_LEADER_MOVING = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError._UNKNOWN_PARTITION,
    }
)


class UnknownTopicError(KeyError):
    """The topic does not exist."""


def new_topic(spec: TopicSpec, brokers: int = 1) -> NewTopic:
    """The topic as created on a cluster of ``brokers``: the spec's replication factor is a
    floor, raised to what the cluster affords (``replication_for``)."""
    replicas, min_insync = replication_for(brokers)
    config = {"cleanup.policy": "compact"} if spec.compacted else {}
    if replicas > 1:
        config["min.insync.replicas"] = str(min_insync)
    return NewTopic(
        spec.name,
        num_partitions=spec.partitions,
        replication_factor=max(spec.replication_factor, replicas),
        config=config,
    )


class KafkaTopicAdmin:
    """Topic creation and offset inspection; ``timeout`` bounds every request (seconds)."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        config: Mapping[str, Any] | None = None,
        timeout: float = 15.0,
    ) -> None:
        self._config = {"bootstrap.servers": bootstrap_servers, **(config or {})}
        self._client: AdminClient | None = None
        self._timeout = timeout
        self._watermarks: Consumer | None = None

    @property
    def _admin(self) -> AdminClient:
        # Created on first use: building a backend opens no connections.
        if self._client is None:
            self._client = AdminClient(dict(self._config))
        return self._client

    def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        wanted = list(specs)
        if not wanted:
            return
        # Decided here, from the cluster itself, so no caller has to know how many brokers run.
        brokers = len(self._admin.list_topics(timeout=self._timeout).brokers)
        futures = self._admin.create_topics(
            [new_topic(s, brokers) for s in wanted], operation_timeout=self._timeout
        )
        failures = []
        for name, future in futures.items():
            try:
                future.result(timeout=self._timeout)
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                if error.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    failures.append(f"{name}: {error.str()}")
        if failures:
            raise TopicAdminError("cannot create topics: " + "; ".join(failures))
        # CreateTopics returns once the controller has the topic; wait until brokers serve it.
        names = {s.name for s in wanted}
        wait_for(
            lambda: names <= self.list_topics().keys(),
            timeout=self._timeout,
            interval=0.1,
            what=f"topics {sorted(names)} in metadata",
        )

    def list_topics(self) -> dict[str, int]:
        metadata = self._admin.list_topics(timeout=self._timeout)
        return {
            name: len(topic.partitions)
            for name, topic in metadata.topics.items()
            if topic.error is None
        }

    def topic_config(self, topic: str) -> dict[str, str]:
        """The topic's effective configuration (e.g. ``cleanup.policy``)."""
        resource = ConfigResource(ResourceType.TOPIC, topic)
        entries = self._admin.describe_configs([resource])[resource].result(timeout=self._timeout)
        return {name: str(entry.value) for name, entry in entries.items()}

    def broker_config(self) -> dict[str, str]:
        """One broker's effective configuration (e.g. ``auto.create.topics.enable``)."""
        brokers = self._admin.list_topics(timeout=self._timeout).brokers
        resource = ConfigResource(ResourceType.BROKER, str(min(brokers)))
        entries = self._admin.describe_configs([resource])[resource].result(timeout=self._timeout)
        return {name: str(entry.value) for name, entry in entries.items()}

    def _watermark_consumer(self) -> Consumer:
        if self._watermarks is None:
            # Watermark queries need a consumer handle; it never joins this group. At
            # read_uncommitted (librdkafka's default is read_committed) the broker answers the
            # high watermark, not the last stable offset: a reader "up to the end offsets"
            # (the KSQL restore) then also waits for a transaction whose commit is still being
            # written, instead of stopping short of its rows while its offsets commit.
            self._watermarks = Consumer(
                {
                    **self._config,
                    "group.id": "cta-admin-watermarks",
                    "isolation.level": "read_uncommitted",
                }
            )
        return self._watermarks

    def _partition_count(self, topic: str) -> int:
        count = self.list_topics().get(topic)
        if count is None:
            raise UnknownTopicError(topic)
        return count

    def _watermark(self, topic: str, partition: int) -> tuple[int, int]:
        # Right after a topic is created (or a broker restarts) its leader may not be known yet:
        # NOT_LEADER / LEADER_NOT_AVAILABLE (and the like) are retried briefly, not raised.
        def read() -> tuple[int, int]:
            try:
                low, high = self._watermark_consumer().get_watermark_offsets(
                    KafkaTopicPartition(topic, partition), timeout=self._timeout
                )
            except KafkaException as exc:
                if exc.args and exc.args[0].code() in _LEADER_MOVING:
                    raise LeaderNotAvailable(f"{topic}[{partition}]: {exc}") from exc
                raise
            return int(low), int(high)

        return retry(
            read,
            backoff=WATERMARK_BACKOFF,
            describe=f"watermarks of {topic}[{partition}]",
            log=log,
            retry_on=LeaderNotAvailable,
        )

    def end_offsets(self, topic: str) -> dict[int, int]:
        return {p: self._watermark(topic, p)[1] for p in range(self._partition_count(topic))}

    def group_lag(self, group_id: str) -> dict[tuple[str, int], int]:
        request = [ConsumerGroupTopicPartitions(group_id)]
        future = self._admin.list_consumer_group_offsets(request)[group_id]
        try:
            answer = future.result(timeout=self._timeout)
        except KafkaException as exc:
            raise TopicAdminError(f"cannot read offsets of group {group_id!r}: {exc}") from exc
        lag: dict[tuple[str, int], int] = {}
        for committed in answer.topic_partitions or []:
            low, high = self._watermark(committed.topic, committed.partition)
            position = committed.offset if committed.offset != _OFFSET_INVALID else low
            lag[(committed.topic, committed.partition)] = max(high - position, 0)
        return lag

    def group_members(self, group_id: str) -> tuple[str, int]:
        """The group's state name (``STABLE``, ``EMPTY``, ``DEAD``...) and member count."""
        future = self._admin.describe_consumer_groups([group_id])[group_id]
        try:
            description = future.result(timeout=self._timeout)
        except KafkaException as exc:
            raise TopicAdminError(f"cannot describe group {group_id!r}: {exc}") from exc
        return description.state.name, len(description.members or [])

    def close(self) -> None:
        if self._watermarks is not None:
            self._watermarks.close()
            self._watermarks = None
