"""Wiring of the memory backend: the whole stack in this process, behind the same ports and
clients.

HTTP services are reached through their real requests-based clients with an in-process
transport, so the Connect, ksqlDB and REST Proxy contracts are exercised here too. Everything
runs as pumps in this process; nothing runs elsewhere.
"""

from __future__ import annotations

from cta.backend import IN_MEMORY, Backend, HttpEndpoint
from cta.config import Settings
from cta.connect.client import ConnectClient
from cta.connect.emulator import ConnectApp
from cta.http import in_process_session
from cta.ksql.app import KsqlApp
from cta.ksql.client import KsqlClient
from cta.ksql.engine import KsqlEngine
from cta.memory.broker import MemoryBroker
from cta.memory.registry import MemorySchemaRegistry
from cta.memory.stations_db import MemoryStationDatabase
from cta.processors.stations import StationsProcessor
from cta.rest_proxy.app import RestProxyApp
from cta.rest_proxy.client import RestProxyClient
from cta.runtime import Pump

# Never resolved: the in-process transport answers for these bases.
REST_PROXY_BASE = "http://rest-proxy.memory"
CONNECT_BASE = "http://connect.memory"
KSQL_BASE = "http://ksqldb.memory"


def memory_backend(settings: Settings | None = None) -> Backend:
    """A fresh, empty in-process stack (``settings`` is accepted for symmetry; nothing in it
    applies)."""
    broker = MemoryBroker()
    registry = MemorySchemaRegistry()
    stations_db = MemoryStationDatabase()
    connect_app = ConnectApp(broker, broker, stations_db)
    engine = KsqlEngine(broker, broker, registry)
    stations = StationsProcessor(broker)
    rest_proxy_session = in_process_session(REST_PROXY_BASE, RestProxyApp(broker, registry, broker))

    def pumps() -> list[Pump]:
        return [*connect_app.pumps(), stations, *engine.pumps()]

    return Backend(
        name="memory",
        log=broker,
        admin=broker,
        registry=registry,
        rest_proxy=RestProxyClient(REST_PROXY_BASE, session=rest_proxy_session),
        connect=ConnectClient(CONNECT_BASE, session=in_process_session(CONNECT_BASE, connect_app)),
        ksql=KsqlClient(KSQL_BASE, session=in_process_session(KSQL_BASE, KsqlApp(engine))),
        stations_db=stations_db,
        rest_proxy_http=HttpEndpoint(REST_PROXY_BASE, rest_proxy_session),
        pumps=pumps,
        settle=IN_MEMORY,
        stations_processor=stations,
        ksql_engine=engine,
        closers=[connect_app.close, stations.close, engine.close],
    )
