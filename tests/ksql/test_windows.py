"""Tumbling windows in the engine: the clause, window assignment, windowed keys, grace,
retention, restore, and our TURNSTILE_HOURLY statement."""

from __future__ import annotations

import json
import struct
from collections import Counter

import pytest

from cta.ksql.client import statement_files
from cta.ksql.engine import KsqlEngine
from cta.ksql.errors import KsqlStatementError, KsqlSyntaxError, KsqlUnsupportedError
from cta.ksql.parser import parse
from cta.ksql.statements import CreateAsSelect, CreateSource
from cta.ksql.windowed_query import WindowedCountQuery
from cta.ksql.windows import (
    TumblingWindow,
    WindowClauseError,
    encode_windowed_key,
    split_windowed_key,
    tumbling,
)
from cta.runtime import drain
from cta.topics import DEAD_LETTERS, TURNSTILE_HOURLY
from tests.ksql.conftest import Stack

HOUR = 3_600_000
MINUTE = 60_000
# 2026-11-23 07:00 Chicago (13:00 UTC): a window start.
SEVEN = 1_795_438_800_000
HOURLY_FILE = "03_turnstile_hourly.sql"
ALL_FILES = "\n".join(path.read_text() for path in statement_files())


# -- the clause and window arithmetic ---------------------------------------------------------


def test_a_record_belongs_to_the_one_window_holding_it_start_inclusive_end_exclusive() -> None:
    window = tumbling(HOUR, 30 * MINUTE, 2 * 24 * HOUR)
    assert window.start_of(SEVEN) == SEVEN
    assert window.start_of(SEVEN + HOUR - 1) == SEVEN
    assert window.start_of(SEVEN + HOUR) == SEVEN + HOUR
    assert window.end_of(SEVEN) == SEVEN + HOUR
    assert window.start_of(0) == 0


def test_grace_closes_a_window_at_its_end_plus_grace_of_stream_time() -> None:
    window = tumbling(HOUR, 30 * MINUTE)
    assert not window.closed(SEVEN, SEVEN + HOUR + 30 * MINUTE - 1)
    assert window.closed(SEVEN, SEVEN + HOUR + 30 * MINUTE)


def test_defaults_are_kafka_streams_legacy_grace_and_the_smallest_retention() -> None:
    window = tumbling(HOUR)
    assert (window.grace_ms, window.retention_ms, window.grace_given) == (
        23 * HOUR,
        24 * HOUR,
        False,
    )
    assert tumbling(2 * 24 * HOUR).grace_ms == 0


def test_retention_below_size_plus_grace_is_refused_as_kafka_streams_does() -> None:
    with pytest.raises(WindowClauseError, match="no smaller than its window size plus"):
        tumbling(HOUR, HOUR, HOUR)
    with pytest.raises(KsqlSyntaxError, match="no smaller than its window size plus"):
        parse(
            "CREATE TABLE t AS SELECT id, COUNT(*) FROM s "
            "WINDOW TUMBLING (SIZE 1 HOUR, RETENTION 1 HOUR, GRACE PERIOD 1 MINUTE) GROUP BY id;"
        )


@pytest.mark.parametrize(
    ("clause", "window"),
    [
        ("TUMBLING (SIZE 1 HOUR)", tumbling(HOUR)),
        ("TUMBLING (SIZE 30 SECONDS, GRACE PERIOD 0 MILLISECONDS)", tumbling(30_000, 0)),
        (
            "TUMBLING (SIZE 1 HOUR, RETENTION 2 DAYS, GRACE PERIOD 30 MINUTES)",
            tumbling(HOUR, 30 * MINUTE, 48 * HOUR),
        ),
        ("TUMBLING (SIZE 5 MINUTE, RETENTION 1 DAY)", tumbling(5 * MINUTE, None, 24 * HOUR)),
    ],
)
def test_the_window_clause_of_ksqldb_grammar(clause: str, window: TumblingWindow) -> None:
    (statement,) = parse(
        f"CREATE TABLE t AS SELECT id, COUNT(*) FROM s WINDOW {clause} GROUP BY id;"
    )
    assert isinstance(statement, CreateAsSelect)
    assert statement.select.window == window


@pytest.mark.parametrize(
    "clause",
    [
        "TUMBLING (SIZE 1 HOUR, GRACE PERIOD 1 MINUTE, RETENTION 2 DAYS)",  # ksqlDB's order only
        "TUMBLING (SIZE 1 FORTNIGHT)",
        "TUMBLING (1 HOUR)",
    ],
)
def test_a_window_clause_outside_the_grammar_is_a_syntax_error(clause: str) -> None:
    with pytest.raises(KsqlSyntaxError):
        parse(f"CREATE TABLE t AS SELECT id, COUNT(*) FROM s WINDOW {clause} GROUP BY id;")


def test_a_window_after_where_is_a_syntax_error() -> None:
    with pytest.raises(KsqlSyntaxError):
        parse(
            "CREATE TABLE t AS SELECT id, COUNT(*) FROM s WHERE id > 1 "
            "WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY id;"
        )


# -- the windowed key format --------------------------------------------------------------------


def test_windowed_keys_are_inner_bytes_then_the_start_as_a_big_endian_long() -> None:
    key = encode_windowed_key(b"40380", SEVEN)
    assert key == b"40380" + bytes.fromhex("000001a2087dec80")
    assert key == b"40380" + struct.pack(">q", SEVEN)
    assert split_windowed_key(key) == (b"40380", SEVEN)


@pytest.mark.parametrize("key", [None, b"", b"\x00" * 8])
def test_a_key_too_short_to_be_windowed_is_a_decode_error(key: bytes | None) -> None:
    with pytest.raises(ValueError, match="not a time-windowed key"):
        split_windowed_key(key)


# -- the engine over a JSON stream with an event-time column ----------------------------------

EVENTS = (
    "CREATE STREAM ev (ID INT KEY, TS BIGINT, NAME STRING) WITH (KAFKA_TOPIC='ev', "
    "KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=1, TIMESTAMP='ts');"
)
HOURLY = (
    "CREATE TABLE per_hour WITH (KEY_FORMAT='JSON', VALUE_FORMAT='JSON') AS "
    "SELECT id AS k, AS_VALUE(id) AS id, WINDOWSTART AS ws, WINDOWEND AS we, COUNT(*) AS n "
    "FROM ev WINDOW TUMBLING (SIZE 1 HOUR, RETENTION 3 HOURS, GRACE PERIOD 10 MINUTES) "
    "GROUP BY id;"
)


def send(stack: Stack, *events: tuple[int, int | None]) -> None:
    """(id, ts) pairs as JSON values on ``ev`` (KAFKA INT keys)."""
    producer = stack.broker.producer()
    for station, ts in events:
        producer.produce(
            "ev",
            json.dumps({"TS": ts, "NAME": "x"}).encode(),
            key=struct.pack(">i", station),
        )
    producer.flush()
    producer.close()


def hourly_engine(stack: Stack) -> tuple[KsqlEngine, WindowedCountQuery]:
    engine = stack.engine()
    engine.execute(EVENTS + HOURLY)
    (query,) = engine.queries()
    assert isinstance(query, WindowedCountQuery)
    return engine, query


def sink_rows(stack: Stack) -> list[tuple[bytes, dict[str, int]]]:
    return [
        (r.key or b"", json.loads(r.value or b"null")) for r in stack.broker.records("PER_HOUR")
    ]


def latest(stack: Stack) -> dict[tuple[int, int], int]:
    table: dict[tuple[int, int], int] = {}
    for key, value in sink_rows(stack):
        inner, start = split_windowed_key(key)
        table[(json.loads(inner), start)] = value["N"]
    return table


def test_counts_per_key_and_window_with_exact_keys_and_values(stack: Stack) -> None:
    engine, query = hourly_engine(stack)
    send(stack, (7, SEVEN), (7, SEVEN + 59 * MINUTE), (8, SEVEN + 1), (7, SEVEN + HOUR))
    drain(engine.pumps())
    rows = sink_rows(stack)
    assert rows[-1] == (
        b"7" + struct.pack(">q", SEVEN + HOUR),
        {"ID": 7, "WS": SEVEN + HOUR, "WE": SEVEN + 2 * HOUR, "N": 1},
    )
    assert latest(stack) == {(7, SEVEN): 2, (8, SEVEN): 1, (7, SEVEN + HOUR): 1}
    assert query.counts() == latest(stack)
    sink = engine.source("per_hour")
    assert sink is not None and sink.window == query.window
    assert [(c.name, c.type, c.key) for c in sink.columns] == [
        ("K", "INTEGER", True),
        ("ID", "INTEGER", False),
        ("WS", "BIGINT", False),
        ("WE", "BIGINT", False),
        ("N", "BIGINT", False),
    ]


def test_a_record_within_grace_counts_and_one_beyond_it_is_dropped_and_counted(
    stack: Stack,
) -> None:
    engine, query = hourly_engine(stack)
    # Stream time reaches 08:09; 07:xx closes at 08:10: a 07:30 record still counts.
    send(stack, (7, SEVEN), (7, SEVEN + HOUR + 9 * MINUTE), (7, SEVEN + 30 * MINUTE))
    drain(engine.pumps())
    assert latest(stack)[(7, SEVEN)] == 2
    # Stream time reaches 08:10: a 07:59 record is too late, and so is one for 06:xx.
    send(stack, (7, SEVEN + HOUR + 10 * MINUTE), (7, SEVEN + 59 * MINUTE), (8, SEVEN - HOUR))
    drain(engine.pumps())
    assert query.late_dropped == 2
    assert latest(stack) == {(7, SEVEN): 2, (7, SEVEN + HOUR): 2}
    assert query.stats.dead_lettered == 0


def test_stream_time_is_kept_per_partition(stack: Stack) -> None:
    """A partition read after another has run far ahead still counts its own records."""
    engine = stack.engine()
    engine.execute(EVENTS.replace("PARTITIONS=1", "PARTITIONS=4") + HOURLY)
    (query,) = engine.queries()
    assert isinstance(query, WindowedCountQuery)
    ids = list(range(1, 40))
    send(stack, *[(i, SEVEN + 5 * HOUR) for i in ids])  # every partition far ahead...
    send(stack, *[(i, SEVEN) for i in ids])  # ...then each its own late records
    drain(engine.pumps())
    partitions = {r.partition for r in stack.broker.records("ev")}
    assert len(partitions) > 1
    assert query.late_dropped == len(ids)  # each partition's own stream time dropped them
    assert set(query.stream_time()) == partitions


def test_retention_evicts_old_windows_from_the_state_not_from_the_sink(stack: Stack) -> None:
    engine, query = hourly_engine(stack)
    send(stack, (7, SEVEN), (8, SEVEN + HOUR))
    drain(engine.pumps())
    assert set(query.counts()) == {(7, SEVEN), (8, SEVEN + HOUR)}
    # Stream time 10:00: windows starting at or before 07:00 (3 hours' retention) leave.
    send(stack, (9, SEVEN + 3 * HOUR))
    drain(engine.pumps())
    assert set(query.counts()) == {(8, SEVEN + HOUR), (9, SEVEN + 3 * HOUR)}
    assert query.evicted == 1
    assert latest(stack)[(7, SEVEN)] == 1  # its total stays published


def test_a_null_event_time_goes_to_the_dead_letters_with_the_reason(stack: Stack) -> None:
    engine, query = hourly_engine(stack)
    send(stack, (7, None), (7, SEVEN))
    drain(engine.pumps())
    (letter,) = stack.broker.records(DEAD_LETTERS)
    assert b"timestamp column TS is None" in dict(letter.headers)["error"]
    assert query.stats.dead_lettered == 1
    assert latest(stack) == {(7, SEVEN): 1}


def test_restart_restores_window_counts_from_the_sink_and_continues(stack: Stack) -> None:
    engine, _ = hourly_engine(stack)
    send(stack, (7, SEVEN), (7, SEVEN + 1), (8, SEVEN + HOUR))
    drain(engine.pumps())
    engine.close()
    engine, query = hourly_engine(stack)
    assert query.counts() == {(7, SEVEN): 2, (8, SEVEN + HOUR): 1}
    send(stack, (7, SEVEN + 2))
    drain(engine.pumps())
    assert latest(stack) == {(7, SEVEN): 3, (8, SEVEN + HOUR): 1}


def test_without_a_timestamp_property_windows_follow_the_record_timestamp(stack: Stack) -> None:
    engine = stack.engine()
    engine.execute(EVENTS.replace(", TIMESTAMP='ts'", "") + HOURLY)
    send(stack, (7, 0))  # TS is ignored: ROWTIME is the broker's CreateTime (now)
    drain(engine.pumps())
    ((_, start),) = latest(stack)
    assert start > SEVEN - 365 * 24 * HOUR


@pytest.mark.parametrize(
    ("statement", "error", "message"),
    [
        (
            HOURLY.replace("GROUP BY id", "GROUP BY id, WINDOWSTART"),
            KsqlStatementError,
            "Window bounds column WINDOWSTART can only be used in the SELECT clause",
        ),
        (
            HOURLY.replace(
                "WINDOW TUMBLING (SIZE 1 HOUR, RETENTION 3 HOURS, GRACE PERIOD 10 MINUTES) ", ""
            ),
            KsqlStatementError,
            "'WINDOWSTART' cannot be resolved",
        ),
        (
            HOURLY.replace(
                "TUMBLING (SIZE 1 HOUR, RETENTION 3 HOURS,",
                "HOPPING (SIZE 1 HOUR, ADVANCE BY 5 MINUTES,",
            ),
            KsqlUnsupportedError,
            "HOPPING windows",
        ),
    ],
)
def test_window_misuse_is_refused_clearly(
    stack: Stack, statement: str, error: type[Exception], message: str
) -> None:
    engine = stack.engine()
    engine.execute(EVENTS)
    with pytest.raises(error, match=message):
        engine.execute(statement)


@pytest.mark.parametrize(
    ("props", "error", "message"),
    [
        ("TIMESTAMP='nope'", KsqlStatementError, "does not exist in the schema: 'NOPE'"),
        ("TIMESTAMP='`ts`'", KsqlStatementError, "does not exist in the schema: 'ts'"),
        ("TIMESTAMP='name'", KsqlUnsupportedError, "of type STRING"),
        (
            "TIMESTAMP='ts', TIMESTAMP_FORMAT='yyyy'",
            KsqlUnsupportedError,
            "TIMESTAMP_FORMAT",
        ),
    ],
)
def test_timestamp_property_mistakes_are_refused(
    stack: Stack, props: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        stack.engine().execute(EVENTS.replace("TIMESTAMP='ts'", props))


def test_a_back_quoted_timestamp_column_keeps_its_case(stack: Stack) -> None:
    engine = stack.engine()
    engine.execute(EVENTS.replace("TIMESTAMP='ts'", "TIMESTAMP='`TS`'"))
    source = engine.source("ev")
    assert source is not None and source.timestamp_column == "TS"


# -- our statement file ---------------------------------------------------------------------


def test_our_hourly_statement_parses_as_ksqldb_reads_it() -> None:
    (path,) = [p for p in statement_files() if p.name == HOURLY_FILE]
    stream, table = parse(path.read_text())
    assert isinstance(stream, CreateSource) and isinstance(table, CreateAsSelect)
    assert stream.name == "TURNSTILE_BY_EVENT_TIME"
    assert stream.properties["TIMESTAMP"] == "timestamp"
    assert table.select.source == "TURNSTILE_BY_EVENT_TIME"
    assert table.select.window == tumbling(HOUR, 30 * MINUTE, 48 * HOUR)


def test_turnstile_hourly_counts_entries_per_station_and_event_hour(stack: Stack) -> None:
    engine = stack.engine()
    engine.execute(ALL_FILES)
    hourly = engine.source("TURNSTILE_HOURLY")
    assert hourly is not None and hourly.topic == TURNSTILE_HOURLY
    assert engine.source("TURNSTILE_BY_EVENT_TIME") is not None
    stations = [40380, 40380, 41400, 40380]
    stack.produce_entries(stations, first=SEVEN + HOUR - 2)  # 07:59:59.998 ... 08:00:00.001
    drain(engine.pumps())
    table: dict[tuple[int, int], int] = {}
    for record in stack.broker.records(TURNSTILE_HOURLY):
        inner, start = split_windowed_key(record.key)
        value = json.loads(record.value or b"{}")
        assert set(value) == {"STATION_ID", "WINDOW_START", "WINDOW_END", "COUNT"}
        assert (json.loads(inner), start) == (value["STATION_ID"], value["WINDOW_START"])
        assert value["WINDOW_END"] == start + HOUR
        table[(value["STATION_ID"], start)] = value["COUNT"]
    assert table == {(40380, SEVEN): 2, (41400, SEVEN + HOUR): 1, (40380, SEVEN + HOUR): 1}
    assert sum(table.values()) == len(stations)
    assert stack.summary() == dict(Counter(stations))  # the summary is unchanged


def test_windows_follow_partitions_that_move_between_instances(stack: Stack) -> None:
    """Two instances of the statement files share the partitions; one leaves, the other
    carries on each window from the totals in the sink."""
    stations = list(range(40_000, 41_000, 7))[:40]
    expected: Counter[tuple[int, int]] = Counter()

    def feed(first_ms: int) -> None:
        stack.produce_entries(stations, first=first_ms)
        expected.update((s, first_ms - first_ms % HOUR) for s in stations)

    def table() -> dict[tuple[int, int], int]:
        rows: dict[tuple[int, int], int] = {}
        for record in stack.broker.records(TURNSTILE_HOURLY):
            inner, start = split_windowed_key(record.key)
            rows[(json.loads(inner), start)] = json.loads(record.value or b"{}")["COUNT"]
        return rows

    first = stack.engine()
    first.execute(ALL_FILES)
    feed(SEVEN)
    drain(first.pumps())
    second = stack.engine()
    second.execute(ALL_FILES)
    feed(SEVEN + 10 * MINUTE)
    drain([*first.pumps(), *second.pumps()])
    assert table() == dict(expected)
    moved = [q for q in second.queries() if isinstance(q, WindowedCountQuery)]
    assert moved and moved[0].stats.consumed > 0  # the newcomer took partitions over
    second.close()
    feed(SEVEN + HOUR)
    drain(first.pumps())
    assert table() == dict(expected)
    assert sum(table().values()) == 3 * len(stations)
