"""Kafka Connect in distributed mode, with the Debezium PostgreSQL connector as a plugin."""

from __future__ import annotations

from pathlib import Path
from string import Template

import requests

from cta.stack import artifacts
from cta.stack.config import DEBEZIUM_VERSION, StackConfig
from cta.stack.kafka import java_command
from cta.stack.service import Service

NAME = "connect"
DEBEZIUM_ARCHIVE = f"io.debezium:debezium-connector-postgres:{DEBEZIUM_VERSION}:tar.gz:plugin"
POSTGRES_CONNECTOR = "io.debezium.connector.postgresql.PostgresConnector"
# Debezium's jars carry ServiceLoader manifests, so the worker can skip scanning every class
# of every plugin (seconds of start-up on two cores).
PLUGIN_DISCOVERY = "service_load"
PLUGIN_FOLDER = "connect-plugins"


def plugin_path(config: StackConfig) -> Path:
    return config.cache_dir / PLUGIN_FOLDER


def render_properties(config: StackConfig) -> str:
    template = Template(
        (config.templates_dir / "connect" / "worker.properties.template").read_text()
    )
    return template.substitute(
        host=config.host,
        connect_port=config.connect_port,
        bootstrap_servers=config.endpoints().bootstrap_servers,
        plugin_path=plugin_path(config).resolve(),
        plugin_discovery=PLUGIN_DISCOVERY,
    )


def _props(config: StackConfig) -> Path:
    return config.data_dir / "connect" / "worker.properties"


def prepare(config: StackConfig) -> None:
    artifacts.classpath(config, NAME)
    artifacts.unpacked(config, DEBEZIUM_ARCHIVE, PLUGIN_FOLDER)
    props = _props(config)
    props.parent.mkdir(parents=True, exist_ok=True)
    props.write_text(render_properties(config), encoding="utf-8")


def healthy(connect_url: str, timeout: float = 3.0) -> bool:
    """Up once the REST API answers and lists the Debezium connector."""
    response = requests.get(f"{connect_url}/connector-plugins", timeout=timeout)
    if response.status_code != 200:
        return False
    return any(p.get("class") == POSTGRES_CONNECTOR for p in response.json())


def service(config: StackConfig) -> Service:
    url = f"http://{config.host}:{config.connect_port}"
    main_class = "org.apache.kafka.connect.cli.ConnectDistributed"
    return Service(
        name=NAME,
        command=java_command(config, NAME, config.connect_heap, main_class, str(_props(config))),
        health=lambda: healthy(url),
        log_file=config.logs_dir / f"{NAME}.log",
        depends_on=("kafka",),
        prepare=lambda: prepare(config),
        port=config.connect_port,
    )
