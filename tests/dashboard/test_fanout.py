"""The /events fan-out: shared frames per version, bounded catch-up, Last-Event-ID resumes, slow
clients that get a snapshot and delay nobody, /healthz answering under load."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import selectors
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cta.dashboard.delta import apply_delta
from cta.dashboard.fanout import BACKLOG, Fanout
from cta.dashboard.state import DashboardState
from cta.runtime import wait_for
from tests.dashboard.conftest import LiveServer
from tests.dashboard.test_app import EventStream, board, served
from tests.dashboard.test_state import station

# --- the publisher and catch-up rules, without a server -------------------------------------


class Boards:
    """A build function: a one-station board whose version and contents the test moves."""

    def __init__(self) -> None:
        self.version = 1
        self.entries = 0
        self.weather: dict[str, str] | None = None

    def __call__(self) -> dict[str, Any]:
        return {"version": self.version, "header": {}, "weather": self.weather, "lines": [
            {"line": "blue", "color": "#00f", "stations": [
                {"station_id": 1, "name": "x" * 2000, "entries": self.entries},
            ]},
        ]}  # fmt: skip


def publish(fanout: Fanout, boards: Boards, versions: int) -> None:
    for _ in range(versions):
        boards.version += 1
        boards.entries += 1
        published = fanout.prepare()
        assert published is not None
        fanout.commit(published)


@pytest.fixture
def fanout() -> Iterator[tuple[Fanout, Boards]]:
    boards = Boards()
    fanout = Fanout(boards, history=20, backlog=4, epoch="e1")
    published = fanout.prepare()
    assert published is not None and published.delta is None  # the first one: a snapshot only
    fanout.commit(published)
    yield fanout, boards
    fanout.close()


def test_a_new_client_gets_the_snapshot_and_a_current_one_nothing(fanout: Any) -> None:
    fan, _ = fanout
    frames = fan.catch_up(None)
    assert frames.snapshot and frames.version == 1
    assert frames.data.startswith(b"id: e1-1\nevent: snapshot\ndata: {")
    assert fan.catch_up(1) is None
    assert fan.prepare() is None  # the version did not move: nothing new to publish


def test_a_client_a_few_versions_behind_gets_the_deltas_in_order(fanout: Any) -> None:
    fan, boards = fanout
    publish(fan, boards, 3)
    frames = fan.catch_up(1)
    assert not frames.snapshot and frames.version == 4
    ids = re.findall(rb"id: (\S+)\nevent: (\w+)\n", frames.data)
    assert ids == [(b"e1-2", b"delta"), (b"e1-3", b"delta"), (b"e1-4", b"delta")]
    # The bytes are the ones published: shared by every client, not encoded per client.
    assert fan.catch_up(3).data is fan.latest.delta
    assert fan.resets == 0


def test_a_client_behind_more_than_its_bounded_queue_gets_a_snapshot(fanout: Any) -> None:
    fan, boards = fanout
    publish(fan, boards, 5)  # versions 2..6
    assert not fan.catch_up(2).snapshot  # 4 deltas: the bound
    frames = fan.catch_up(1)  # 5 deltas: over it
    assert frames.snapshot and frames.version == 6 and frames.data is fan.latest.full
    assert fan.resets == 1
    # A resume may take the whole history held instead.
    assert not fan.catch_up(1, limit=fan.history_size).snapshot


def test_deltas_bigger_than_the_snapshot_give_the_snapshot(fanout: Any) -> None:
    fan, boards = fanout
    for _ in range(3):  # each delta carries 1.5 KB of weather; the board is 3.6 KB
        boards.version += 1
        boards.weather = {"text": "y" * 1500 + str(boards.version)}
        fan.commit(fan.prepare())
    assert fan.catch_up(2).snapshot is False  # two deltas: smaller than the board
    assert fan.catch_up(1).snapshot is True  # three: the board itself is smaller


def test_a_resume_id_is_known_only_if_it_is_ours_and_still_held(fanout: Any) -> None:
    fan, boards = fanout
    publish(fan, boards, 25)  # versions 2..26; the history holds the last 20 deltas
    assert fan.resume_version("e1-26") == 26
    assert fan.resume_version("e1-20") == 20
    assert fan.resume_version("e1-5") is None  # its deltas were dropped from the history
    assert fan.resume_version("other-20") is None  # a server before a restart
    assert fan.resume_version("e1-x") is None
    assert fan.resume_version("") is None


# --- on a live server -----------------------------------------------------------------------


def big_board(stations: int = 1500) -> DashboardState:
    """A board whose snapshot (~300 KB) fills a socket that is not read."""
    state = DashboardState()
    for n in range(stations):
        state.apply_station(station(n + 1, f"Station {n:04d} " + "x" * 150, n))
    return state


def healthz(port: int) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/healthz")
        answer = conn.getresponse()
        assert answer.status == 200
        body: dict[str, Any] = json.loads(answer.read())
        return body
    finally:
        conn.close()


def published(server: LiveServer, state: DashboardState) -> None:
    wait_for(lambda: healthz(server.port)["events"]["version"] == state.version, timeout=10,
             what="the board's version to be published")


class RawClient:
    """An /events client on a plain socket, reading only when told (a slow or stalled viewer).
    Each server send is one chunk of whole events, so events are found in the raw bytes."""

    def __init__(self, port: int, receive_buffer: int | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:  # before connecting: it sets the TCP window
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        self.received = b""

    def events(self) -> list[tuple[str, int]]:
        """(event, version) of every event received so far."""
        return [
            (kind.decode(), int(version))
            for version, kind in re.findall(rb"id: \w+-(\d+)\nevent: (\w+)\n", self.received)
        ]

    def read_until(self, version: int) -> list[tuple[str, int]]:
        self.sock.settimeout(15)
        while not any(v == version for _, v in self.events()):
            data = self.sock.recv(1 << 20)
            if not data:
                raise EOFError("stream ended")
            self.received += data
        return self.events()

    def close(self) -> None:
        self.sock.close()


def test_a_resumed_client_gets_only_the_deltas_it_missed(serve_dashboard: Any) -> None:
    state = board()
    server: LiveServer = serve_dashboard(state)
    stream = EventStream(server.port)
    first = stream.next_event()
    stream.close()
    held = json.loads(first["data"])
    for count in (10, 20, 30):  # three versions published while the client is away
        state.apply_summary(1, count)
        published(server, state)

    resumed = EventStream(server.port, headers={"Last-Event-ID": first["id"]})
    try:
        events: list[dict[str, str]] = []
        while not events or events[-1]["id"] != f"{first['id'].split('-')[0]}-{state.version}":
            events.append(resumed.next_event())
        assert {event["event"] for event in events} == {"delta"}
        for event in events:
            held = apply_delta(held, json.loads(event["data"]))
        assert held == served(state)
    finally:
        resumed.close()
    assert healthz(server.port)["events"]["resets"] == 0

    # The page passes the id in the query when it opens a new stream itself.
    again = EventStream(server.port, path=f"/events?last_event_id={events[0]['id']}")
    try:
        assert again.next_event()["event"] == "delta"
    finally:
        again.close()


def test_an_id_from_another_server_or_too_old_gets_a_fresh_snapshot(
    serve_dashboard: Any,
) -> None:
    state = board()
    server: LiveServer = serve_dashboard(state)
    stream = EventStream(server.port, headers={"Last-Event-ID": "0123abcd-3"})
    try:
        event = stream.next_event()
        assert event["event"] == "snapshot"
        assert json.loads(event["data"]) == served(state)
    finally:
        stream.close()
    assert healthz(server.port)["events"]["resets"] == 1


def test_a_stalled_client_delays_nobody_and_then_gets_a_snapshot_not_a_backlog(
    serve_dashboard: Any,
) -> None:
    state = big_board()
    server: LiveServer = serve_dashboard(state)
    slow = RawClient(server.port, receive_buffer=4096)  # and it reads nothing for now
    fast = EventStream(server.port)
    try:
        wait_for(lambda: healthz(server.port)["events"]["clients"] == 2, timeout=15,
                 what="both streams open")
        assert fast.next_event()["event"] == "snapshot"
        start = state.version
        # More versions than the slow client's bounded queue, each received by the fast client
        # while the slow one's send is still stuck.
        for count in range(1, BACKLOG + 3):
            state.apply_summary(1, count)
            event = fast.next_event()
            assert event["event"] == "delta"
            assert event["id"].endswith(f"-{state.version}")
            # The slow stream still waits on its socket, holding the snapshot it was sent first.
            assert healthz(server.port)["events"]["blocked"] == 1

        events = slow.read_until(state.version)
        assert events == [("snapshot", start), ("snapshot", state.version)]
        assert healthz(server.port)["events"]["resets"] >= 1
    finally:
        slow.close()
        fast.close()


class Drain(threading.Thread):
    """Reads and drops everything many clients receive, so they keep up."""

    def __init__(self, socks: list[socket.socket]) -> None:
        super().__init__(daemon=True)
        self.selector = selectors.DefaultSelector()
        for sock in socks:
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for key, _ in self.selector.select(0.1):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    if not sock.recv(1 << 16):
                        self.selector.unregister(sock)
                except BlockingIOError:
                    pass


def test_healthz_and_status_answer_with_200_clients_and_a_stalled_one(
    serve_dashboard: Any,
) -> None:
    state = big_board()
    server: LiveServer = serve_dashboard(state)
    viewers = [RawClient(server.port) for _ in range(200)]
    drain = Drain([viewer.sock for viewer in viewers])
    drain.start()
    stalled = RawClient(server.port, receive_buffer=4096)
    try:
        wait_for(lambda: healthz(server.port)["events"]["clients"] == 201, timeout=30,
                 what="201 streams open")
        state.apply_summary(3, 33)
        wait_for(lambda: healthz(server.port)["events"]["blocked"] >= 1, timeout=15,
                 what="the stalled client to wait on its full socket")
        fresh = EventStream(server.port)
        try:
            rows = json.loads(fresh.next_event()["data"])["lines"][0]["stations"]
            assert rows[2]["entries"] == 33  # the board moved on for everyone else
        finally:
            fresh.close()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/api/status")
        assert json.loads(conn.getresponse().read())["version"] == state.version
        conn.close()
        health = healthz(server.port)
        assert health["status"] == "ok" and health["events"]["blocked"] >= 1
    finally:
        drain.done.set()
        drain.join(5)
        for viewer in [*viewers, stalled]:
            viewer.close()


class FakeSocket:
    def __init__(self, unsent: int = 0) -> None:
        self.written: list[bytes] = []
        self.unsent = unsent

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return self.unsent


def test_the_publisher_writes_the_framed_delta_to_caught_up_idle_clients_and_wakes_others(
    fanout: Any,
) -> None:
    fan, boards = fanout

    async def scenario() -> None:
        sockets = {"current": FakeSocket(), "unsent": FakeSocket(unsent=10), "new": FakeSocket()}
        sent: dict[str, list[bytes]] = {name: [] for name in sockets}
        holds = {"current": 1, "unsent": 1, "new": None}

        def sender(name: str) -> Any:
            async def send(data: bytes) -> None:
                sent[name].append(data)
            return send

        streams = [
            asyncio.create_task(fan.serve(sender(name), holds[name], 0,
                                          transport=sock, direct=True))
            for name, sock in sockets.items()
        ]  # fmt: skip
        await asyncio.sleep(0.05)  # all three asleep; "new" has had its snapshot
        assert [len(sent[name]) for name in sockets] == [0, 0, 1]
        publish(fan, boards, 1)
        await fan.deliver(fan.latest)
        await asyncio.sleep(0.05)
        chunk = fan.latest.delta_chunk
        assert chunk == b"%x\r\n%b\r\n" % (len(fan.latest.delta), fan.latest.delta)
        assert sockets["current"].written == [chunk] and sent["current"] == []
        # Something unsent: its handler waits for the socket (the comment), then sends itself.
        assert sockets["unsent"].written == []
        assert sent["unsent"] == [b":\n", fan.latest.delta]
        # The new client, current since its snapshot, is written to directly as well.
        assert len(sent["new"]) == 1 and sent["new"][0].startswith(b"id: e1-1\nevent: snapshot")
        assert sockets["new"].written == [chunk]
        assert fan.written == 2 and fan.woken == 1
        fan.close()
        await asyncio.gather(*streams)
        assert fan.clients == 0

    asyncio.run(scenario())
