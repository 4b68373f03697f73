"""ConnectApp through the real ConnectClient, streaming the memory table to a MemoryBroker."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from cta.config import Settings
from cta.connect.client import ConnectClient, ConnectError, ConnectorFailed
from cta.connect.config import stations_connector_config
from cta.connect.emulator import ConnectApp
from cta.http import HttpRequest
from cta.memory.broker import MemoryBroker
from cta.memory.stations_db import MemoryStationDatabase
from cta.ports import StationRow
from cta.runtime import drain
from cta.testing import InProcessStack
from cta.topics import STATIONS_RAW
from tests.samples import CLARK_LAKE_BLUE, CLARK_LAKE_GREEN

BASE = "http://connect.memory"
BLUE, GREEN = CLARK_LAKE_BLUE, CLARK_LAKE_GREEN
CONFIG = stations_connector_config(Settings())


class World:
    def __init__(self) -> None:
        memory = InProcessStack()  # no topics: the worker creates the ones it writes
        self.broker: MemoryBroker = memory.broker
        self.db: MemoryStationDatabase = memory.stations_db
        self.start()

    def start(self) -> None:
        """(Re)start the Connect worker over the same broker and table."""
        self.app = ConnectApp(self.broker, self.broker, self.db, worker_id="w1:8083")
        self.client = ConnectClient(BASE, session=InProcessStack.session(BASE, self.app))

    def raw(self) -> list[tuple[bytes | None, bytes | None]]:
        return [(r.key, r.value) for r in self.broker.records(STATIONS_RAW)]


@pytest.fixture
def world() -> World:
    return World()


def message(row: StationRow) -> tuple[bytes, bytes]:
    key = f'{{"stop_id":{row.stop_id}}}'.encode()
    return key, json.dumps(row.as_json(), separators=(",", ":")).encode()


def test_apply_status_list_delete_round_trip(world: World) -> None:
    world.client.apply("stations", CONFIG)
    status = world.client.wait_running("stations", timeout=1)
    assert status.running and status.task_states == ("RUNNING",)
    assert world.client.connectors() == ["stations"]
    world.client.delete("stations")
    world.client.delete("stations")  # already gone: fine
    assert world.client.connectors() == []
    with pytest.raises(ConnectError, match="Connector stations not found"):
        world.client.status("stations")


def test_put_answers_201_then_200_with_the_documented_body(world: World) -> None:
    request = HttpRequest("PUT", "/connectors/stations/config", body=json.dumps(CONFIG).encode())
    first, second = world.app(request), world.app(request)
    assert (first.status, second.status) == (201, 200)
    assert first.headers["Location"] == "/connectors/stations"
    body = json.loads(second.body)
    assert body["name"] == "stations" and body["type"] == "source"
    assert body["config"] == {**CONFIG, "name": "stations"}
    assert body["tasks"] == [{"connector": "stations", "task": 0}]
    status = json.loads(world.app(HttpRequest("GET", "/connectors/stations/status")).body)
    assert status["connector"] == {"state": "RUNNING", "worker_id": "w1:8083"}
    assert status["tasks"] == [{"id": 0, "state": "RUNNING", "worker_id": "w1:8083"}]


def test_bad_config_bodies_are_400(world: World) -> None:
    for body in (b"{", b'{"tasks.max": 1}', b'{"tasks.max": "1"}'):
        answer = world.app(HttpRequest("PUT", "/connectors/x/config", body=body))
        assert answer.status == 400 and json.loads(answer.body)["error_code"] == 400


def test_unknown_connector_class_fails_its_task_with_a_trace(world: World) -> None:
    world.client.apply("jdbc", {"connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector"})
    with pytest.raises(ConnectorFailed, match="Failed to find any class"):
        world.client.wait_running("jdbc", timeout=1)


def test_streams_snapshot_then_insert_update_delete(world: World) -> None:
    world.db.load([BLUE])
    world.client.apply("stations", CONFIG)
    drain(world.app.pumps())
    assert world.raw() == [message(BLUE)]

    renamed = replace(BLUE, station_name="Clark & Lake")
    world.db.load([BLUE, GREEN])  # BLUE unchanged: no event
    world.db.upsert(renamed)
    world.db.delete(GREEN.stop_id)
    drain(world.app.pumps())
    assert world.raw() == [
        message(BLUE),
        message(GREEN),
        message(renamed),
        (b'{"stop_id":30074}', None),
    ]
    value = json.loads(world.raw()[1][1] or b"")
    assert value["order"] == 14 and value["green"] is True and len(value) == 14


def test_reapply_delete_recreate_and_worker_restart_do_not_re_emit(world: World) -> None:
    world.db.load([BLUE])
    world.client.apply("stations", CONFIG)
    drain(world.app.pumps())
    world.client.apply("stations", CONFIG)
    drain(world.app.pumps())
    world.client.delete("stations")
    world.client.apply("stations", CONFIG)
    drain(world.app.pumps())
    world.start()
    world.client.apply("stations", CONFIG)
    world.db.upsert(GREEN)
    drain(world.app.pumps())
    assert world.raw() == [message(BLUE), message(GREEN)]


def test_without_unwrap_the_debezium_envelope_is_emitted(world: World) -> None:
    config = {k: v for k, v in CONFIG.items() if not k.startswith("transforms.unwrap")}
    config["transforms"] = "route"
    world.client.apply("stations", config)
    world.db.upsert(BLUE)
    drain(world.app.pumps())
    world.db.delete(BLUE.stop_id)
    drain(world.app.pumps())
    (_, created), (_, deleted), tombstone = world.raw()
    assert json.loads(created or b"")["op"] == "r"  # taken by the snapshot
    assert json.loads(deleted or b"")["op"] == "d"
    assert json.loads(deleted or b"")["before"]["stop_id"] == BLUE.stop_id
    assert tombstone == (b'{"stop_id":30374}', None)


def test_unsupported_transform_fails_the_task(world: World) -> None:
    world.client.apply("stations", {**CONFIG, "transforms": "x", "transforms.x.type": "a.B"})
    with pytest.raises(ConnectorFailed, match="not emulated"):
        world.client.wait_running("stations", timeout=1)


DELETED = b'{"stop_id":30374}'
RENAMED = replace(BLUE, station_name="Clark & Lake")


def _row(row: StationRow, deleted: str) -> bytes:
    return json.dumps({**row.as_json(), "__deleted": deleted}, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        # Debezium 3.7's default: a null value that keeps its schema, which JsonConverter
        # writes as the JSON text null; its own tombstone is dropped.
        ("tombstone", [message(BLUE), message(RENAMED), (DELETED, b"null")]),
        ("delete-to-tombstone", [message(BLUE), message(RENAMED), (DELETED, None)]),
        ("drop", [message(BLUE), message(RENAMED)]),
        (
            "rewrite",
            [
                (DELETED, _row(BLUE, "false")),
                (DELETED, _row(RENAMED, "false")),
                (DELETED, _row(RENAMED, "true")),
            ],
        ),
        (
            "rewrite-with-tombstone",
            [
                (DELETED, _row(BLUE, "false")),
                (DELETED, _row(RENAMED, "false")),
                (DELETED, _row(RENAMED, "true")),
                (DELETED, None),
            ],
        ),
    ],
)
def test_a_delete_is_written_as_debeziums_delete_mode_writes_it(
    world: World, mode: str, expected: list[tuple[bytes, bytes | None]]
) -> None:
    world.db.load([BLUE])
    world.client.apply(
        "stations", {**CONFIG, "transforms.unwrap.delete.tombstone.handling.mode": mode}
    )
    drain(world.app.pumps())
    world.db.upsert(RENAMED)
    world.db.delete(BLUE.stop_id)
    drain(world.app.pumps())
    assert world.raw() == expected


def test_our_connector_config_writes_a_delete_as_one_real_tombstone(world: World) -> None:
    world.db.load([BLUE])
    world.client.apply("stations", CONFIG)
    drain(world.app.pumps())
    world.db.delete(BLUE.stop_id)
    drain(world.app.pumps())
    assert world.raw()[-1] == (DELETED, None)
    assert all(value != b"null" for _, value in world.raw())
