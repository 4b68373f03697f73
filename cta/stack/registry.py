"""Apicurio Registry: a schema registry with Confluent's API under ``/apis/ccompat/v7``."""

from __future__ import annotations

import shutil
from pathlib import Path

import requests

from cta.stack import artifacts
from cta.stack.config import APICURIO_VERSION, CCOMPAT_PATH, StackConfig
from cta.stack.java import jvm_options, registry_java
from cta.stack.processes import StackError
from cta.stack.service import Service

NAME = "registry"
ARCHIVE = f"io.apicurio:apicurio-registry-app:{APICURIO_VERSION}:tar.gz:all"
COMPATIBILITY = "BACKWARD"


def system_properties(config: StackConfig) -> dict[str, str]:
    properties = {
        "quarkus.http.port": str(config.registry_port),
        "quarkus.http.host": config.host,
        "quarkus.management.port": str(config.registry_management_port),
        "quarkus.management.host": config.host,
        # Confluent's serializers look a schema up by its text; compare canonical forms so a
        # schema re-sent with other whitespace or field order finds its id.
        "apicurio.ccompat.use-canonical-hash": "true",
        # The pipeline deletes subjects in its tests, as it can on Confluent's registry.
        "apicurio.rest.deletion.artifact.enabled": "true",
        "apicurio.rest.deletion.artifact-version.enabled": "true",
        "apicurio.rest.deletion.group.enabled": "true",
    }
    properties.update(dict(config.registry_properties))
    return properties


def ccompat_url(config: StackConfig) -> str:
    return f"http://{config.host}:{config.registry_port}{CCOMPAT_PATH}"


def healthy(url: str, timeout: float = 3.0) -> bool:
    return requests.get(f"{url}/subjects", timeout=timeout).status_code == 200


def set_global_compatibility(url: str, level: str = COMPATIBILITY) -> None:
    """Apicurio starts with no compatibility rule; Confluent's default is BACKWARD."""
    response = requests.put(
        f"{url}/config",
        json={"compatibility": level},
        headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
        timeout=10,
    )
    if response.status_code != 200:
        raise StackError(
            f"setting global compatibility {level} failed: {response.status_code} {response.text}"
        )


def _home(config: StackConfig) -> str:
    return str(config.cache_dir / f"apicurio-{APICURIO_VERSION}")


def _java_link(config: StackConfig) -> Path:
    """A stable path to the Java 21 launcher, so the command is known before it is installed."""
    return config.cache_dir / "registry-java"


def prepare(config: StackConfig) -> None:
    home = artifacts.unpacked(config, ARCHIVE, f"apicurio-{APICURIO_VERSION}")
    artifacts.find_file(home, "quarkus-run.jar")
    java = registry_java(config)
    target = Path(shutil.which(java) or java).resolve()
    link = _java_link(config)
    if not link.is_symlink() or link.resolve() != target:
        link.unlink(missing_ok=True)
        link.symlink_to(target)


def service(config: StackConfig) -> Service:
    url = ccompat_url(config)
    # The archive has quarkus-run.jar at its top level (checked by prepare()).
    jar = f"{_home(config)}/quarkus-run.jar"
    return Service(
        name=NAME,
        command=[
            str(_java_link(config)),
            *jvm_options(config.registry_heap),
            *[f"-D{k}={v}" for k, v in system_properties(config).items()],
            "-jar",
            jar,
        ],
        health=lambda: healthy(url),
        log_file=config.logs_dir / f"{NAME}.log",
        prepare=lambda: prepare(config),
        after_start=lambda: set_global_compatibility(url),
        port=config.registry_port,
    )
