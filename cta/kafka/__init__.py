"""Real adapters: confluent-kafka, an HTTP schema registry, Connect/ksqlDB/REST Proxy clients and
Postgres, wired by ``kafka_backend(settings)``.

Sibling packages are imported when the backend is built, so a missing one fails with a message
that names it rather than breaking ``import cta.kafka``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests

from cta import topics
from cta.config import Settings
from cta.ports import Backend, EventLog, KsqlAdmin, SchemaRegistry, TopicAdmin
from cta.runtime import Pump

if TYPE_CHECKING:
    from cta.ksql.engine import KsqlEngine

# Never resolved: the in-process transport answers for this base.
IN_PROCESS_KSQL_BASE = "http://ksqldb.in-process"


class BackendUnavailable(RuntimeError):
    """A module the kafka backend needs is missing or broken."""


def _ksql(
    settings: Settings, log: EventLog, admin: TopicAdmin, registry: SchemaRegistry
) -> tuple[KsqlAdmin, KsqlEngine | None]:
    """ksqlDB's client when a server is configured; otherwise the in-process engine attached to
    the real topics, behind the same client (returned second, so its queries can be pumped)."""
    try:
        from cta.ksql.client import KsqlClient
    except ImportError as exc:
        raise BackendUnavailable(f"kafka backend needs cta.ksql.client: {exc}") from exc
    if settings.ksql_url:
        return KsqlClient(settings.ksql_url), None
    try:
        from cta.http import in_process_session
        from cta.ksql.app import KsqlApp
        from cta.ksql.engine import KsqlEngine
    except ImportError as exc:
        raise BackendUnavailable(f"in-process KSQL needs cta.ksql.engine/app: {exc}") from exc
    engine = KsqlEngine(log, admin, registry)
    session = in_process_session(IN_PROCESS_KSQL_BASE, KsqlApp(engine))
    return KsqlClient(IN_PROCESS_KSQL_BASE, session=session), engine


def kafka_backend(settings: Settings) -> Backend:
    from cta.kafka.admin import KafkaTopicAdmin
    from cta.kafka.event_log import KafkaEventLog
    from cta.kafka.registry import HttpSchemaRegistry

    try:
        from cta.connect.client import ConnectClient
        from cta.kafka.stations_db import PostgresStationDatabase
        from cta.rest_proxy.client import RestProxyClient
    except ImportError as exc:
        raise BackendUnavailable(f"kafka backend cannot import a client: {exc}") from exc

    log = KafkaEventLog(settings.bootstrap_servers)
    admin = KafkaTopicAdmin(settings.bootstrap_servers)
    registry = HttpSchemaRegistry(settings.schema_registry_url)
    ksql, engine = _ksql(settings, log, admin, registry)

    def pumps() -> list[Pump]:
        return list(engine.pumps()) if engine is not None else []

    worker: list[Any] = []  # the Faust worker, once started

    def start_processors() -> None:
        """The stations processor is the Faust worker, in a process of its own."""
        if not worker:
            from cta.kafka.faust_worker import FaustWorker

            worker.append(FaustWorker(settings).start())
            worker[0].wait_ready(timeout=120)

    def close() -> None:
        """Stop the Faust worker and leave the KSQL queries' consumer groups."""
        while worker:
            worker.pop().stop()
        if engine is not None:
            engine.close()

    extras: dict[str, Any] = {
        "pumps": pumps,
        "settings": settings,
        "start_processors": start_processors,
        "close": close,
        # settle: the Faust group's lag, and quiet rounds long enough for a network fetch
        "remote_groups": {"stations-stream": (topics.STATIONS_RAW,)},
        "settle_poll": 0.2,
        "quiet_rounds": 3,
        "rest_proxy_http": (settings.rest_proxy_url.rstrip("/"), requests.Session()),
    }
    if engine is not None:
        extras["ksql_engine"] = engine
    return Backend(
        name="kafka",
        log=log,
        admin=admin,
        registry=registry,
        rest_proxy=RestProxyClient(settings.rest_proxy_url),
        connect=ConnectClient(settings.connect_url),
        ksql=ksql,
        stations_db=PostgresStationDatabase(settings.database_url),
        extras=extras,
    )


__all__ = ["BackendUnavailable", "kafka_backend"]
