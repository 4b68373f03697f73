"""docker-compose.yaml's optional profiles, checked without a Docker engine: `cluster` (three
KRaft voters, as `cta stack up --brokers 3`) and `metrics` (Prometheus scraping /metrics)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cta.topics import replication_for

ROOT = Path(__file__).resolve().parents[2]
NODES = ("kafka", "kafka-2", "kafka-3")
_VARIABLE = re.compile(r"\$\{(\w+):-([^}]*)\}")


def _env_file(path: Path) -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    return {key: value for key, value in pairs}


def _interpolate(value: Any, env: dict[str, str]) -> str:
    """Compose's ``${NAME:-default}`` with ``env`` as the shell."""
    return _VARIABLE.sub(lambda m: env.get(m.group(1), m.group(2)), str(value))


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yaml").read_text())["services"])


@pytest.fixture(scope="module")
def cluster_env() -> dict[str, str]:
    return _env_file(ROOT / "docker" / "cluster.env")


def _node_env(services: dict[str, Any], name: str, env: dict[str, str]) -> dict[str, str]:
    return {k: _interpolate(v, env) for k, v in services[name]["environment"].items()}


def test_the_cluster_profile_adds_two_nodes_that_the_env_file_switches_on(
    services: dict[str, Any], cluster_env: dict[str, str]
) -> None:
    assert services["kafka-2"]["profiles"] == services["kafka-3"]["profiles"] == ["cluster"]
    assert "profiles" not in services["kafka"]
    assert cluster_env["COMPOSE_PROFILES"] == "cluster"


def test_with_the_env_file_three_nodes_form_one_three_voter_quorum(
    services: dict[str, Any], cluster_env: dict[str, str]
) -> None:
    envs = {name: _node_env(services, name, cluster_env) for name in NODES}
    voters = {env["KAFKA_CONTROLLER_QUORUM_VOTERS"] for env in envs.values()}
    assert voters == {"1@kafka:29093,2@kafka-2:29093,3@kafka-3:29093"}
    assert {env["CLUSTER_ID"] for env in envs.values()} == {envs["kafka"]["CLUSTER_ID"]}
    assert sorted(env["KAFKA_NODE_ID"] for env in envs.values()) == ["1", "2", "3"]
    for name, env in envs.items():
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert f"PLAINTEXT://{name}:29092" in env["KAFKA_ADVERTISED_LISTENERS"]
        assert services[name]["healthcheck"]["test"][0] == "CMD"
        assert env["KAFKA_HEAP_OPTS"].startswith("-Xmx384m")


def test_replication_matches_the_native_stack(
    services: dict[str, Any], cluster_env: dict[str, str]
) -> None:
    replicas, min_insync = replication_for(3)
    for name in NODES:
        env = _node_env(services, name, cluster_env)
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == str(replicas)
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == str(replicas)
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == str(min_insync)
        assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == str(min_insync)
    single = _node_env(services, "kafka", {})
    assert single["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:29093"
    assert single["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"


def test_prometheus_scrapes_every_metrics_endpoint_by_service_name(
    services: dict[str, Any],
) -> None:
    prometheus = services["prometheus"]
    assert prometheus["profiles"] == ["metrics"]
    mount = "./docker/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
    assert mount in prometheus["volumes"]
    config = yaml.safe_load((ROOT / "docker" / "prometheus" / "prometheus.yml").read_text())
    targets = {
        target: job.get("metrics_path", "/metrics")
        for job in config["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    assert targets == {"dashboard:8888": "/metrics", "faust:6066": "/metrics"}
    for target in targets:
        service = target.split(":")[0]
        assert service in services and service in prometheus["depends_on"]
    # The Faust worker keeps its web server (where /metrics is served).
    assert "--without-web" not in " ".join(services["faust"]["command"])
    assert "--web-port 6066" in " ".join(services["faust"]["command"])
