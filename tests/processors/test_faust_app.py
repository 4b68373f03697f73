"""The Faust app, driven by Faust's own ``agent.test_context()`` (no broker)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

faust = pytest.importorskip("faust")

from cta.processors import faust_app  # noqa: E402
from cta.processors.stations import (  # noqa: E402
    StationTable,
    TransformedStation,
    decide,
    encode_table_key,
    encode_table_value,
)
from cta.topics import DEAD_LETTERS, STATIONS_RAW, STATIONS_TABLE  # noqa: E402
from tests.samples import raw_row  # noqa: E402


def raw(stop_id: int, line: str | None = "blue", **overrides: Any) -> bytes:
    return json.dumps(raw_row(stop_id, line=line, **overrides)).encode()


def key(stop_id: int) -> bytes:
    return json.dumps({"stop_id": stop_id}).encode()


@dataclass
class Sent:
    """Every message the app hands to its producer: (topic, key bytes, value bytes, headers)."""

    messages: list[tuple[str, bytes | None, bytes | None, Any]] = field(default_factory=list)

    def capture(self, fut: Any) -> None:
        message = fut.message
        topic = message.channel.get_topic_name()
        self.messages.append((topic, message.key, message.value, message.headers))

    def on(self, topic: str) -> list[tuple[str, bytes | None, bytes | None, Any]]:
        return [m for m in self.messages if m[0] == topic]


def run(*records: tuple[bytes, bytes | None]) -> tuple[Any, Sent]:
    # Faust's agents, topics and tables are attributes it sets at run time.
    app: Any = faust_app.create_app("127.0.0.1:9092")
    app.finalize()
    app.flow_control.resume()
    sent = Sent()
    app.producer.send_soon = sent.capture  # the table's changelog writes

    async def publish(fut: Any, wait: bool = False) -> None:
        sent.capture(fut)

    app.dead_letters_topic.publish_message = publish

    async def drive() -> None:
        async with app.stations_agent.test_context() as agent:
            for k, value in records:
                await agent.put(value, key=k)

    asyncio.run(drive())
    return app, sent


def test_app_is_the_stations_stream_app_on_the_raw_topic() -> None:
    app: Any = faust_app.create_app("kafka-1:9092,kafka-2:9092")
    assert app.conf.id == "stations-stream"
    assert [str(u) for u in app.conf.broker] == ["kafka://kafka-1:9092", "kafka://kafka-2:9092"]
    assert app.stations_agent.channel.get_topic_name() == STATIONS_RAW
    changelog = app.stations_table.changelog_topic
    assert changelog.get_topic_name() == STATIONS_TABLE
    assert changelog.partitions == 1 and changelog.compacting


def test_table_changelog_bytes_equal_the_in_process_runner() -> None:
    app, sent = run((key(30374), raw(30374)), (key(30074), raw(30074, "green", order=14)))
    blue = TransformedStation(40380, "Clark/Lake", 16, "blue")
    green = TransformedStation(40380, "Clark/Lake", 14, "green")
    assert [(k, v) for _, k, v, _ in sent.on(STATIONS_TABLE)] == [
        (encode_table_key("blue:40380"), encode_table_value(blue)),
        (encode_table_key("green:40380"), encode_table_value(green)),
    ]
    assert sorted(app.stations_table.keys()) == ["blue:40380", "green:40380"]


def test_rows_on_no_line_are_counted_not_written() -> None:
    app, sent = run((key(30001), raw(30001, line=None)))
    assert sent.on(STATIONS_TABLE) == []
    assert app.stations_stats.dropped == 1


def test_malformed_rows_are_dead_lettered_with_reason_and_original_bytes() -> None:
    missing = json.dumps({"stop_id": 5, "station_id": 1}).encode()
    app, sent = run((key(1), b"{bad"), (key(5), missing), (key(30374), raw(30374)))
    dead = sent.on(DEAD_LETTERS)
    assert [(k, v) for _, k, v, _ in dead] == [(key(1), b"{bad"), (key(5), missing)]
    reasons = [dict(headers)["error"].decode() for *_, headers in dead]
    assert "not JSON" in reasons[0] and "missing field" in reasons[1]
    assert len(sent.on(STATIONS_TABLE)) == 1
    assert app.stations_stats.dead_lettered == 2


def test_deleting_the_last_stop_of_an_entry_writes_a_tombstone() -> None:
    app, sent = run(
        (key(30374), raw(30374)),
        (key(30375), raw(30375)),
        (key(30374), None),
        (key(30375), None),
    )
    table_writes = [(k, v) for _, k, v, _ in sent.on(STATIONS_TABLE)]
    assert table_writes[-1] == (encode_table_key("blue:40380"), None)
    assert len(table_writes) == 3  # two sets, one tombstone
    assert "blue:40380" not in app.stations_table


def test_decide_matches_the_in_process_runner_for_unknown_deletes() -> None:
    outcome = decide(StationTable(), key(1), None)
    assert outcome.unknown_delete and outcome.writes == ()


def test_module_app_for_the_faust_cli_reads_the_bootstrap_servers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CTA_BOOTSTRAP_SERVERS", "broker.example:29092")
    monkeypatch.delitem(vars(faust_app), "app", raising=False)
    try:
        assert [str(u) for u in faust_app.app.conf.broker] == ["kafka://broker.example:29092"]
    finally:
        vars(faust_app).pop("app", None)
