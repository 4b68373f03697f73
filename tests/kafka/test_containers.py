"""cta.kafka.containers without a Docker engine: detection and the generated configuration."""

from __future__ import annotations

import pytest

import docker
from cta.config import Settings
from cta.kafka import containers
from cta.kafka.containers import (
    IMAGES,
    PORTS,
    ContainerStack,
    docker_available,
    endpoints,
    service_environment,
)


def test_no_engine_means_not_available(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise docker.errors.DockerException("no socket")

    monkeypatch.setattr(docker, "from_env", refuse)
    assert docker_available() is False


def test_an_engine_that_answers_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    class Engine:
        def ping(self) -> bool:
            return True

    monkeypatch.setattr(docker, "from_env", Engine)
    assert docker_available() is True


def test_endpoints_are_settings_for_a_host_client() -> None:
    ports = {"schema-registry": 1001, "kafka-rest": 1002, "connect": 1003, "ksqldb-server": 1004}
    env = endpoints("10.0.0.5", "10.0.0.5:1000", ports, 1005)
    settings = Settings.from_env(env)
    assert settings.backend == "kafka"
    assert settings.bootstrap_servers == "10.0.0.5:1000"
    assert settings.schema_registry_url == "http://10.0.0.5:1001"
    assert settings.rest_proxy_url == "http://10.0.0.5:1002"
    assert settings.connect_url == "http://10.0.0.5:1003"
    assert settings.ksql_url == "http://10.0.0.5:1004"
    assert settings.database_url == "postgresql://cta_admin:chicago@10.0.0.5:1005/cta"
    # Connect is inside the network with Postgres.
    assert (settings.connect_database_host, settings.connect_database_port) == ("postgres", 5432)


def test_endpoints_have_the_native_stack_keys() -> None:
    keys = set(endpoints("h", "h:1", dict.fromkeys(PORTS, 2), 3))
    assert keys == {
        "CTA_BACKEND",
        "CTA_BOOTSTRAP_SERVERS",
        "CTA_SCHEMA_REGISTRY_URL",
        "CTA_REST_PROXY_URL",
        "CTA_CONNECT_URL",
        "CTA_KSQL_URL",
        "CTA_DATABASE_URL",
        "CTA_CONNECT_DATABASE_HOST",
        "CTA_CONNECT_DATABASE_PORT",
    }


def test_servers_reach_kafka_and_the_registry_by_alias() -> None:
    env = service_environment("kafka:9092")
    assert env["schema-registry"]["SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"] == (
        "PLAINTEXT://kafka:9092"
    )
    assert env["kafka-rest"]["KAFKA_REST_SCHEMA_REGISTRY_URL"] == "http://schema-registry:8081"
    assert env["ksqldb-server"]["KSQL_KSQL_SCHEMA_REGISTRY_URL"] == "http://schema-registry:8081"
    assert env["connect"]["CONNECT_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["connect"]["CONNECT_REST_PORT"] == str(PORTS["connect"])


def test_all_confluent_images_share_one_version() -> None:
    versions = {image.split(":")[1] for name, image in IMAGES.items() if "confluentinc" in image}
    assert versions == {containers.CP_VERSION}


def test_starting_without_docker_fails_and_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    if docker_available():
        pytest.skip("a Docker engine is available here")
    stack = ContainerStack()
    with pytest.raises(Exception, match=r"(?i)docker|connection|socket"):
        stack.start()
    stack.stop()  # idempotent after a failed start
