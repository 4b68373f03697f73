"""What the running stack holds: service states, topics with message counts, consumer-group
lag, connector states and KSQL queries. Each part is gathered on its own; a part that cannot
be read is reported in ``errors`` rather than hiding the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

from cta.stack.cluster import node_names
from cta.stack.cluster_status import ClusterView, cluster_view
from cta.stack.config import StackConfig
from cta.stack.lifecycle import service_state, services
from cta.stack.processes import running_pid

_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    name: str
    state: str
    pid: int | None
    port: int | None
    log_file: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class GroupLag:
    group: str
    topic: str
    partition: int
    committed: int
    lag: int


@dataclass(slots=True)
class StackStatus:
    services: list[ServiceStatus]
    # Topic -> messages currently held (high minus low watermark, summed over partitions).
    topics: dict[str, int] = field(default_factory=dict)
    lag: list[GroupLag] = field(default_factory=list)
    # Connector -> "STATE (tasks: RUNNING, FAILED)".
    connectors: dict[str, str] = field(default_factory=dict)
    ksql_queries: list[dict[str, Any]] = field(default_factory=list)
    cluster: ClusterView | None = None
    errors: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = ["services:"]
        for s in self.services:
            pid = f" pid {s.pid}" if s.pid else ""
            port = f" port {s.port}" if s.port else ""
            note = f" ({s.note})" if s.note else ""
            lines.append(f"  {s.name:<11} {s.state:<11}{pid}{port}{note}")
        if self.cluster is not None:
            lines += self.cluster.render_lines()
        if self.topics:
            lines.append("topics (messages):")
            lines += [f"  {name}: {count}" for name, count in sorted(self.topics.items())]
        if self.lag:
            lines.append("consumer-group lag:")
            lines += [
                f"  {g.group} {g.topic}[{g.partition}]: committed {g.committed}, lag {g.lag}"
                for g in self.lag
            ]
        if self.connectors:
            lines.append("connectors:")
            lines += [f"  {name}: {state}" for name, state in sorted(self.connectors.items())]
        if self.ksql_queries:
            lines.append("ksql queries:")
            lines += [f"  {q.get('id', '?')}: {q.get('state', '?')}" for q in self.ksql_queries]
        if self.errors:
            lines.append("not gathered:")
            lines += [f"  {e}" for e in self.errors]
        return "\n".join(lines)


def status(config: StackConfig) -> StackStatus:
    result = StackStatus(services=[_service_status(s, config) for s in services(config)])
    states = {s.name: s.state for s in result.services}
    live = {"running", "external"}
    endpoints = config.endpoints()
    # Any live node will do: on a cluster, node 1 ("kafka") may be the one that is down.
    if any(states.get(name) in live for name in node_names(config)):
        _gather(result, "topics and lag", lambda: _kafka_view(endpoints.bootstrap_servers, result))
        _gather(result, "kafka cluster", lambda: _set_cluster(result, config))
    if states.get("connect") in live:
        _gather(result, "connectors", lambda: _connectors(endpoints.connect_url, result))
    if config.ksql_url:
        _gather(result, "ksql queries", lambda: _ksql_queries(config.ksql_url, result))
    return result


def _set_cluster(result: StackStatus, config: StackConfig) -> None:
    result.cluster = cluster_view(config)


def _service_status(service: Any, config: StackConfig) -> ServiceStatus:
    return ServiceStatus(
        name=service.name,
        state=service_state(service, config),
        pid=running_pid(config.run_dir, service.name),
        port=service.port,
        log_file=str(service.log_file),
        note=service.unavailable or "",
    )


def _gather(result: StackStatus, what: str, action: Any) -> None:
    try:
        action()
    except Exception as exc:  # one unreadable part must not hide the others
        result.errors.append(f"{what}: {type(exc).__name__}: {exc}")


def _kafka_view(bootstrap_servers: str, result: StackStatus) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap_servers, "log_level": 0})
    metadata = admin.list_topics(timeout=_TIMEOUT)
    partitions = [
        TopicPartition(name, p)
        for name, topic in metadata.topics.items()
        if not name.startswith("__")
        for p in topic.partitions
    ]
    earliest = OffsetSpec.earliest()  # type: ignore[no-untyped-call]
    latest = OffsetSpec.latest()  # type: ignore[no-untyped-call]
    low = _offsets(admin, partitions, earliest)
    high = _offsets(admin, partitions, latest)
    for name in sorted({tp.topic for tp in partitions}):
        result.topics[name] = sum(
            high[key] - low[key] for key in high if key[0] == name and key in low
        )
    groups = admin.list_consumer_groups(request_timeout=_TIMEOUT).result(_TIMEOUT)
    for group in sorted(g.group_id for g in groups.valid):
        request = [ConsumerGroupTopicPartitions(group)]
        for future in admin.list_consumer_group_offsets(request).values():
            committed = future.result(_TIMEOUT)
            for tp in committed.topic_partitions:
                end = high.get((tp.topic, tp.partition))
                if end is None or tp.offset < 0:
                    continue
                result.lag.append(
                    GroupLag(group, tp.topic, tp.partition, tp.offset, end - tp.offset)
                )


def _offsets(
    admin: AdminClient, partitions: list[TopicPartition], spec: OffsetSpec
) -> dict[tuple[str, int], int]:
    if not partitions:
        return {}
    futures = admin.list_offsets({tp: spec for tp in partitions}, request_timeout=_TIMEOUT)
    return {
        (tp.topic, tp.partition): future.result(_TIMEOUT).offset for tp, future in futures.items()
    }


def _connectors(connect_url: str, result: StackStatus) -> None:
    response = requests.get(f"{connect_url}/connectors", params={"expand": "status"}, timeout=10)
    response.raise_for_status()
    for name, info in response.json().items():
        state = info["status"]["connector"]["state"]
        tasks = ", ".join(t["state"] for t in info["status"].get("tasks", []))
        result.connectors[name] = f"{state} (tasks: {tasks or 'none'})"


def _ksql_queries(ksql_url: str, result: StackStatus) -> None:
    response = requests.post(
        f"{ksql_url}/ksql",
        json={"ksql": "SHOW QUERIES;", "streamsProperties": {}},
        headers={"Accept": "application/vnd.ksql.v1+json"},
        timeout=10,
    )
    response.raise_for_status()
    for entity in response.json():
        for query in entity.get("queries", []):
            result.ksql_queries.append(
                {
                    "id": query.get("id"),
                    "state": query.get("state"),
                    "sql": query.get("queryString"),
                }
            )
