"""cta.kafka.containers without a Docker engine: detection and the generated configuration."""

from __future__ import annotations

import pytest

import docker
from cta.config import Settings
from cta.images import IMAGES as BUILT
from cta.kafka.containers import (
    IMAGES,
    ORDER,
    PORTS,
    ContainerFailed,
    ContainerStack,
    docker_available,
    endpoints,
    rest_proxy_command,
    service_environment,
    with_dependencies,
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
    ports = {"registry": 1001, "rest-proxy": 1002, "connect": 1003, "postgres": 1005}
    settings = Settings.from_env(endpoints("127.0.0.1", "127.0.0.1:1000", ports))
    assert settings.backend == "kafka"
    assert settings.bootstrap_servers == "127.0.0.1:1000"
    assert settings.schema_registry_url == "http://127.0.0.1:1001/apis/ccompat/v7"
    assert settings.rest_proxy_url == "http://127.0.0.1:1002"
    assert settings.connect_url == "http://127.0.0.1:1003"
    # KSQL runs in-process over the real topics, as on the native stack.
    assert settings.ksql_url == ""
    assert settings.database_url == "postgresql://cta_admin:chicago@127.0.0.1:1005/cta"
    # Connect is inside the network with Postgres.
    assert (settings.connect_database_host, settings.connect_database_port) == ("postgres", 5432)


def test_endpoints_have_the_native_stack_keys() -> None:
    keys = set(endpoints("h", "h:1", dict.fromkeys(PORTS, 2)))
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
    assert env["connect"]["CONNECT_BOOTSTRAP_SERVERS"] == "kafka:9092"
    command = rest_proxy_command()
    assert command[command.index("--bootstrap-servers") + 1] == "kafka:9092"
    assert command[command.index("--schema-registry-url") + 1] == (
        "http://registry:8080/apis/ccompat/v7"
    )


def test_the_stack_runs_the_images_cta_images_builds() -> None:
    assert set(IMAGES.values()) <= {image.tag for image in BUILT.values()}


def test_dependencies_come_along_in_start_order() -> None:
    assert with_dependencies(None) == list(ORDER)
    assert with_dependencies(["registry"]) == ["registry"]
    assert with_dependencies(["connect"]) == ["kafka", "connect"]
    assert with_dependencies(["rest-proxy"]) == ["kafka", "registry", "rest-proxy"]
    with pytest.raises(ValueError, match="unknown"):
        with_dependencies(["ksqldb"])


def test_starting_without_docker_fails_and_leaves_nothing() -> None:
    if docker_available():
        pytest.skip("a Docker engine is available here")
    stack = ContainerStack()
    with pytest.raises(Exception, match=r"(?i)docker|connection|socket"):
        stack.start()
    stack.stop()  # idempotent after a failed start


def test_missing_images_are_named_with_the_command_that_builds_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class NoImages:
        class images:  # the docker client's attribute name
            @staticmethod
            def get(tag: str) -> None:
                raise docker.errors.ImageNotFound(tag)

    monkeypatch.setattr(docker, "from_env", NoImages)
    with pytest.raises(ContainerFailed, match=r"cta-kafka:local.*python -m cta.images build"):
        ContainerStack(only=["kafka"]).start()


def test_a_container_that_exits_fails_the_start_with_its_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not docker_available():
        pytest.skip("needs a Docker engine (scripts/docker-engine)")
    from cta.kafka import containers

    environment = containers.service_environment()
    environment["kafka"] = {"KAFKA_HEAP": "not-a-size"}  # the JVM refuses it and exits
    monkeypatch.setattr(containers, "service_environment", lambda: environment)
    stack = ContainerStack(only=["kafka"], startup_timeout=120)
    with pytest.raises(ContainerFailed, match=r"(?s)kafka .*exited.*Invalid maximum heap size"):
        stack.start()
    # start() removed what it made, and kept the log.
    assert not stack._containers
    assert "Invalid maximum heap size" in (containers.LOGS_DIR / "kafka.log").read_text()
