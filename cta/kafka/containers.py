"""The real stack in Docker containers (testcontainers), for machines with a Docker engine.

The same Confluent Platform images as ``docker-compose.yaml``: KRaft ``cp-kafka``, Schema
Registry, REST Proxy, Connect with Debezium (built from ``docker/connect``), ksqlDB and Postgres,
on one private network where services reach each other by alias. ``ContainerStack.start()``
returns the endpoints in the same ``CTA_*`` form as the native stack's ``endpoints.env``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

CP_VERSION = "8.0.0"
IMAGES = {
    "kafka": f"confluentinc/cp-kafka:{CP_VERSION}",
    "schema-registry": f"confluentinc/cp-schema-registry:{CP_VERSION}",
    "kafka-rest": f"confluentinc/cp-kafka-rest:{CP_VERSION}",
    "connect-base": f"confluentinc/cp-kafka-connect:{CP_VERSION}",
    "ksqldb-server": f"confluentinc/cp-ksqldb-server:{CP_VERSION}",
    "postgres": "postgres:16",
}
CONNECT_IMAGE_TAG = "cta-connect:local"
REPO_ROOT = Path(__file__).resolve().parents[2]

# Inside the network: the broker's listener for other containers, and each service's port.
KAFKA_INTERNAL = "kafka:9092"
PORTS = {"schema-registry": 8081, "kafka-rest": 8082, "connect": 8083, "ksqldb-server": 8088}
POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, POSTGRES_PORT = "cta_admin", "chicago", "cta", 5432
# Only the final server listens on TCP (the init-time one uses the socket alone).
POSTGRES_READY = ["pg_isready", "-h", "127.0.0.1", "-U", POSTGRES_USER, "-d", POSTGRES_DB]


def docker_available() -> bool:
    """True when a Docker engine answers; any failure (no socket, no package) means no."""
    try:
        # By name: type checkers would resolve ``docker`` to the repo's docker/ folder.
        docker = importlib.import_module("docker")
        return bool(docker.from_env().ping())
    except Exception:
        return False


def service_environment(kafka: str = KAFKA_INTERNAL) -> dict[str, dict[str, str]]:
    """Each server's environment, addressing the others by network alias."""
    registry = f"http://schema-registry:{PORTS['schema-registry']}"
    return {
        "schema-registry": {
            "SCHEMA_REGISTRY_HOST_NAME": "schema-registry",
            "SCHEMA_REGISTRY_LISTENERS": f"http://0.0.0.0:{PORTS['schema-registry']}",
            "SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS": f"PLAINTEXT://{kafka}",
        },
        "kafka-rest": {
            "KAFKA_REST_HOST_NAME": "kafka-rest",
            "KAFKA_REST_LISTENERS": f"http://0.0.0.0:{PORTS['kafka-rest']}",
            "KAFKA_REST_BOOTSTRAP_SERVERS": f"PLAINTEXT://{kafka}",
            "KAFKA_REST_SCHEMA_REGISTRY_URL": registry,
        },
        "connect": {
            "CONNECT_BOOTSTRAP_SERVERS": kafka,
            "CONNECT_REST_ADVERTISED_HOST_NAME": "connect",
            "CONNECT_REST_PORT": str(PORTS["connect"]),
            "CONNECT_GROUP_ID": "cta-connect",
            "CONNECT_CONFIG_STORAGE_TOPIC": "_connect-configs",
            "CONNECT_OFFSET_STORAGE_TOPIC": "_connect-offsets",
            "CONNECT_STATUS_STORAGE_TOPIC": "_connect-status",
            "CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR": "1",
            "CONNECT_OFFSET_STORAGE_REPLICATION_FACTOR": "1",
            "CONNECT_STATUS_STORAGE_REPLICATION_FACTOR": "1",
            "CONNECT_KEY_CONVERTER": "org.apache.kafka.connect.json.JsonConverter",
            "CONNECT_VALUE_CONVERTER": "org.apache.kafka.connect.json.JsonConverter",
            "CONNECT_PLUGIN_PATH": "/usr/share/java,/usr/share/confluent-hub-components",
        },
        "ksqldb-server": {
            "KSQL_BOOTSTRAP_SERVERS": kafka,
            "KSQL_LISTENERS": f"http://0.0.0.0:{PORTS['ksqldb-server']}",
            "KSQL_KSQL_SCHEMA_REGISTRY_URL": registry,
            "KSQL_KSQL_SERVICE_ID": "cta_ksql_",
            "KSQL_KSQL_INTERNAL_TOPIC_REPLICAS": "1",
            "KSQL_KSQL_STREAMS_REPLICATION_FACTOR": "1",
            "KSQL_KSQL_LOGGING_PROCESSING_TOPIC_REPLICATION_FACTOR": "1",
        },
        "postgres": {
            "POSTGRES_USER": POSTGRES_USER,
            "POSTGRES_PASSWORD": POSTGRES_PASSWORD,
            "POSTGRES_DB": POSTGRES_DB,
        },
    }


def endpoints(
    host: str, kafka_bootstrap: str, ports: dict[str, int], postgres_port: int
) -> dict[str, str]:
    """The ``CTA_*`` settings for a client on the host, given the mapped ports."""
    user, password, db = POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB
    return {
        "CTA_BACKEND": "kafka",
        "CTA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CTA_SCHEMA_REGISTRY_URL": f"http://{host}:{ports['schema-registry']}",
        "CTA_REST_PROXY_URL": f"http://{host}:{ports['kafka-rest']}",
        "CTA_CONNECT_URL": f"http://{host}:{ports['connect']}",
        "CTA_KSQL_URL": f"http://{host}:{ports['ksqldb-server']}",
        "CTA_DATABASE_URL": f"postgresql://{user}:{password}@{host}:{postgres_port}/{db}",
        # Connect reaches Postgres inside the network.
        "CTA_CONNECT_DATABASE_HOST": "postgres",
        "CTA_CONNECT_DATABASE_PORT": str(POSTGRES_PORT),
    }


HEALTH_PATHS = {
    "schema-registry": "/subjects",
    "kafka-rest": "/topics",
    "connect": "/connectors",
    "ksqldb-server": "/info",
}


class ContainerStack:
    """Starts the containers in dependency order; ``stop()`` removes them and the network."""

    def __init__(self, startup_timeout: int = 180) -> None:
        self._timeout = startup_timeout
        self._started: list[Any] = []
        self._network: Any = None

    def start(self) -> dict[str, str]:
        from testcontainers.community.kafka import KafkaContainer
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.image import DockerImage
        from testcontainers.core.network import Network
        from testcontainers.core.wait_strategies import ExecWaitStrategy, HttpWaitStrategy

        self._network = Network().create()
        environment = service_environment()
        try:
            kafka = KafkaContainer(IMAGES["kafka"]).with_kraft()
            kafka.with_network(self._network).with_network_aliases("kafka")
            self._run(kafka, timeout=self._timeout)

            postgres = (
                DockerContainer(IMAGES["postgres"])
                .with_envs(**environment["postgres"])
                .with_command("postgres -c wal_level=logical")
                .with_volume_mapping(
                    str(REPO_ROOT / "sql" / "stations.sql"),
                    "/docker-entrypoint-initdb.d/01-stations.sql",
                )
                .with_exposed_ports(POSTGRES_PORT)
                .waiting_for(ExecWaitStrategy(POSTGRES_READY).with_startup_timeout(self._timeout))
            )
            self._run(postgres.with_network(self._network).with_network_aliases("postgres"))

            DockerImage(path=REPO_ROOT / "docker" / "connect", tag=CONNECT_IMAGE_TAG).build()
            images = {**IMAGES, "connect": CONNECT_IMAGE_TAG}
            servers = {}
            for name in ("schema-registry", "kafka-rest", "connect", "ksqldb-server"):
                server = (
                    DockerContainer(images[name])
                    .with_envs(**environment[name])
                    .with_exposed_ports(PORTS[name])
                    .with_network(self._network)
                    .with_network_aliases(name)
                    .waiting_for(
                        HttpWaitStrategy(PORTS[name], HEALTH_PATHS[name]).with_startup_timeout(
                            self._timeout
                        )
                    )
                )
                servers[name] = self._run(server)
        except BaseException:
            self.stop()
            raise
        host = kafka.get_container_host_ip()
        mapped = {name: int(c.get_exposed_port(PORTS[name])) for name, c in servers.items()}
        return endpoints(
            host,
            kafka.get_bootstrap_server(),
            mapped,
            int(postgres.get_exposed_port(POSTGRES_PORT)),
        )

    def _run(self, container: Any, timeout: int | None = None) -> Any:
        self._started.append(container)
        if timeout is None:
            container.start()
        else:
            container.start(timeout=timeout)
        return container

    def stop(self) -> None:
        while self._started:
            self._started.pop().stop()
        if self._network is not None:
            self._network.remove()
            self._network = None
