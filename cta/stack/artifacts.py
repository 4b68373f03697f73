"""Downloads from Maven Central, cached: classpaths resolved from our small POMs, and the
Debezium and Apicurio archives unpacked once. A marker file records a finished step, so an
interrupted download is redone rather than half-used."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tarfile
from pathlib import Path

from cta.stack.config import StackConfig
from cta.stack.processes import StackError

log = logging.getLogger(__name__)

_DONE = ".complete"
_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"


def _mvn(config: StackConfig, *args: str) -> None:
    if shutil.which(config.mvn) is None:
        raise StackError(f"{config.mvn!r} not found: run scripts/install-system-deps")
    command = [
        config.mvn,
        "-B",
        "-q",
        f"-Dmaven.repo.local={config.cache_dir / 'm2'}",
        *args,
    ]
    log.info("maven: %s", " ".join(args))
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    if result.returncode != 0:
        raise StackError(
            f"maven failed ({result.returncode}): {' '.join(args)}\n"
            + (result.stdout + result.stderr)[-3000:]
        )


def classpath_dir(config: StackConfig, component: str) -> Path:
    """Where ``classpath`` puts ``component``'s jars (without resolving them)."""
    return config.cache_dir / f"{component}-lib"


def classpath(config: StackConfig, component: str) -> Path:
    """The folder of jars for ``component`` (``kafka`` or ``connect``), resolved from
    ``stack/<component>/pom.xml``; a changed POM re-resolves."""
    pom = config.templates_dir / component / "pom.xml"
    target = classpath_dir(config, component)
    marker = target / _DONE
    pom_text = pom.read_text(encoding="utf-8")
    if marker.exists() and marker.read_text(encoding="utf-8") == pom_text:
        return target
    shutil.rmtree(target, ignore_errors=True)
    _mvn(
        config,
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={target}",
    )
    marker.write_text(pom_text, encoding="utf-8")
    return target


def fetch_archive(config: StackConfig, coordinates: str) -> Path:
    """Download one archive (``group:artifact:version:type:classifier``) into the cache."""
    _group, artifact, version, kind, classifier = coordinates.split(":")
    downloads = config.cache_dir / "downloads"
    path = downloads / f"{artifact}-{version}-{classifier}.{kind}"
    if path.exists():
        return path
    _mvn(
        config,
        f"{_DEPENDENCY_PLUGIN}:copy",
        f"-Dartifact={coordinates}",
        f"-DoutputDirectory={downloads}",
    )
    if not path.exists():
        raise StackError(f"maven reported success but {path} is missing")
    return path


def unpacked(config: StackConfig, coordinates: str, folder_name: str) -> Path:
    """The archive unpacked under ``cache_dir/<folder_name>`` (once)."""
    target = config.cache_dir / folder_name
    marker = target / _DONE
    if marker.exists():
        return target
    archive = fetch_archive(config, coordinates)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    marker.write_text(coordinates, encoding="utf-8")
    return target


def find_file(root: Path, name: str) -> Path:
    """The shallowest ``name`` under ``root``: archives differ in their top folder."""
    matches = sorted(root.rglob(name), key=lambda p: len(p.parts))
    if not matches:
        raise StackError(f"{name} not found under {root}")
    return matches[0]
