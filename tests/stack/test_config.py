from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from cta.config import Settings
from cta.stack import connect, kafka
from cta.stack.config import StackConfig, StackEndpoints, free_ports
from cta.stack.java import parse_java_version
from cta.stack.processes import StackError


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_ports_follow_the_settings_urls() -> None:
    settings = Settings.from_env(
        {
            "CTA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
            "CTA_SCHEMA_REGISTRY_URL": "http://127.0.0.1:18081/apis/ccompat/v7",
            "CTA_REST_PROXY_URL": "http://127.0.0.1:18082",
            "CTA_CONNECT_URL": "http://127.0.0.1:18083",
            "CTA_DATABASE_URL": "postgresql://u:p@127.0.0.1:15432/cta",
        }
    )
    config = StackConfig.from_settings(settings)
    assert (config.kafka_port, config.registry_port, config.rest_proxy_port) == (
        19092,
        18081,
        18082,
    )
    assert (config.connect_port, config.postgres_port) == (18083, 15432)
    assert config.endpoints().schema_registry_url == "http://127.0.0.1:18081/apis/ccompat/v7"


def test_free_ports_are_distinct_and_all_replaced() -> None:
    config = StackConfig().with_free_ports()
    ports = [
        config.kafka_port,
        config.controller_port,
        config.registry_port,
        config.registry_management_port,
        config.rest_proxy_port,
        config.connect_port,
        config.postgres_port,
    ]
    assert len(set(ports)) == len(ports)
    assert 9092 not in ports or config.kafka_port != 9092
    assert len(set(free_ports(5))) == 5


def test_kafka_properties_are_a_single_kraft_node(tmp_path: Path) -> None:
    config = StackConfig(kafka_port=19092, controller_port=19093)
    props = _properties(kafka.render_properties(config, tmp_path / "log"))
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:19093"
    assert props["log.dirs"] == str(tmp_path / "log")
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["share.coordinator.state.topic.replication.factor"] == "1"


def test_connect_properties_point_at_the_broker_and_an_absolute_plugin_path() -> None:
    config = StackConfig(kafka_port=19092, connect_port=18083)
    props = _properties(connect.render_properties(config))
    assert props["bootstrap.servers"] == "127.0.0.1:19092"
    assert props["listeners"] == "http://127.0.0.1:18083"
    assert Path(props["plugin.path"]).is_absolute()
    for topic in ("config", "offset", "status"):
        # The brokers' default.replication.factor: 1 on one node, 3 on a cluster.
        assert props[f"{topic}.storage.replication.factor"] == "-1"


def test_cluster_ids_have_kafkas_shape() -> None:
    first, second = kafka.new_cluster_id(), kafka.new_cluster_id()
    assert len(first) == 22 and "=" not in first
    assert first != second


def test_cluster_ids_never_start_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # kafka-storage reads "-t -Abc…" as a missing argument (a CI run failed on one in 64 ids).
    dash_first = uuid.UUID(bytes=b"\xf8" + bytes(15))
    plain = uuid.UUID(bytes=b"\x10" + bytes(15))
    drawn = iter([dash_first, dash_first, plain])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(drawn))
    assert kafka.new_cluster_id() == "EAAAAAAAAAAAAAAAAAAAAA"


def test_endpoints_file_round_trips(tmp_path: Path) -> None:
    endpoints = StackConfig(postgres_port=15432, ksql_url="http://127.0.0.1:8088").endpoints()
    path = tmp_path / "endpoints.env"
    endpoints.write(path)
    text = path.read_text()
    assert "CTA_BOOTSTRAP_SERVERS=127.0.0.1:9092\n" in text
    assert "CTA_DATABASE_URL=postgresql://cta_admin:chicago@127.0.0.1:15432/cta\n" in text
    assert "CTA_CONNECT_DATABASE_HOST=127.0.0.1\n" in text
    assert StackEndpoints.read(path) == endpoints
    # The file feeds Settings unchanged.
    env = dict(line.split("=", 1) for line in text.splitlines() if not line.startswith("#"))
    assert Settings.from_env(env).database_url == endpoints.database_url


def test_endpoints_file_errors_name_the_problem(tmp_path: Path) -> None:
    assert StackEndpoints.read(tmp_path / "missing.env") is None
    with pytest.raises(ValueError, match="line 1"):
        StackEndpoints.parse_env_file("not a pair\n")
    with pytest.raises(ValueError, match="CTA_CONNECT_URL"):
        StackEndpoints.parse_env_file("CTA_BOOTSTRAP_SERVERS=x\n")


@pytest.mark.parametrize(
    ("banner", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_392"', 8),
    ],
)
def test_java_versions_are_read_from_the_banner(banner: str, major: int) -> None:
    assert parse_java_version(banner) == major


def test_an_unreadable_java_banner_is_an_error() -> None:
    with pytest.raises(StackError, match="cannot read"):
        parse_java_version("command not found")
