"""The stations processor is exact by idempotence, not by transactions.

Its crash window is the one the KSQL engine had: table writes acknowledged, raw offsets not yet
committed; a restarted worker (Faust's or the in-process one, both run ``decide``) then reads
those raw rows again. That is harmless here, unlike a count: each raw row maps to table writes
that are a function of the row alone (``transform_stations``: key ``line:station_id``, value
from the row's columns), the raw topic has one partition, so a replay re-applies a suffix of
the same upserts in the same order, and the last write per key is the same as without it. The
table topic is compacted, and the board keeps the latest value per key: it ends the same.
(Dead letters of a replayed bad row are written again: the dead-letter topic holds only bad
rows, possibly one more time each.) This test replays and shows the table unchanged.
"""

from __future__ import annotations

import json

from cta.data import load_station_rows
from cta.memory.broker import MemoryBroker
from cta.processors.stations import GROUP_ID, StationsProcessor
from cta.runtime import drain
from cta.testing import InProcessStack
from cta.topics import DEAD_LETTERS, STATIONS_RAW, STATIONS_TABLE


def produce_raw(broker: MemoryBroker) -> int:
    """Every seed row, then renames of a few stations (later rows win), then one bad row."""
    producer = broker.producer()
    rows = [row.as_json() for row in load_station_rows()]
    renamed = [{**row, "station_name": f"{row['station_name']} (renamed)"} for row in rows[:10]]
    for row in [*rows, *renamed]:
        producer.produce(
            STATIONS_RAW,
            json.dumps(row).encode(),
            key=json.dumps({"stop_id": row["stop_id"]}).encode(),
        )
    producer.produce(STATIONS_RAW, b"not json", key=b'{"stop_id": 1}')
    producer.flush()
    producer.close()
    return len(rows) + len(renamed) + 1


def table(broker: MemoryBroker) -> dict[bytes, bytes | None]:
    return {r.key: r.value for r in broker.records(STATIONS_TABLE) if r.key is not None}


def test_replaying_raw_rows_leaves_the_stations_table_unchanged() -> None:
    broker = InProcessStack.create().broker
    produced = produce_raw(broker)
    first = StationsProcessor(broker)
    drain([first])
    first.close()
    before = table(broker)
    assert before and all(value is not None for value in before.values())
    assert any(b"(renamed)" in (value or b"") for value in before.values())

    # The crash: nothing of the second half was committed, so a fresh worker (an empty stop
    # index, as after a restart) reads it again; then a replay of everything, from offset 0.
    for replay_from in (produced // 2, 0):
        with broker.lock:
            broker.commit_offsets(GROUP_ID, [((STATIONS_RAW, 0), replay_from)])
        restarted = StationsProcessor(broker)
        assert drain([restarted]) == produced - replay_from
        restarted.close()
        assert table(broker) == before
    dead = {(r.key, r.value) for r in broker.records(DEAD_LETTERS)}
    assert dead == {(b'{"stop_id": 1}', b"not json")}
