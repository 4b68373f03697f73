"""Wiring of the kafka backend: confluent-kafka, an HTTP schema registry, the Connect, ksqlDB
and REST Proxy clients, and PostgreSQL, on the servers ``settings`` names.

Where no ksqlDB server is configured (``CTA_KSQL_URL`` empty: the native stack), the in-process
KSQL engine runs the statement files over the real topics, behind the same client, and its
queries are this backend's pumps. The stations processor is the Faust worker, a process of its
own (``out_of_process``); its consumer group tells when it has caught up. Building the backend
opens no connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import requests

from cta import topics
from cta.backend import OVER_A_NETWORK, Backend, HttpEndpoint
from cta.config import Settings
from cta.connect.client import ConnectClient
from cta.kafka.admin import KafkaTopicAdmin
from cta.kafka.event_log import KafkaEventLog
from cta.kafka.registry import HttpSchemaRegistry
from cta.kafka.stations_db import PostgresStationDatabase
from cta.ksql.client import KsqlClient
from cta.ports import EventLog, KsqlAdmin, SchemaRegistry, TopicAdmin
from cta.rest_proxy.client import RestProxyClient
from cta.runtime import Pump

if TYPE_CHECKING:
    from cta.kafka.faust_worker import FaustWorker
    from cta.ksql.engine import KsqlEngine

# Never resolved: the in-process transport answers for this base.
IN_PROCESS_KSQL_BASE = "http://ksqldb.in-process"
# How long the Faust worker may take to join its group and catch up (a cold JVM-less start on a
# busy machine takes tens of seconds).
FAUST_READY_TIMEOUT = 120.0


class FaustStationsWorker:
    """The stations processor as the Faust worker process (``OutOfProcess``)."""

    name = "faust stations worker"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._worker: FaustWorker | None = None

    @property
    def groups(self) -> dict[str, tuple[str, ...]]:
        from cta.kafka.faust_worker import APP_ID

        return {APP_ID: (topics.STATIONS_RAW,)}

    def start(self) -> None:
        if self._worker is not None:
            return
        from cta.kafka.faust_worker import FaustWorker

        self._worker = FaustWorker(self._settings).start()
        self._worker.wait_ready(timeout=FAUST_READY_TIMEOUT)

    def stop(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()


def _ksql(
    settings: Settings, log: EventLog, admin: TopicAdmin, registry: SchemaRegistry
) -> tuple[KsqlAdmin, KsqlEngine | None]:
    """ksqlDB's client when a server is configured; otherwise the in-process engine attached to
    the real topics, behind the same client (returned second, so its queries can be pumped)."""
    if settings.ksql_url:
        return KsqlClient(settings.ksql_url), None
    from cta.http import in_process_session
    from cta.ksql.app import KsqlApp
    from cta.ksql.engine import KsqlEngine

    engine = KsqlEngine(log, admin, registry)
    session = in_process_session(IN_PROCESS_KSQL_BASE, KsqlApp(engine))
    return KsqlClient(IN_PROCESS_KSQL_BASE, session=session), engine


def kafka_backend(settings: Settings) -> Backend:
    log = KafkaEventLog(settings.bootstrap_servers)
    admin = KafkaTopicAdmin(settings.bootstrap_servers)
    registry = HttpSchemaRegistry(settings.schema_registry_url)
    ksql, engine = _ksql(settings, log, admin, registry)

    def pumps() -> list[Pump]:
        return list(engine.pumps()) if engine is not None else []

    # Closed last registered first: the KSQL queries leave their groups, then the admin closes.
    closers = [admin.close]
    if engine is not None:
        closers.append(engine.close)
    return Backend(
        name="kafka",
        log=log,
        admin=admin,
        registry=registry,
        rest_proxy=RestProxyClient(settings.rest_proxy_url),
        connect=ConnectClient(settings.connect_url),
        ksql=ksql,
        stations_db=PostgresStationDatabase(settings.database_url),
        rest_proxy_http=HttpEndpoint(settings.rest_proxy_url.rstrip("/"), requests.Session()),
        pumps=pumps,
        out_of_process=(FaustStationsWorker(settings),),
        settle=OVER_A_NETWORK,
        ksql_engine=engine,
        closers=closers,
    )


__all__ = ["FaustStationsWorker", "kafka_backend"]
