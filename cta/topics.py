"""Topic names and layouts: the one place the pipeline's wire names live.

Names follow the later starter's convention (``org.chicago.cta.*``), which every consumer in the
original dashboard hard-codes; the README's topic table mirrors this module.
"""

from __future__ import annotations

from dataclasses import dataclass

ARRIVALS = "org.chicago.cta.station.arrivals.v1"
# The dashboard subscribes by pattern so per-station arrival topics would match too. librdkafka
# only treats a subscription as a regex when it starts with "^".
ARRIVALS_PATTERN = "^org\\.chicago\\.cta\\.station\\.arrivals\\..*"
TURNSTILES = "org.chicago.cta.turnstiles.v1"
WEATHER = "org.chicago.cta.weather.v1"
STATIONS_RAW = "org.chicago.cta.stations"
STATIONS_TABLE = "org.chicago.cta.stations.table.v1"
TURNSTILE_SUMMARY = "TURNSTILE_SUMMARY"
# Entries per station per event-time hour (sql/ksql/03_turnstile_hourly.sql); windowed keys.
TURNSTILE_HOURLY = "TURNSTILE_HOURLY"
DEAD_LETTERS = "org.chicago.cta.deadletter.v1"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int = 1
    replication_factor: int = 1
    compacted: bool = False


# Arrivals and turnstiles are keyed by station id, so several partitions keep per-station order.
PIPELINE_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(ARRIVALS, partitions=4),
    TopicSpec(TURNSTILES, partitions=4),
    TopicSpec(WEATHER, partitions=1),
    TopicSpec(STATIONS_RAW, partitions=1),
    TopicSpec(STATIONS_TABLE, partitions=1, compacted=True),
    TopicSpec(TURNSTILE_SUMMARY, partitions=1, compacted=True),
    TopicSpec(TURNSTILE_HOURLY, partitions=1, compacted=True),
    TopicSpec(DEAD_LETTERS, partitions=1),
)


def subject_for(topic: str, *, is_key: bool) -> str:
    """Confluent's TopicNameStrategy: ``<topic>-key`` / ``<topic>-value``."""
    return f"{topic}-{'key' if is_key else 'value'}"


# Replicas of our topics on a cluster: three, two of which must acknowledge a write (acks=all),
# so one broker can fail without stopping producers or losing an acknowledged record.
CLUSTER_REPLICAS = 3
CLUSTER_MIN_INSYNC = 2


def replication_for(brokers: int) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) for a cluster of ``brokers``: 3/2 from three
    brokers up, else one replica per broker with one in sync required."""
    if brokers >= CLUSTER_REPLICAS:
        return CLUSTER_REPLICAS, CLUSTER_MIN_INSYNC
    return max(brokers, 1), 1
