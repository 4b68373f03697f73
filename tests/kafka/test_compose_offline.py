"""docker-compose.offline.yaml, checked without a Docker engine: the project's own images (those
``python -m cta.images`` builds), health gating in start order, service-name addressing, and
host ports on loopback only (health checks and gating: tests/kafka/test_compose.py, for both
files). tests/compose runs it for real."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cta.config import Settings
from cta.images import IMAGES as BUILT

ROOT = Path(__file__).resolve().parents[2]
SERVERS = ("kafka", "schema-registry", "kafka-rest", "postgres", "connect", "ksql")
APPS = ("setup", "faust", "simulation", "dashboard")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.offline.yaml").read_text()))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return dict(compose["services"])


def test_every_service_is_there(services: dict[str, Any]) -> None:
    assert set(services) == {*SERVERS, *APPS}


def test_every_image_is_one_the_project_builds(services: dict[str, Any]) -> None:
    built = {image.tag for image in BUILT.values()}
    for name, service in services.items():
        assert service["image"] in built, name
        # Built beforehand from the cache (`python -m cta.images build`), never here.
        assert "build" not in service, name


def test_our_rest_proxy_and_ksql_engine_stand_in(services: dict[str, Any]) -> None:
    assert services["kafka-rest"]["command"][:3] == ["python", "-m", "cta.rest_proxy"]
    assert services["ksql"]["command"][:3] == ["python", "-m", "cta.kafka.ksql_server"]


def test_setup_waits_for_every_server_it_configures(services: dict[str, Any]) -> None:
    needed = {"kafka", "schema-registry", "postgres", "connect", "ksql"}
    assert needed <= set(services["setup"]["depends_on"])


def test_services_address_each_other_by_name(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            text = str(value)
            if key == "KAFKA_ADVERTISED_LISTENERS":
                # Its HOST listener is for programs on the host, by design.
                text = ",".join(v for v in text.split(",") if not v.startswith("HOST://"))
            assert "localhost" not in text and "127.0.0.1" not in text, f"{name}: {key}={text}"
        for word in service.get("command") or []:
            assert "localhost" not in word and "127.0.0.1" not in word, f"{name}: {word}"


def test_host_ports_are_on_loopback_only_and_movable(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:${CTA_"), f"{name}: {port}"
    assert services["dashboard"]["ports"] == ["127.0.0.1:${CTA_DASHBOARD_HOST_PORT:-8888}:8888"]


def test_app_settings_are_complete_and_parse(services: dict[str, Any]) -> None:
    env = {k: str(v) for k, v in services["dashboard"]["environment"].items() if v is not None}
    settings = Settings.from_env(env)
    assert settings.bootstrap_servers == "kafka:9092"
    assert settings.schema_registry_url == "http://schema-registry:8080/apis/ccompat/v7"
    assert settings.ksql_url == "http://ksql:8088"
    assert settings.rest_proxy_url == "http://kafka-rest:8082"
    assert settings.connect_database_host == "postgres"
    assert services["dashboard"]["environment"]["CTA_NETWORK"] is None
    for app in APPS:
        assert services[app]["environment"] == services["dashboard"]["environment"]


def test_postgres_keeps_its_data_in_a_volume_that_down_v_removes(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "postgres-data" in compose["volumes"]
