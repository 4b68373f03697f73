"""Settings from environment variables, with local defaults (nothing else reads os.environ)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Settings:
    backend: str = "memory"
    bootstrap_servers: str = "127.0.0.1:9092"
    schema_registry_url: str = "http://127.0.0.1:8081"
    rest_proxy_url: str = "http://127.0.0.1:8082"
    connect_url: str = "http://127.0.0.1:8083"
    # Empty: no ksqlDB server; the in-process KSQL engine runs the statement files instead.
    ksql_url: str = ""
    database_url: str = "postgresql://cta_admin:chicago@127.0.0.1:5432/cta"
    # The database as Kafka Connect reaches it (inside compose: the service name).
    connect_database_host: str = "127.0.0.1"
    connect_database_port: int = 5432
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = 8888
    # l: the whole 'L' (eight lines); seed: the original three lines. Month: YYYY-MM of the
    # ridership that drives the turnstiles (empty: the latest in the data; l only).
    network: str = "l"
    month: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()

        def get(name: str, default: str) -> str:
            return env.get(f"CTA_{name.upper()}", default)

        return cls(
            backend=get("backend", defaults.backend),
            bootstrap_servers=get("bootstrap_servers", defaults.bootstrap_servers),
            schema_registry_url=get("schema_registry_url", defaults.schema_registry_url),
            rest_proxy_url=get("rest_proxy_url", defaults.rest_proxy_url),
            connect_url=get("connect_url", defaults.connect_url),
            ksql_url=get("ksql_url", defaults.ksql_url),
            database_url=get("database_url", defaults.database_url),
            connect_database_host=get("connect_database_host", defaults.connect_database_host),
            connect_database_port=int(
                get("connect_database_port", str(defaults.connect_database_port))
            ),
            dashboard_host=get("dashboard_host", defaults.dashboard_host),
            dashboard_port=int(get("dashboard_port", str(defaults.dashboard_port))),
            network=get("network", defaults.network),
            month=get("month", defaults.month),
        )
