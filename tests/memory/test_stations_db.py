from dataclasses import replace

from cta.memory.stations_db import MemoryStationDatabase
from tests.samples import CLARK_LAKE_BLUE, CLARK_LAKE_GREEN


def test_load_inserts_and_loading_again_changes_nothing() -> None:
    db = MemoryStationDatabase()
    assert db.load([CLARK_LAKE_GREEN, CLARK_LAKE_BLUE]) == 2
    assert db.load([CLARK_LAKE_GREEN, CLARK_LAKE_BLUE]) == 0
    assert db.rows() == [CLARK_LAKE_GREEN, CLARK_LAKE_BLUE]  # ordered by stop_id
    assert [c.op for c in db.changes()] == ["insert", "insert"]


def test_change_feed_records_update_and_delete_with_previous_row() -> None:
    db = MemoryStationDatabase()
    db.load([CLARK_LAKE_BLUE])
    renamed = replace(CLARK_LAKE_BLUE, station_name="Clark & Lake")
    db.upsert(renamed)
    db.delete(CLARK_LAKE_BLUE.stop_id)
    db.delete(CLARK_LAKE_BLUE.stop_id)  # already gone: no change

    changes = db.changes()
    assert [(c.position, c.op) for c in changes] == [(1, "insert"), (2, "update"), (3, "delete")]
    assert changes[1].row == renamed and changes[1].before == CLARK_LAKE_BLUE
    assert changes[2].row is None and changes[2].before == renamed
    assert changes[2].stop_id == CLARK_LAKE_BLUE.stop_id
    assert db.rows() == []


def test_changes_after_a_position_and_snapshot_position() -> None:
    db = MemoryStationDatabase()
    db.load([CLARK_LAKE_BLUE])
    rows, position = db.snapshot()
    db.upsert(CLARK_LAKE_GREEN)
    assert rows == [CLARK_LAKE_BLUE] and position == 1
    assert [c.row for c in db.changes(after=position)] == [CLARK_LAKE_GREEN]
    assert db.changes(after=db.position) == []
