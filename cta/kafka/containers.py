"""The real stack in Docker containers (testcontainers), for machines with a Docker engine.

The project's own images (``python -m cta.images build``, see ``docker/``): Kafka 4.3 (KRaft),
Apicurio Registry, Kafka Connect with Debezium, PostgreSQL with ``wal_level=logical`` and our
REST Proxy (the app image), on one private network where they reach each other by alias. KSQL
runs in-process over the real topics, as with the native stack. Host ports are published on
loopback only; each endpoint is read back from the container, and each container is ready when
its own healthcheck says so. A container that exits or turns unhealthy fails ``start()`` at
once with the tail of its log. ``start()`` returns the endpoints in the same ``CTA_*`` form as
the native stack's ``endpoints.env``.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from cta.stack.config import (
    CCOMPAT_PATH,
    DB_NAME,
    DB_PASSWORD,
    DB_USER,
    PROJECT_DIR,
    free_ports,
)

TAG = "local"
IMAGES = {
    "kafka": f"cta-kafka:{TAG}",
    "registry": f"cta-registry:{TAG}",
    "connect": f"cta-connect:{TAG}",
    "postgres": f"cta-postgres:{TAG}",
    "rest-proxy": f"cta-app:{TAG}",
}
# Start order: each service after those it needs.
ORDER = ("kafka", "postgres", "registry", "connect", "rest-proxy")
NEEDS = {"registry": (), "postgres": (), "kafka": (), "connect": ("kafka",)}
NEEDS["rest-proxy"] = ("kafka", "registry")

# Inside the network: each service's alias and port.
KAFKA_INTERNAL = "kafka:9092"
KAFKA_HOST_LISTENER = 19092
PORTS = {"registry": 8080, "connect": 8083, "postgres": 5432, "rest-proxy": 8082}
REGISTRY_INTERNAL = f"http://registry:{PORTS['registry']}{CCOMPAT_PATH}"
LOG_TAIL = 60
# Where stop() keeps each container's whole log (scripts/test-docker prints them on a failure).
LOGS_DIR = PROJECT_DIR / ".docker-build" / "logs" / "containers"
_SECOND_NS = 1_000_000_000


class ContainerFailed(RuntimeError):
    """A container exited, turned unhealthy or never became healthy; carries its log's tail."""


def docker_available() -> bool:
    """True when a Docker engine answers; any failure (no socket, no package) means no."""
    try:
        # By name: type checkers would resolve ``docker`` to the repo's docker/ folder.
        docker = importlib.import_module("docker")
        return bool(docker.from_env().ping())
    except Exception:
        return False


def missing_images(client: Any, names: Collection[str] = ORDER) -> list[str]:
    missing = []
    for name in names:
        try:
            client.images.get(IMAGES[name])
        except Exception:
            missing.append(IMAGES[name])
    return missing


def service_environment(kafka: str = KAFKA_INTERNAL) -> dict[str, dict[str, str]]:
    """Each server's environment, addressing the others by network alias."""
    return {
        "kafka": {},
        "registry": {},
        "connect": {"CONNECT_BOOTSTRAP_SERVERS": kafka, "CONNECT_ADVERTISED_HOST": "connect"},
        "postgres": {
            "POSTGRES_USER": DB_USER,
            "POSTGRES_PASSWORD": DB_PASSWORD,
            "POSTGRES_DB": DB_NAME,
        },
        "rest-proxy": {},
    }


def rest_proxy_command(kafka: str = KAFKA_INTERNAL, registry: str = REGISTRY_INTERNAL) -> list[str]:
    return [
        "python", "-m", "cta.rest_proxy", "--host", "0.0.0.0", "--port", str(PORTS["rest-proxy"]),
        "--bootstrap-servers", kafka, "--schema-registry-url", registry,
    ]  # fmt: skip


def _http_check(port: int, path: str) -> list[str]:
    """A healthcheck for the app image (no curl there; Python is)."""
    code = f"import urllib.request as u; u.urlopen('http://127.0.0.1:{port}{path}', timeout=4)"
    return ["CMD", "python", "-c", code]


def endpoints(
    host: str, kafka_bootstrap: str, ports: dict[str, int], ksql_url: str = ""
) -> dict[str, str]:
    """The ``CTA_*`` settings for a client on the host, given the published ports."""
    return {
        "CTA_BACKEND": "kafka",
        "CTA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CTA_SCHEMA_REGISTRY_URL": f"http://{host}:{ports['registry']}{CCOMPAT_PATH}",
        "CTA_REST_PROXY_URL": f"http://{host}:{ports['rest-proxy']}",
        "CTA_CONNECT_URL": f"http://{host}:{ports['connect']}",
        # Empty: the in-process KSQL engine over the real topics (as on the native stack).
        "CTA_KSQL_URL": ksql_url,
        "CTA_DATABASE_URL": f"postgresql://{DB_USER}:{DB_PASSWORD}@{host}:{ports['postgres']}/{DB_NAME}",
        # Connect reaches Postgres inside the network.
        "CTA_CONNECT_DATABASE_HOST": "postgres",
        "CTA_CONNECT_DATABASE_PORT": str(PORTS["postgres"]),
    }


def with_dependencies(only: Collection[str] | None) -> list[str]:
    """``only`` and what it needs, in start order (None: everything)."""
    if only is None:
        return list(ORDER)
    unknown = set(only) - set(ORDER)
    if unknown:
        raise ValueError(f"unknown services: {sorted(unknown)}; known: {ORDER}")
    wanted = set(only)
    for name in list(wanted):
        wanted.update(NEEDS[name])
    return [name for name in ORDER if name in wanted]


@dataclass
class ContainerStack:
    """Starts the containers in dependency order; ``stop()`` removes them and the network.
    ``only`` names the services wanted (their dependencies come along)."""

    startup_timeout: float = 240.0
    only: Collection[str] | None = None
    # Each container's log is kept as LOGS_DIR/<logs_prefix><service>.log: stacks side by side
    # (a test's private one beside the session's) give theirs a prefix of their own.
    logs_prefix: str = ""
    _containers: dict[str, Any] = field(default_factory=dict)
    _network: Any = None
    _kafka_port: int = 0

    def start(self) -> dict[str, str]:
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.network import Network

        names = with_dependencies(self.only)
        missing = missing_images(importlib.import_module("docker").from_env(), names)
        if missing:
            raise ContainerFailed(
                f"images missing: {', '.join(missing)}: build them with "
                "`python -m cta.images build` (see the README's Docker section)"
            )
        self._network = Network().create()
        ready: set[str] = set()
        try:
            environment = service_environment()
            # Kafka advertises the host port it is published on, so that port is chosen here
            # (free now, on loopback) and kept across a restart of the container.
            (self._kafka_port,) = free_ports(1)
            for name in names:
                container = DockerContainer(IMAGES[name]).with_envs(**environment[name])
                container.with_network(self._network).with_network_aliases(name)
                # Published on loopback only: (address, port), None for any free port.
                published: dict[str, Any] = container.ports
                if name == "kafka":
                    advertised = f"INTERNAL://{KAFKA_INTERNAL},HOST://127.0.0.1:{self._kafka_port}"
                    container.with_env("KAFKA_ADVERTISED_LISTENERS", advertised)
                    published[f"{KAFKA_HOST_LISTENER}/tcp"] = ("127.0.0.1", self._kafka_port)
                else:
                    published[f"{PORTS[name]}/tcp"] = ("127.0.0.1", None)
                if name == "rest-proxy":
                    container.with_command(rest_proxy_command())
                    health = _http_check(PORTS[name], "/topics")
                    container.with_kwargs(
                        healthcheck={"test": health, "interval": _SECOND_NS, "retries": 120}
                    )
                # Services that need nothing from each other start together.
                for dependency in NEEDS[name]:
                    self._wait_once(dependency, ready)
                self._containers[name] = container
                container.start()
            for name in names:
                self._wait_once(name, ready)
        except BaseException:
            self.stop()
            raise
        return self.endpoints()

    def endpoints(self) -> dict[str, str]:
        ports = {name: self.published_port(name) for name in self._containers if name in PORTS}
        ports = {**dict.fromkeys(PORTS, 0), **ports}
        return endpoints("127.0.0.1", f"127.0.0.1:{self._kafka_port}", ports)

    def published_port(self, name: str) -> int:
        """The host port the engine published ``name``'s service port on (read back)."""
        wrapped = self._containers[name].get_wrapped_container()
        wrapped.reload()
        port = KAFKA_HOST_LISTENER if name == "kafka" else PORTS[name]
        bindings = wrapped.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"]
        return int(bindings[0]["HostPort"])

    def logs(self, name: str, tail: int = LOG_TAIL) -> str:
        return self.logs_of(self._containers[name], tail)

    @staticmethod
    def logs_of(container: Any, tail: int | None) -> str:
        wrapped = container.get_wrapped_container()
        raw = wrapped.logs() if tail is None else wrapped.logs(tail=tail)
        return str(raw.decode("utf-8", "replace"))

    def _wait_once(self, name: str, ready: set[str]) -> None:
        if name not in ready:
            self.wait_healthy(name)
            ready.add(name)

    def wait_healthy(self, name: str) -> None:
        """Until the container's own healthcheck passes; an exit, an unhealthy verdict or the
        timeout raises ContainerFailed with the log's tail."""
        wrapped = self._containers[name].get_wrapped_container()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            wrapped.reload()
            state = wrapped.attrs["State"]
            health = (state.get("Health") or {}).get("Status")
            if health == "healthy":
                return
            if state.get("Status") in ("exited", "dead"):
                problem = f"{state.get('Status')} (exit code {state.get('ExitCode')})"
                break
            if health == "unhealthy":
                problem = "unhealthy"
                break
            if time.monotonic() > deadline:
                problem = f"not healthy after {self.startup_timeout:.0f} s"
                break
            time.sleep(0.5)
        raise ContainerFailed(
            f"container {name} ({IMAGES[name]}) {problem}; its log's last lines:\n"
            + self.logs(name)
        )

    def stop_service(self, name: str, timeout: int = 30) -> None:
        """Stop one container (SIGTERM; its data stays in it) without removing it."""
        self._containers[name].get_wrapped_container().stop(timeout=timeout)

    def start_service(self, name: str) -> None:
        """Start a stopped container again, on the same published ports, and wait for it."""
        self._containers[name].get_wrapped_container().start()
        self.wait_healthy(name)

    def stop(self) -> None:
        """Remove the containers (dependents first) and the network; each container's log is
        kept in LOGS_DIR first, so a failure seen later can still be read."""
        while self._containers:
            name, container = self._containers.popitem()
            try:
                LOGS_DIR.mkdir(parents=True, exist_ok=True)
                log_file = LOGS_DIR / f"{self.logs_prefix}{name}.log"
                log_file.write_text(self.logs_of(container, None), "utf-8")
            except Exception:  # a container that never started has no log to keep
                pass
            try:
                container.stop()
            except Exception:  # already gone: removing the rest matters more
                continue
        if self._network is not None:
            self._network.remove()
            self._network = None
