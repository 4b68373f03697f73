"""The Debezium PostgreSQL source connector that copies ``stations`` into Kafka.

Debezium writes change events for ``public.stations`` to ``<topic.prefix>.public.stations``;
``unwrap`` (ExtractNewRecordState) flattens each event to the row after the change and turns a
delete into one real tombstone (``delete-to-tombstone``), and ``route`` (RegexRouter) renames the
topic to ``STATIONS_RAW``. With JsonConverter and schemas disabled the key is ``{"stop_id": N}``
and the value the flat row.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from cta.config import Settings
from cta.topics import STATIONS_RAW

CONNECTOR_NAME = "stations"
DEBEZIUM_POSTGRES = "io.debezium.connector.postgresql.PostgresConnector"
EXTRACT_NEW_RECORD_STATE = "io.debezium.transforms.ExtractNewRecordState"
REGEX_ROUTER = "org.apache.kafka.connect.transforms.RegexRouter"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
TOPIC_PREFIX = "cta"
TABLE = "public.stations"
SLOT_NAME = "cta_stations"
PUBLICATION_NAME = "cta_stations"


def debezium_topic(prefix: str, table: str = TABLE) -> str:
    """The topic Debezium names for a table: ``<prefix>.<schema>.<table>``."""
    return f"{prefix}.{table}"


def stations_connector_config(settings: Settings) -> dict[str, str]:
    dsn = urlsplit(settings.database_url)
    dbname = unquote(dsn.path.lstrip("/"))
    if not (dsn.username and dbname):
        raise ValueError(
            f"CTA_DATABASE_URL must name a user and a database: {settings.database_url!r}"
        )
    return {
        "connector.class": DEBEZIUM_POSTGRES,
        "tasks.max": "1",
        "plugin.name": "pgoutput",
        "database.hostname": settings.connect_database_host,
        "database.port": str(settings.connect_database_port),
        "database.user": unquote(dsn.username),
        "database.password": unquote(dsn.password or ""),
        "database.dbname": dbname,
        "topic.prefix": TOPIC_PREFIX,
        "table.include.list": TABLE,
        "slot.name": SLOT_NAME,
        "publication.name": PUBLICATION_NAME,
        "publication.autocreate.mode": "filtered",
        # The table is copied once, then followed through the replication slot.
        "snapshot.mode": "initial",
        "tombstones.on.delete": "true",
        "key.converter": JSON_CONVERTER,
        "key.converter.schemas.enable": "false",
        "value.converter": JSON_CONVERTER,
        "value.converter.schemas.enable": "false",
        "transforms": "unwrap,route",
        "transforms.unwrap.type": EXTRACT_NEW_RECORD_STATE,
        # A delete becomes one real tombstone (no value, no schema), so compaction forgets the
        # stop. The default, "tombstone", keeps the value schema and JsonConverter then writes
        # the JSON text null instead (seen on Debezium 3.7; see cta.connect.emulator).
        "transforms.unwrap.delete.tombstone.handling.mode": "delete-to-tombstone",
        "transforms.route.type": REGEX_ROUTER,
        "transforms.route.regex": re.escape(debezium_topic(TOPIC_PREFIX)),
        "transforms.route.replacement": STATIONS_RAW,
    }
