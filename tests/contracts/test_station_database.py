"""The StationDatabase port's contract: the ``stations`` table, loaded idempotently and changed
row by row, in memory and in PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from cta.ports import StationDatabase
from tests.samples import CLARK_LAKE_BLUE as BLUE
from tests.samples import CLARK_LAKE_GREEN as GREEN


def test_create_schema_twice_is_fine_and_the_table_starts_empty(
    station_database: StationDatabase,
) -> None:
    station_database.create_schema()
    station_database.create_schema()
    assert station_database.rows() == []


def test_load_upserts_by_stop_id_and_loading_twice_writes_nothing(
    station_database: StationDatabase,
) -> None:
    station_database.create_schema()
    assert station_database.load([GREEN, BLUE, BLUE]) == 2
    assert station_database.load([GREEN, BLUE]) == 0
    moved = replace(BLUE, order=17)
    assert station_database.load([moved, GREEN]) == 1
    assert station_database.rows() == sorted([GREEN, moved], key=lambda r: r.stop_id)


def test_upsert_and_delete_single_rows(station_database: StationDatabase) -> None:
    station_database.create_schema()
    station_database.upsert(BLUE)
    renamed = replace(BLUE, station_name="Clark & Lake")
    station_database.upsert(renamed)
    station_database.delete(GREEN.stop_id)  # absent: nothing happens
    assert station_database.rows() == [renamed]
    station_database.delete(BLUE.stop_id)
    assert station_database.rows() == []
