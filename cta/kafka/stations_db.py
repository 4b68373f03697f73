"""The ``stations`` table in PostgreSQL (the StationDatabase port) with psycopg 3.

``load`` copies the rows into a temporary table and upserts them in one statement; a row whose
columns are all unchanged is not rewritten, so loading twice writes nothing and the CDC
connector sees no spurious updates. Connecting is retried with backoff; each failure is logged
and the last one is raised as ``DatabaseUnavailable``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial

import psycopg
from psycopg.rows import class_row

from cta import resources
from cta.config import Settings
from cta.ports import StationRow
from cta.retry import Backoff, retry

log = logging.getLogger(__name__)

SCHEMA_FILE = resources.sql_dir() / "stations.sql"
# The table's columns are StationRow's fields, in order.
COLUMNS = tuple(field.name for field in dataclasses.fields(StationRow))
_COLS = ", ".join(f'"{c}"' for c in COLUMNS)
_VALUE_COLS = [f'"{c}"' for c in COLUMNS if c != "stop_id"]
_UPSERT_FROM = (
    f"INSERT INTO stations ({_COLS}) SELECT {_COLS} FROM {{source}} "
    "ON CONFLICT (stop_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _VALUE_COLS)
    + f" WHERE ({', '.join(f'stations.{c}' for c in _VALUE_COLS)})"
    f" IS DISTINCT FROM ({', '.join(f'EXCLUDED.{c}' for c in _VALUE_COLS)})"
)


class DatabaseUnavailable(RuntimeError):
    pass


def _values(row: StationRow) -> tuple[object, ...]:
    return tuple(row.as_json()[column] for column in COLUMNS)


class PostgresStationDatabase:
    def __init__(
        self,
        dsn: str,
        *,
        attempts: int = 8,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        connect_timeout: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._dsn = dsn
        self._backoff = Backoff(attempts, backoff, max_backoff, sleep)
        self._connect_timeout = connect_timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> PostgresStationDatabase:
        return cls(settings.database_url)

    def create_schema(self) -> None:
        if not SCHEMA_FILE.exists():
            raise FileNotFoundError(f"schema script missing: {SCHEMA_FILE}")
        script = SCHEMA_FILE.read_text(encoding="utf-8")
        with self._connection() as conn:
            conn.execute(script.encode("utf-8"))

    def load(self, rows: Iterable[StationRow]) -> int:
        """Upsert rows by stop_id; returns how many were inserted or changed."""
        # One row per stop: ON CONFLICT refuses to touch a row twice in one statement.
        by_stop = {row.stop_id: row for row in rows}
        with self._connection() as conn, conn.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE stations_load (LIKE stations INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            with cur.copy(f"COPY stations_load ({_COLS}) FROM STDIN") as copy:
                for row in by_stop.values():
                    copy.write_row(_values(row))
            cur.execute(_UPSERT_FROM.format(source="stations_load").encode("utf-8"))
            written = cur.rowcount
        log.info("stations: %d of %d rows inserted or changed", written, len(by_stop))
        return written

    def upsert(self, row: StationRow) -> None:
        # Through the typed staging table, as ``load``: a VALUES list would type a NULL (the
        # seed's ada, latitude...) as text, which Postgres refuses for a boolean column.
        self.load([row])

    def delete(self, stop_id: int) -> None:
        with self._connection() as conn:
            conn.execute("DELETE FROM stations WHERE stop_id = %s", (stop_id,))

    def rows(self) -> list[StationRow]:
        with self._connection() as conn, conn.cursor(row_factory=class_row(StationRow)) as cur:
            cur.execute(f"SELECT {_COLS} FROM stations ORDER BY stop_id".encode())
            return cur.fetchall()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        """A connection in a transaction (committed on success), connecting with retries."""
        conn = self._connect()
        try:
            with conn.transaction():
                yield conn
        finally:
            conn.close()

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        connect = partial(psycopg.connect, self._dsn, connect_timeout=self._connect_timeout)
        try:
            return retry(
                connect,
                backoff=self._backoff,
                describe="PostgreSQL connect",
                log=log,
                retry_on=psycopg.OperationalError,
            )
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(
                f"PostgreSQL unreachable after {self._backoff.attempts} attempts: {exc}"
            ) from exc
