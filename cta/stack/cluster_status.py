"""The cluster part of ``cta stack status``: each broker, the active controller, and per topic
its partitions' leaders, replicas and in-sync replicas (ISR), with the under-replicated ones
(ISR smaller than the replica set: a broker down or lagging)."""

from __future__ import annotations

from dataclasses import dataclass, field

from confluent_kafka.admin import AdminClient

from cta.stack.cluster import active_controller, nodes
from cta.stack.config import StackConfig

_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class PartitionReplicas:
    topic: str
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)


@dataclass(frozen=True, slots=True)
class BrokerState:
    node_id: int
    address: str
    # Listed in the cluster metadata: running and not fenced by the controller.
    registered: bool


@dataclass(slots=True)
class ClusterView:
    brokers: list[BrokerState] = field(default_factory=list)
    controller: int | None = None
    partitions: list[PartitionReplicas] = field(default_factory=list)

    def under_replicated(self, topic: str | None = None) -> list[PartitionReplicas]:
        return [p for p in self.partitions if p.under_replicated and topic in (None, p.topic)]

    def isr(self, topic: str) -> dict[int, tuple[int, ...]]:
        return {p.partition: p.isr for p in self.partitions if p.topic == topic}

    def render_lines(self) -> list[str]:
        controller = "unknown" if self.controller is None else f"node {self.controller}"
        lines = [f"kafka cluster (controller: {controller}):"]
        for b in self.brokers:
            state = "registered" if b.registered else "NOT REGISTERED"
            lines.append(f"  broker {b.node_id} {b.address} {state}")
        lines.append(f"  under-replicated partitions: {len(self.under_replicated())}")
        topics = sorted({p.topic for p in self.partitions})
        for topic in topics:
            parts = [p for p in self.partitions if p.topic == topic]
            shown = " ".join(
                f"p{p.partition}:L{p.leader}/isr{','.join(map(str, p.isr))}"
                + ("!" if p.under_replicated else "")
                for p in parts
            )
            lines.append(f"  {topic} rf {len(parts[0].replicas)}: {shown}")
        return lines


def cluster_view(config: StackConfig, bootstrap_servers: str | None = None) -> ClusterView:
    """What the brokers' metadata says now (internal ``__`` topics left out)."""
    bootstrap = bootstrap_servers or config.endpoints().bootstrap_servers
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    metadata = admin.list_topics(timeout=_TIMEOUT)
    registered = set(metadata.brokers)
    expected = {n.node_id: f"{config.host}:{n.broker_port}" for n in nodes(config)}
    for broker_id, broker in metadata.brokers.items():
        expected[broker_id] = f"{broker.host}:{broker.port}"  # what the cluster says wins
    view = ClusterView(
        brokers=[
            BrokerState(node_id, address, node_id in registered)
            for node_id, address in sorted(expected.items())
        ],
        controller=active_controller(config),
    )
    for name, topic in sorted(metadata.topics.items()):
        if name.startswith("__") or topic.error is not None:
            continue
        for number, partition in sorted(topic.partitions.items()):
            view.partitions.append(
                PartitionReplicas(
                    name,
                    number,
                    partition.leader,
                    tuple(partition.replicas),
                    tuple(sorted(partition.isrs)),
                )
            )
    return view
