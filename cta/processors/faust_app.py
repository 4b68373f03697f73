"""The Faust stations processor: STATIONS_RAW -> a Table whose changelog IS STATIONS_TABLE.

Run it with ``faust -A cta.processors.faust_app worker -l info`` (broker from
CTA_BOOTSTRAP_SERVERS). It applies the same ``transform_station`` and ``StationTable`` as the
in-process ``StationsProcessor``, and its Record carries the same namespace, so both write the
same table bytes (see ``cta.processors.stations`` for the key choice and delete handling).

The raw topic is read as bytes and decoded here rather than by Faust's json codec: a row that is
not JSON then reaches the dead-letter topic with its original bytes instead of being skipped by
the codec with only a log line.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

import faust

from cta.config import Settings
from cta.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from cta.metrics import process_metrics
from cta.processors.stations import (
    GROUP_ID,
    TABLE_VALUE_NAMESPACE,
    StationsStats,
    StationTable,
    TransformedStation,
    dead_letter_headers,
    decide,
)
from cta.topics import DEAD_LETTERS, STATIONS_RAW, STATIONS_TABLE

log = logging.getLogger(__name__)


class TransformedStationRecord(faust.Record, serializer="json", namespace=TABLE_VALUE_NAMESPACE):
    station_id: int
    station_name: str
    order: int
    line: str
    # The whole 'L' columns, in TransformedStation's order (same bytes as the in-process runner).
    lines: str = ""
    ada: Optional[bool] = None  # noqa: UP045 - faust reads the annotation at runtime
    latitude: Optional[float] = None  # noqa: UP045
    longitude: Optional[float] = None  # noqa: UP045


def _record(station: TransformedStation) -> TransformedStationRecord:
    return TransformedStationRecord(
        station_id=station.station_id,
        station_name=station.station_name,
        order=station.order,
        line=station.line,
        lines=station.lines,
        ada=station.ada,
        latitude=station.latitude,
        longitude=station.longitude,
    )


def create_app(broker: str, *, store: str = "memory://") -> faust.App:
    """The ``stations-stream`` app; ``broker`` is ``host:port[,...]`` or a ``kafka://`` URL."""
    url = broker if "://" in broker else ";".join(f"kafka://{b}" for b in broker.split(","))
    app = faust.App(
        GROUP_ID,
        broker=url,
        store=store,
        topic_partitions=1,
        # The pipeline creates its topics (STATIONS_TABLE compacted); Faust declares none.
        topic_allow_declare=False,
        # A worker that was SIGKILLed leaves a dead member behind: with Faust's 60 s default the
        # restarted worker waits that long for its partitions (cta.supervisor restarts it).
        broker_session_timeout=10.0,
    )
    raw_topic = app.topic(
        STATIONS_RAW, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    dead_letters = app.topic(DEAD_LETTERS, key_serializer="raw", value_serializer="raw")
    changelog = app.topic(
        STATIONS_TABLE,
        partitions=1,
        compacting=True,
        key_type=str,
        value_type=TransformedStationRecord,
        key_serializer="json",
        value_serializer="json",
    )
    table = app.Table(
        "stations",
        default=None,
        partitions=1,
        changelog_topic=changelog,
        # Faust picks the serializers from the types: json for str keys and for the Record.
        key_type=str,
        value_type=TransformedStationRecord,
    )
    index = StationTable()
    stats = StationsStats()
    metrics = process_metrics()

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        # On the worker's own web server (``--web-port``, 6066 by default). aiohttp refuses a
        # charset in ``content_type``, so the full type goes in as a header.
        return web.bytes(metrics.exposition(), headers={"Content-Type": METRICS_CONTENT_TYPE})

    @app.agent(raw_topic)
    async def stations(stream: Any) -> Any:
        async for event in stream.events():
            stats.consumed += 1
            message = event.message
            metrics.records_in.labels(processor=GROUP_ID, topic=str(message.topic)).inc()
            outcome = decide(index, event.key, event.value)
            if outcome.dead_letter_reason is not None:
                stats.dead_lettered += 1
                metrics.dead_letter(GROUP_ID, outcome.dead_letter_reason)
                metrics.records_out.labels(processor=GROUP_ID, topic=DEAD_LETTERS).inc()
                log.warning(
                    "dead-lettering offset %s: %s", message.offset, outcome.dead_letter_reason
                )
                await dead_letters.send(
                    key=event.key,
                    value=event.value,
                    headers=list(
                        dead_letter_headers(
                            str(message.topic),
                            message.partition,
                            message.offset,
                            outcome.dead_letter_reason,
                        )
                    ),
                )
            stats.dropped += outcome.dropped
            stats.unknown_deletes += outcome.unknown_delete
            for key, station in outcome.writes:
                if station is None:
                    if key in table:
                        del table[key]
                    else:  # e.g. not recovered into this store: still tell the board
                        await changelog.send(key=key, value=None, value_serializer="raw")
                    stats.deleted += 1
                else:
                    table[key] = _record(station)
                    stats.written += 1
            if outcome.writes:
                metrics.records_out.labels(processor=GROUP_ID, topic=STATIONS_TABLE).inc(
                    len(outcome.writes)
                )
            # One result per event, dead letters included: callers (and test_context) count on it.
            yield outcome

    app.stations_agent = stations  # type: ignore[attr-defined]
    app.stations_table = table  # type: ignore[attr-defined]
    app.stations_stats = stats  # type: ignore[attr-defined]
    app.dead_letters_topic = dead_letters  # type: ignore[attr-defined]
    return app


def __getattr__(name: str) -> faust.App:
    # ``faust -A cta.processors.faust_app`` looks up ``app``: built on first use so that
    # importing this module (tests, type checks) needs no broker settings.
    if name == "app":
        built = create_app(Settings.from_env().bootstrap_servers)
        globals()["app"] = built
        return built
    raise AttributeError(name)
