"""The three-node Kafka cluster of ``cta stack up --brokers 3``, without starting it: ports,
node properties, start order, replication of our topics, and the cluster part of the status."""

from __future__ import annotations

from pathlib import Path

import pytest

from cta.kafka.admin import new_topic
from cta.stack import StackConfig, services
from cta.stack.cluster import cluster_id, kafka_services, nodes, render_properties
from cta.stack.cluster_status import BrokerState, ClusterView, PartitionReplicas
from cta.stack.command import with_brokers
from cta.stack.lifecycle import _selected
from cta.stack.processes import StackError
from cta.topics import TopicSpec, replication_for


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_each_node_gets_its_own_broker_and_controller_ports() -> None:
    config = StackConfig(brokers=3)
    assert config.node_ports() == [(9092, 9093), (9094, 9095), (9096, 9097)]
    assert config.endpoints().bootstrap_servers == "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096"


def test_free_ports_cover_every_node_and_differ() -> None:
    config = StackConfig(brokers=3).with_free_ports()
    flat = [port for pair in config.node_ports() for port in pair]
    others = [config.registry_port, config.connect_port, config.postgres_port]
    assert len(set(flat + others)) == len(flat + others) == 9
    assert len(config.cluster_ports) == 4


def test_a_single_node_is_unchanged() -> None:
    config = StackConfig()
    assert config.endpoints().bootstrap_servers == "127.0.0.1:9092"
    assert [s.name for s in kafka_services(config)] == ["kafka"]


def test_nodes_form_a_three_voter_quorum_with_replicated_internal_topics(tmp_path: Path) -> None:
    config = StackConfig(brokers=3, state_dir=tmp_path)
    second = nodes(config)[1]
    props = _properties(render_properties(config, second))
    assert props["node.id"] == "2"
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == (
        "1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097"
    )
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9094,CONTROLLER://127.0.0.1:9095"
    assert props["log.dirs"].startswith(str(tmp_path / "data"))
    assert props["log.dirs"] != _properties(render_properties(config, nodes(config)[0]))["log.dirs"]
    for key in ("offsets.topic.replication.factor", "default.replication.factor"):
        assert props[key] == "3"
    assert props["min.insync.replicas"] == props["transaction.state.log.min.isr"] == "2"


def test_every_node_is_formatted_with_one_cluster_id(tmp_path: Path) -> None:
    config = StackConfig(brokers=3, state_dir=tmp_path)
    assert cluster_id(config) == cluster_id(config)
    assert len(cluster_id(config)) == 22


def test_peers_start_before_node_one_and_users_of_kafka_get_the_whole_cluster(
    tmp_path: Path,
) -> None:
    config = StackConfig(brokers=3, state_dir=tmp_path)
    ordered = services(config)
    names = [s.name for s in ordered]
    assert names.index("kafka-2") < names.index("kafka") < names.index("connect")
    assert names.index("kafka-3") < names.index("kafka")
    selected = [s.name for s in _selected(ordered, ["registry", "kafka"])]
    assert {"kafka", "kafka-2", "kafka-3", "registry"} == set(selected)
    assert {s.log_file.name for s in ordered} >= {"kafka.log", "kafka-2.log", "kafka-3.log"}


def test_zero_brokers_is_refused() -> None:
    with pytest.raises(StackError, match="at least 1"):
        kafka_services(StackConfig(brokers=0))


def test_status_and_down_know_the_cluster_from_the_last_up(tmp_path: Path) -> None:
    config = StackConfig(brokers=3, state_dir=tmp_path).with_free_ports()
    config.endpoints().write(config.endpoints_file)
    single = StackConfig(state_dir=tmp_path)
    assert with_brokers(single, None).brokers == 3
    assert with_brokers(single, None).node_ports()[1][0] == config.node_ports()[1][0]
    assert with_brokers(single, 1).brokers == 1
    assert with_brokers(StackConfig(state_dir=tmp_path / "none"), None).brokers == 1


@pytest.mark.parametrize(
    ("brokers", "expected"), [(1, (1, 1)), (2, (2, 1)), (3, (3, 2)), (5, (3, 2))]
)
def test_replication_follows_the_clusters_size(brokers: int, expected: tuple[int, int]) -> None:
    assert replication_for(brokers) == expected


def test_topics_on_three_brokers_have_three_replicas_two_in_sync() -> None:
    topic = new_topic(TopicSpec("t", partitions=4, compacted=True), brokers=3)
    assert (topic.num_partitions, topic.replication_factor) == (4, 3)
    assert topic.config == {"cleanup.policy": "compact", "min.insync.replicas": "2"}
    single = new_topic(TopicSpec("t"), brokers=1)
    assert (single.replication_factor, single.config) == (1, {})


def test_the_cluster_view_shows_brokers_controller_and_shrunk_isrs() -> None:
    view = ClusterView(
        brokers=[BrokerState(1, "h:1", True), BrokerState(2, "h:2", False)],
        controller=1,
        partitions=[
            PartitionReplicas("turnstiles", 0, 1, (1, 2, 3), (1, 3)),
            PartitionReplicas("turnstiles", 1, 3, (3, 1, 2), (1, 2, 3)),
        ],
    )
    assert [p.partition for p in view.under_replicated()] == [0]
    assert view.under_replicated("other") == []
    assert view.isr("turnstiles") == {0: (1, 3), 1: (1, 2, 3)}
    text = "\n".join(view.render_lines())
    assert "controller: node 1" in text
    assert "broker 2 h:2 NOT REGISTERED" in text
    assert "under-replicated partitions: 1" in text
    assert "turnstiles rf 3: p0:L1/isr1,3! p1:L3/isr1,2,3" in text


def test_a_cluster_is_found_from_its_bootstrap_list() -> None:
    from cta.config import Settings

    settings = Settings.from_env({"CTA_BOOTSTRAP_SERVERS": "127.0.0.1:19092,127.0.0.1:29094"})
    config = StackConfig.from_settings(settings)
    assert config.brokers == 2
    assert config.node_ports() == [(19092, 9093), (29094, 29095)]
