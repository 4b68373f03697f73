"""A Kafka cluster on one machine: N KRaft nodes, each a broker and a controller-quorum voter.

With ``StackConfig.brokers == 1`` the stack keeps its single combined node (``cta.stack.kafka``).
With more, node 1 keeps the service name ``kafka`` (and its ports) and depends on its peers
``kafka-2``..``kafka-N``, so everything that needs ``kafka`` gets the whole cluster. The peers
start first; their health is only "the controller listener accepts connections", since a broker
serves nothing until a majority of the quorum is up (and gives up after a minute without one).
Node 1 is healthy once it serves metadata, and ``up`` then waits until every node has registered
(``after_start``), so topics created next get all their replicas.

The nodes form a static quorum (``controller.quorum.voters``) and share one cluster id, kept in
``.stack/data/kafka-cluster.id`` so a restarted node rejoins the same cluster.
"""

from __future__ import annotations

import json
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from string import Template

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from cta.runtime import wait_for
from cta.stack import artifacts
from cta.stack import kafka as single_node
from cta.stack.config import StackConfig, port_in_use
from cta.stack.processes import StackError, stop
from cta.stack.service import Service
from cta.topics import replication_for

PRIMARY = single_node.NAME


@dataclass(frozen=True, slots=True)
class Node:
    node_id: int
    broker_port: int
    controller_port: int

    @property
    def name(self) -> str:
        return PRIMARY if self.node_id == 1 else f"{PRIMARY}-{self.node_id}"


def nodes(config: StackConfig) -> list[Node]:
    return [
        Node(index, broker, controller)
        for index, (broker, controller) in enumerate(config.node_ports(), start=1)
    ]


def node_names(config: StackConfig) -> list[str]:
    return [node.name for node in nodes(config)]


def _node_dir(config: StackConfig, node: Node) -> Path:
    # Not ``data/kafka``: a single node's storage is formatted for a standalone quorum.
    return config.data_dir / "kafka-cluster" / f"node-{node.node_id}"


def cluster_id(config: StackConfig) -> str:
    """The cluster's id, drawn once per state dir; every node is formatted with it."""
    path = config.data_dir / "kafka-cluster.id"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(single_node.new_cluster_id(), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def render_properties(config: StackConfig, node: Node) -> str:
    template_path = config.templates_dir / "kafka" / "cluster.properties.template"
    replicas, min_insync = replication_for(config.brokers)
    voters = ",".join(f"{n.node_id}@{config.host}:{n.controller_port}" for n in nodes(config))
    return Template(template_path.read_text(encoding="utf-8")).substitute(
        node_id=node.node_id,
        brokers=config.brokers,
        voters=voters,
        host=config.host,
        broker_port=node.broker_port,
        controller_port=node.controller_port,
        log_dir=_node_dir(config, node) / "log",
        replication_factor=replicas,
        min_insync_replicas=min_insync,
    )


def _properties_path(config: StackConfig, node: Node) -> Path:
    return _node_dir(config, node) / "server.properties"


def prepare(config: StackConfig, node: Node) -> None:
    """Resolve the classpath, write the node's properties, format its log dir once."""
    artifacts.classpath(config, PRIMARY)
    props = _properties_path(config, node)
    props.parent.mkdir(parents=True, exist_ok=True)
    props.write_text(render_properties(config, node), encoding="utf-8")
    log_dir = _node_dir(config, node) / "log"
    if (log_dir / "meta.properties").exists():
        return
    # A static quorum: no --standalone / --initial-controllers.
    command = single_node.java_command(
        config,
        PRIMARY,
        "256m",
        "kafka.tools.StorageTool",
        "format",
        f"--cluster-id={cluster_id(config)}",
        "-c",
        str(props),
    )
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise StackError(f"formatting {log_dir} failed:\n{(result.stdout + result.stderr)[-3000:]}")


def registered_brokers(bootstrap_servers: str, timeout: float = 3.0) -> set[int]:
    """Ids of the brokers the cluster's metadata lists (fenced ones drop out)."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers, "log_level": 0})
    try:
        return set(admin.list_topics(timeout=timeout).brokers)
    except KafkaException:  # no broker answered in time: none registered, as far as we know
        return set()


def wait_for_all_brokers(config: StackConfig) -> None:
    wanted = {node.node_id for node in nodes(config)}
    bootstrap = config.endpoints().bootstrap_servers
    wait_for(
        lambda: registered_brokers(bootstrap) >= wanted,
        timeout=config.health_timeout,
        interval=0.5,
        what=f"brokers {sorted(wanted)} registered",
    )


def active_controller(config: StackConfig) -> int | None:
    """The quorum's leader as the nodes last recorded it (``quorum-state`` in each metadata
    log; the highest epoch wins). Read from disk: librdkafka has no DescribeQuorum."""
    best: tuple[int, int] | None = None
    for node in nodes(config) if config.brokers > 1 else []:
        path = _node_dir(config, node) / "log" / "__cluster_metadata-0" / "quorum-state"
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        leader, epoch = int(state.get("leaderId", -1)), int(state.get("leaderEpoch", -1))
        if leader >= 0 and (best is None or epoch > best[1]):
            best = (leader, epoch)
    return None if best is None else best[0]


def _node_service(config: StackConfig, node: Node) -> Service:
    props = _properties_path(config, node)
    command = single_node.java_command(
        config, PRIMARY, config.cluster_heap, "kafka.Kafka", str(props)
    )
    log_file = config.logs_dir / f"{node.name}.log"
    if node.node_id != 1:
        return Service(
            name=node.name,
            command=command,
            # Either listener: the broker's opens only once the quorum has a majority.
            health=lambda: (
                port_in_use(config.host, node.controller_port)
                or port_in_use(config.host, node.broker_port)
            ),
            log_file=log_file,
            prepare=lambda: prepare(config, node),
            port=node.broker_port,
        )
    own = f"{config.host}:{node.broker_port}"
    return Service(
        name=node.name,
        command=command,
        health=lambda: single_node.healthy(own),
        log_file=log_file,
        depends_on=tuple(n.name for n in nodes(config) if n.node_id != 1),
        prepare=lambda: prepare(config, node),
        after_start=lambda: wait_for_all_brokers(config),
        port=node.broker_port,
    )


def kafka_services(config: StackConfig) -> list[Service]:
    """The Kafka node services: the single node, or node 1 after its peers."""
    if config.brokers < 1:
        raise StackError(f"brokers must be at least 1, not {config.brokers}")
    if config.brokers == 1:
        return [single_node.service(config)]
    every = nodes(config)
    return [_node_service(config, n) for n in every[1:]] + [_node_service(config, every[0])]


def stop_nodes(config: StackConfig) -> list[str]:
    """SIGTERM every node at once and wait for all: stopped one by one, the last ones would
    wait for a quorum that is gone. Returns the names of the nodes that were running."""
    names = node_names(config)
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        results = list(
            pool.map(
                lambda name: stop(name, config.run_dir, signal.SIGTERM, config.stop_timeout),
                names,
            )
        )
    return [name for name, was_running in zip(names, results, strict=True) if was_running]


def kill_node(config: StackConfig, name: str) -> bool:
    """SIGKILL one node (no clean shutdown: a crash); its data stays, so
    ``up(config, only=[name])`` starts it again. Returns whether it was running."""
    if name not in node_names(config):
        raise StackError(f"unknown Kafka node {name!r}; known: {node_names(config)}")
    return stop(name, config.run_dir, signal.SIGKILL, config.stop_timeout)


def broker_service_name(config: StackConfig, broker_id: int) -> str:
    (node,) = [n for n in nodes(config) if n.node_id == broker_id]
    return node.name
