"""docker-compose.yaml (Confluent's images), checked without a Docker engine: structure, health
gating, service-name addressing. The offline variant: tests/kafka/test_compose_offline.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cta.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SERVERS = ("kafka", "schema-registry", "kafka-rest", "postgres", "connect", "ksqldb-server")
APPS = ("setup", "faust", "simulation", "dashboard")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    return dict(compose["services"])


def test_every_service_is_there(services: dict[str, Any]) -> None:
    # Services in a profile (cluster, metrics) start only when asked: test_compose_cluster.py.
    assert {n for n, s in services.items() if "profiles" not in s} == {*SERVERS, *APPS}


# Both variants: Confluent's images here, the project's own in docker-compose.offline.yaml.
COMPOSE_FILES = ("docker-compose.yaml", "docker-compose.offline.yaml")


@pytest.fixture(scope="module", params=COMPOSE_FILES)
def either_services(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / request.param).read_text())["services"])


def test_every_server_has_a_healthcheck(either_services: dict[str, Any]) -> None:
    # The one-shot setup and the simulation (a client) serve nothing to check.
    for name, service in either_services.items():
        if name in ("setup", "simulation"):
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] == "CMD", f"{name} has no exec healthcheck"


def test_dependencies_wait_for_health_or_completion(either_services: dict[str, Any]) -> None:
    services = either_services
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            expected = (
                "service_completed_successfully" if dependency == "setup" else "service_healthy"
            )
            assert rule == {"condition": expected}, f"{name} -> {dependency}"
            if expected == "service_healthy":
                assert "healthcheck" in services[dependency]


def test_setup_runs_after_every_server_it_configures(services: dict[str, Any]) -> None:
    needed = {"kafka", "schema-registry", "postgres", "connect", "ksqldb-server"}
    assert needed <= set(services["setup"]["depends_on"])
    assert services["setup"]["command"] == ["cta", "setup", "--backend", "kafka"]
    for app in ("faust", "simulation", "dashboard"):
        assert services[app]["depends_on"]["setup"] == {
            "condition": "service_completed_successfully"
        }


def test_services_address_each_other_by_name(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if key == "KAFKA_ADVERTISED_LISTENERS":
                # Its PLAINTEXT_HOST listener is for programs on the host, by design.
                value = ",".join(v for v in str(value).split(",") if "PLAINTEXT_HOST" not in v)
            text = str(value)
            assert "localhost" not in text and "127.0.0.1" not in text, f"{name}: {key}={text}"


def test_app_settings_are_complete_and_parse(services: dict[str, Any]) -> None:
    env = {k: str(v) for k, v in services["dashboard"]["environment"].items()}
    settings = Settings.from_env(env)
    assert settings.backend == "kafka"
    assert settings.bootstrap_servers == "kafka:29092"
    assert settings.ksql_url == "http://ksqldb-server:8088"
    assert settings.connect_database_host == "postgres"
    assert settings.database_url.startswith("postgresql://cta_admin:chicago@postgres:5432/")
    for app in APPS:
        assert services[app]["environment"] == services["dashboard"]["environment"]
        assert services[app]["image"] == "cta-app:local"
        assert services[app]["build"]["dockerfile"] == "docker/app/Dockerfile"


def test_confluent_images_share_one_version_with_the_connect_build(
    services: dict[str, Any],
) -> None:
    versions = {
        str(service["image"]).split(":")[1]
        for service in services.values()
        if str(service.get("image", "")).startswith("confluentinc/")
    }
    assert len(versions) == 1
    (version,) = versions
    connect_docker = (ROOT / "docker" / "cp-connect" / "Dockerfile").read_text()
    assert f"ARG CP_VERSION={version}" in connect_docker
    assert "FROM confluentinc/cp-kafka-connect:${CP_VERSION}" in connect_docker
    assert services["connect"]["build"]["context"] == "docker/cp-connect"


def test_postgres_streams_logical_changes_and_loads_the_schema(services: dict[str, Any]) -> None:
    postgres = services["postgres"]
    assert "wal_level=logical" in " ".join(postgres["command"])
    assert (
        "./sql/stations.sql:/docker-entrypoint-initdb.d/01-stations.sql:ro" in postgres["volumes"]
    )
    assert (ROOT / "sql" / "stations.sql").exists()


def test_dashboard_serves_on_all_interfaces(services: dict[str, Any]) -> None:
    dashboard = services["dashboard"]
    assert dashboard["command"][-2:] == ["--host", "0.0.0.0"]
    # The host port moves with CTA_DASHBOARD_HOST_PORT (8888 may be taken).
    assert "${CTA_DASHBOARD_HOST_PORT:-8888}:8888" in dashboard["ports"]


def test_the_faust_worker_is_restarted_by_compose() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())["services"]
    assert services["faust"]["restart"] == "unless-stopped"
    assert "healthcheck" in services["faust"]


def test_the_app_passes_the_network_choice_through(services: dict[str, Any]) -> None:
    # The shell's CTA_NETWORK when set, else the whole 'L'.
    assert services["dashboard"]["environment"]["CTA_NETWORK"] == "${CTA_NETWORK:-l}"
