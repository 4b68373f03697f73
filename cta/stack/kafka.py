"""The Kafka broker: one KRaft node in combined mode (broker and controller)."""

from __future__ import annotations

import base64
import subprocess
import uuid
from pathlib import Path
from string import Template

from confluent_kafka.admin import AdminClient

from cta.stack import artifacts
from cta.stack.config import StackConfig
from cta.stack.java import jvm_options
from cta.stack.processes import StackError
from cta.stack.service import Service

NAME = "kafka"


def log_config(config: StackConfig) -> Path:
    return config.templates_dir / "log4j2.properties"


def java_command(
    config: StackConfig, component: str, heap: str, main_class: str, *args: str
) -> list[str]:
    """A JVM running ``main_class`` from ``component``'s Maven classpath with our log4j2 config
    (the broker, its storage tool and the Connect worker all start this way)."""
    lib = artifacts.classpath_dir(config, component)
    return [
        config.java,
        *jvm_options(heap, log_config(config)),
        "-cp",
        f"{lib}/*",
        main_class,
        *args,
    ]


def render_properties(config: StackConfig, log_dir: Path) -> str:
    template = Template((config.templates_dir / "kafka" / "server.properties.template").read_text())
    return template.substitute(
        host=config.host,
        broker_port=config.kafka_port,
        controller_port=config.controller_port,
        log_dir=log_dir,
    )


def new_cluster_id() -> str:
    """Kafka's cluster id format: 16 random bytes, URL-safe base64 without padding.

    Like Kafka's own Uuid.randomUuid, ids starting with "-" are drawn again: command
    line parsers (kafka-storage among them) take them for an option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _paths(config: StackConfig) -> tuple[Path, Path]:
    return config.data_dir / "kafka" / "server.properties", config.data_dir / "kafka" / "log"


def prepare(config: StackConfig) -> None:
    """Resolve the classpath, write the properties and format the log dir once."""
    artifacts.classpath(config, NAME)
    props, log_dir = _paths(config)
    props.parent.mkdir(parents=True, exist_ok=True)
    props.write_text(render_properties(config, log_dir), encoding="utf-8")
    if (log_dir / "meta.properties").exists():
        return
    command = java_command(
        config,
        NAME,
        "256m",
        "kafka.tools.StorageTool",
        "format",
        "--standalone",
        f"--cluster-id={new_cluster_id()}",
        "-c",
        str(props),
    )
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise StackError(f"formatting {log_dir} failed:\n{(result.stdout + result.stderr)[-3000:]}")


def healthy(bootstrap_servers: str, timeout: float = 3.0) -> bool:
    admin = AdminClient({"bootstrap.servers": bootstrap_servers, "log_level": 0})
    metadata = admin.list_topics(timeout=timeout)
    return bool(metadata.brokers)


def service(config: StackConfig) -> Service:
    props, _ = _paths(config)
    bootstrap = f"{config.host}:{config.kafka_port}"
    return Service(
        name=NAME,
        command=java_command(config, NAME, config.kafka_heap, "kafka.Kafka", str(props)),
        health=lambda: healthy(bootstrap),
        log_file=config.logs_dir / f"{NAME}.log",
        prepare=lambda: prepare(config),
        port=config.kafka_port,
    )
