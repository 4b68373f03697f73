"""A replicated cluster survives the crash of a broker: nothing acknowledged is lost, the
producers see no error, the turnstile summary stays exact, and the status shows the ISR shrink
and recover.

A private three-node stack (free ports, its own state dir; the shared stack is left alone) runs
the in-process KSQL engine over RF-3 topics (min.insync.replicas 2) while the simulation's
turnstile events are produced. Mid-run, the broker leading most turnstile partitions is SIGKILLed
(no clean shutdown); production goes on against the two survivors; later the node is started
again on its data and catches up. The single-broker version and the helpers reused here are in
test_no_loss_on_broker_restart.py.

Needs CTA_STACK_TESTS=1: it starts four JVMs.
"""

from __future__ import annotations

import logging
import time
from collections import Counter

import pytest
from confluent_kafka import KafkaException

from cta import topics
from cta.kafka.admin import KafkaTopicAdmin
from cta.kafka.event_log import KafkaEventLog
from cta.kafka.registry import HttpSchemaRegistry
from cta.runtime import wait_for
from cta.stack.cluster import broker_service_name, kill_node
from cta.stack.cluster_status import cluster_view
from cta.stack.config import StackConfig
from cta.stack.lifecycle import up
from cta.stack.status import status
from tests.kafka.test_no_loss_on_broker_restart import (
    RESTART_FLUSH_TIMEOUT,
    SESSION_TIMEOUT_MS,
    TurnstileFeed,
    _latest_summary,
    needs_stack,
    start_summary_query,
)

log = logging.getLogger(__name__)

BATCHES_BEFORE, BATCHES_DOWN, BATCHES_AFTER = 2, 2, 2
OUR_TOPICS = {spec.name for spec in topics.PIPELINE_TOPICS}


def _min_insync(admin: KafkaTopicAdmin, topic: str) -> str:
    """The topic's min.insync.replicas, once the broker asked knows the topic (CreateTopics
    returns when one broker's metadata has it; another may not have it yet)."""
    found: list[str] = []

    def described() -> bool:
        try:
            found.append(admin.topic_config(topic)["min.insync.replicas"])
        except KafkaException:
            return False
        return True

    wait_for(described, timeout=30, interval=0.2, what=f"{topic}'s configuration")
    return found[-1]


def _turnstile_leaders(config: StackConfig) -> Counter[int]:
    view = cluster_view(config)
    return Counter(p.leader for p in view.partitions if p.topic == topics.TURNSTILES)


def _under_replicated(config: StackConfig) -> set[tuple[str, int]]:
    view = cluster_view(config)
    return {(p.topic, p.partition) for p in view.under_replicated() if p.topic in OUR_TOPICS}


@pytest.mark.kafka
@needs_stack
def test_a_killed_leader_loses_nothing_and_the_isr_shrinks_and_recovers(
    private_cluster: StackConfig,
) -> None:
    config = private_cluster
    endpoints = config.endpoints()
    log_ = KafkaEventLog(
        endpoints.bootstrap_servers,
        consumer_config={"session.timeout.ms": SESSION_TIMEOUT_MS, "heartbeat.interval.ms": 1_000},
    )
    admin = KafkaTopicAdmin(endpoints.bootstrap_servers, timeout=30.0)
    registry = HttpSchemaRegistry(endpoints.schema_registry_url)
    admin.create_topics(topics.PIPELINE_TOPICS)
    # The admin chose the replication from the cluster: three replicas, two in sync required.
    assert _min_insync(admin, topics.TURNSTILES) == "2"
    assert all(len(p.replicas) == 3 for p in cluster_view(config).partitions)
    query, runner = start_summary_query(log_, admin, registry)
    producer = log_.producer("cluster-failure-test")
    feed = TurnstileFeed(producer, registry)
    seen: dict[str, object] = {}
    try:
        for _ in range(BATCHES_BEFORE):
            feed.batch()
        producer.flush(30)
        wait_for(lambda: query.stats.consumed > 0, timeout=60, what="the query consuming")

        victim_id, _ = _turnstile_leaders(config).most_common(1)[0]
        victim = broker_service_name(config, victim_id)
        assert kill_node(config, victim)
        seen["killed"] = victim
        for _ in range(BATCHES_DOWN):
            feed.batch()  # must queue, never raise: leadership moves to a survivor
        # The controller fences the dead node after its session times out; the ISRs shrink.
        wait_for(
            lambda: any(
                victim_id not in p.isr
                for p in cluster_view(config).partitions
                if p.topic == topics.TURNSTILES
            ),
            timeout=120,
            interval=0.5,
            what=f"broker {victim_id} to leave the turnstile ISRs",
        )
        report = status(config)
        assert report.cluster is not None
        shrunk = report.cluster.under_replicated(topics.TURNSTILES)
        assert shrunk and all(victim_id not in p.isr for p in shrunk)
        assert "NOT REGISTERED" in report.render()
        # acks=all with two of three in sync: acknowledged while the node is dead.
        producer.flush(RESTART_FLUSH_TIMEOUT)
        assert victim_id not in _turnstile_leaders(config)

        up(config, only=[victim])
        wait_for(
            lambda: not _under_replicated(config),
            timeout=180,
            interval=0.5,
            what="every partition back to three in-sync replicas",
        )
        seen["recovered_isr"] = cluster_view(config).isr(topics.TURNSTILES)

        for _ in range(BATCHES_AFTER):
            feed.batch()
        producer.flush(RESTART_FLUSH_TIMEOUT)

        # Neither lost nor duplicated on the topic itself.
        assert sum(admin.end_offsets(topics.TURNSTILES).values()) == feed.total

        def caught_up() -> bool:
            ends = admin.end_offsets(topics.TURNSTILES)
            lag = admin.group_lag(query.group_id)
            return all(lag.get((topics.TURNSTILES, p)) == 0 for p, end in ends.items() if end)

        wait_for(caught_up, timeout=180, interval=0.2, what="the query's group to catch up")
    finally:
        runner.stop()
        producer.close()

    summary = _latest_summary(log_, admin)
    counts = {station: row["COUNT"] for station, row in summary.items()}
    assert feed.total > 0
    assert counts == dict(feed.per_station)
    assert sum(admin.end_offsets(topics.DEAD_LETTERS).values()) == 0
    assert runner.failures == 0, f"the query failed during the crash: {runner.last_error!r}"
    assert all(len(isr) == 3 for isr in seen["recovered_isr"].values())  # type: ignore[attr-defined]
    admin.close()
    log.info("cluster failure run: %d events; %s; at %s", feed.total, seen, time.ctime())
