"""PostgresStationDatabase beyond the port's contract (tests/contracts/): the Debezium-ready
schema and retries. Set CTA_DATABASE_URL to run it against a real server.

Each test gets a scratch database (created and dropped here), so it never touches the real
``stations`` table; the role in CTA_DATABASE_URL needs CREATEDB.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

import pytest

psycopg = pytest.importorskip("psycopg")

from cta.kafka.stations_db import DatabaseUnavailable, PostgresStationDatabase  # noqa: E402
from tests.samples import CLARK_LAKE_BLUE, CLARK_LAKE_GREEN  # noqa: E402

BLUE, GREEN = CLARK_LAKE_BLUE, CLARK_LAKE_GREEN


@pytest.fixture
def dsn() -> Iterator[str]:
    server = os.environ.get("CTA_DATABASE_URL")
    if not server:
        pytest.skip("CTA_DATABASE_URL not set: no PostgreSQL server to test against")
    try:
        admin = psycopg.connect(server, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        # Configured but down is a failure: a skip would hide a broken stack.
        pytest.fail(f"CTA_DATABASE_URL is set but PostgreSQL is not reachable: {exc}")
    name = f"cta_test_{uuid.uuid4().hex[:10]}"
    try:
        admin.execute(f"CREATE DATABASE {name}".encode())
    except psycopg.Error as exc:
        admin.close()
        pytest.fail(f"CTA_DATABASE_URL's role cannot create a scratch database: {exc}")
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)".encode())
        admin.close()


def test_schema_is_idempotent_and_ready_for_debezium(dsn: str) -> None:
    db = PostgresStationDatabase(dsn)
    db.create_schema()
    db.create_schema()
    with psycopg.connect(dsn) as conn:
        identity = conn.execute(
            "SELECT relreplident FROM pg_class WHERE relname = 'stations'"
        ).fetchone()
        published = conn.execute(
            "SELECT tablename FROM pg_publication_tables WHERE pubname = 'cta_stations'"
        ).fetchall()
    assert identity == ("f",)
    assert published == [("stations",)]


def test_unreachable_server_is_retried_then_reported() -> None:
    waits: list[float] = []
    db = PostgresStationDatabase(
        "postgresql://nobody@127.0.0.1:1/none", attempts=3, backoff=0.1, sleep=waits.append
    )
    with pytest.raises(DatabaseUnavailable, match="after 3 attempts"):
        db.rows()
    assert waits == [0.1, 0.2]


def test_a_table_from_before_the_whole_l_gains_its_columns_and_keeps_its_rows(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            b"CREATE TABLE stations (stop_id INTEGER PRIMARY KEY, direction_id VARCHAR(1) NOT NULL,"
            b" stop_name VARCHAR(70) NOT NULL, station_name VARCHAR(70) NOT NULL,"
            b" station_descriptive_name VARCHAR(200) NOT NULL, station_id INTEGER NOT NULL,"
            b' "order" INTEGER, red BOOLEAN NOT NULL, blue BOOLEAN NOT NULL,'
            b" green BOOLEAN NOT NULL)"
        )
        conn.execute(
            b"INSERT INTO stations VALUES (30374, 'S', 'Clark/Lake (Forest Pk-bound)',"
            b" 'Clark/Lake', 'Clark/Lake (Blue Line)', 40380, 16, false, true, false)"
        )
    db = PostgresStationDatabase(dsn)
    db.create_schema()
    (old,) = db.rows()
    assert (old.stop_id, old.lines, old.ada, old.latitude) == (30374, "", None, None)
    whole_l = replace(
        BLUE, lines="blue brown green", ada=True, latitude=41.885737, longitude=-87.630886
    )
    db.load([whole_l])
    assert [r for r in db.rows() if r.stop_id == whole_l.stop_id] == [whole_l]
