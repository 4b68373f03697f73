from __future__ import annotations

import random

import pytest

from cta.ksql.client import statement_files
from cta.ksql.engine import KsqlEngine
from cta.ksql.errors import KsqlStatementError, KsqlUnsupportedError
from cta.memory.broker import MemoryBroker
from cta.memory.consumer import MemoryConsumer
from cta.memory.registry import MemorySchemaRegistry
from cta.processors.turnstile_summary import count_entries
from cta.runtime import drain
from cta.topics import DEAD_LETTERS, PIPELINE_TOPICS, TURNSTILE_SUMMARY, TURNSTILES
from tests.ksql.conftest import Stack

# The summary's statements (01, 02); the hourly window (03) has tests of its own (test_windows).
SUMMARY_FILES = ("01_turnstile.sql", "02_turnstile_summary.sql")
FILES = "\n".join(p.read_text() for p in statement_files() if p.name in SUMMARY_FILES)


def started(stack: Stack) -> KsqlEngine:
    engine = stack.engine()
    engine.execute(FILES)
    return engine


def test_statement_files_build_the_metastore_and_one_query(stack: Stack) -> None:
    engine = started(stack)
    turnstile = engine.source("turnstile")
    assert turnstile is not None and turnstile.kind == "STREAM"
    # Inferred from the registered value schema, upper-cased as ksqlDB does.
    assert [c.name for c in turnstile.columns] == [
        "STATION_ID",
        "STATION_NAME",
        "LINE",
        "TIMESTAMP",
    ]
    summary = engine.source("TURNSTILE_SUMMARY")
    assert summary is not None and summary.kind == "TABLE" and summary.topic == TURNSTILE_SUMMARY
    assert [(c.name, c.type, c.key) for c in summary.columns] == [
        ("STATION_KEY", "INTEGER", True),
        ("STATION_ID", "INTEGER", False),
        ("COUNT", "BIGINT", False),
        ("FIRST_TIMESTAMP", "BIGINT", False),
    ]
    (query,) = engine.queries()
    assert query.name == "CTAS_TURNSTILE_SUMMARY_2"
    assert query.group_id == "_confluent-ksql-default_query_CTAS_TURNSTILE_SUMMARY_2"
    assert engine.pumps() == [query]


def test_counts_every_entry_per_station(stack: Stack) -> None:
    rng = random.Random(7)
    ids = [rng.choice([40380, 41400, 40900, 40010]) for _ in range(500)]
    stack.produce_entries(ids[:200])  # before the query exists: read from the earliest offset
    engine = started(stack)
    stack.produce_entries(ids[200:])
    assert drain(engine.pumps()) == len(ids)
    assert stack.summary() == count_entries(ids)
    assert sum(stack.summary().values()) == len(ids)
    assert stack.broker.group_lag(engine.queries()[0].group_id) == {
        (TURNSTILES, p): 0 for p in range(4)
    }
    engine.close()


def test_restart_restores_counts_and_does_not_double_count(stack: Stack) -> None:
    stack.produce_entries([1, 2, 2, 3, 3, 3])
    engine = started(stack)
    drain(engine.pumps())
    engine.close()

    stack.produce_entries([3, 4])
    restarted = started(stack)  # same statement files, same query id, same consumer group
    (query,) = restarted.queries()
    assert query.stats.restored_rows >= 3
    assert drain([restarted]) == 2  # only what came after the commit
    assert stack.summary() == {1: 1, 2: 2, 3: 4, 4: 1}
    restarted.close()


def test_summary_says_since_when_each_station_counts(stack: Stack) -> None:
    stack.produce_entries([1, 2, 1], first=5_000)  # 1 @5000, 2 @5001, 1 @5002
    engine = started(stack)
    drain(engine.pumps())
    assert stack.first_timestamps() == {1: 5_000, 2: 5_001}
    engine.close()

    # After a restart the earliest times are restored: a later entry keeps them, an entry
    # stamped earlier (another producer, out of order) lowers them.
    restarted = started(stack)
    stack.produce_entries([1], first=9_000)
    stack.produce_entries([2], first=4_000)
    drain(restarted.pumps())
    assert stack.first_timestamps() == {1: 5_000, 2: 4_000}
    assert stack.summary() == {1: 3, 2: 2}
    restarted.close()


def test_counts_restored_from_rows_without_the_min_column_keep_it_unknown(stack: Stack) -> None:
    # A summary written before FIRST_TIMESTAMP existed: 5 entries of station 1, time unknown.
    producer = stack.broker.producer()
    producer.produce(TURNSTILE_SUMMARY, b'{"STATION_ID":1,"COUNT":5}', key=b"1")
    producer.flush()
    engine = started(stack)
    stack.produce_entries([1, 2], first=9_000)
    drain(engine.pumps())
    assert {sid: row["COUNT"] for sid, row in stack.latest_rows().items()} == {1: 6, 2: 1}
    # Not 9000: that would claim the count began with the new entry.
    assert stack.first_timestamps() == {1: None, 2: 9_001}
    engine.close()


def test_statements_are_idempotent(stack: Stack) -> None:
    engine = started(stack)
    outcomes = engine.execute(FILES)
    assert [o.warning for o in outcomes] == [True, True]
    assert "already exists" in outcomes[1].message
    assert len(engine.queries()) == 1
    with pytest.raises(KsqlStatementError, match="already exists"):
        engine.execute("CREATE STREAM turnstile WITH (KAFKA_TOPIC='x', VALUE_FORMAT='JSON');")


def test_malformed_record_goes_to_dead_letters(stack: Stack) -> None:
    engine = started(stack)
    stack.produce_entries([5])
    producer = stack.broker.producer()
    producer.produce(TURNSTILES, b"not avro at all", key=b"k")
    producer.produce(TURNSTILES, b"\x00\x00\x00\x03\xe7garbage", key=b"k2")  # unknown schema id
    producer.flush()
    stack.produce_entries([5])
    assert drain(engine.pumps()) == 4
    (query,) = engine.queries()
    assert query.stats.dead_lettered == 2
    dead = stack.broker.records(DEAD_LETTERS)
    assert sorted(r.value or b"" for r in dead) == sorted(
        [b"not avro at all", b"\x00\x00\x00\x03\xe7garbage"]
    )
    for record in dead:
        headers = dict(record.headers)
        assert headers["source.topic"] == TURNSTILES.encode()
        assert headers["ksql.query"] == b"CTAS_TURNSTILE_SUMMARY_2"
        assert b"value is not Avro" in headers["error"]
    assert stack.summary() == {5: 2}


def test_where_filters_and_group_by_other_column(stack: Stack) -> None:
    engine = started(stack)
    engine.execute(
        "CREATE TABLE per_line WITH (KAFKA_TOPIC='per_line', VALUE_FORMAT='JSON', "
        "KEY_FORMAT='KAFKA', PARTITIONS=1) AS SELECT line, COUNT(station_name) AS n "
        "FROM turnstile WHERE station_id > 10 AND line != 'red' GROUP BY line;"
    )
    stack.produce_entries([11, 12, 5], line="blue")
    stack.produce_entries([20], line="green")
    stack.produce_entries([30], line="red")
    drain(engine.pumps())
    rows = {r.key: r.value for r in stack.broker.records("per_line")}
    assert rows == {b"blue": b'{"N":2}', b"green": b'{"N":1}'}


@pytest.mark.parametrize(
    ("statement", "error", "match"),
    [
        (
            "CREATE TABLE t AS SELECT station_id, SUM(station_id) AS s FROM turnstile "
            "GROUP BY station_id;",
            KsqlUnsupportedError,
            "SUM",
        ),
        (
            "CREATE TABLE t AS SELECT station_id, COUNT(*), MIN(station_name) AS m "
            "FROM turnstile GROUP BY station_id;",
            KsqlUnsupportedError,
            "MIN of a STRING column",
        ),
        ("CREATE STREAM s2 AS SELECT * FROM turnstile;", KsqlUnsupportedError, "CREATE STREAM AS"),
        (
            "CREATE TABLE t AS SELECT COUNT(*) AS c FROM turnstile GROUP BY station_id;",
            KsqlStatementError,
            "Key missing from projection",
        ),
        (
            "CREATE TABLE t AS SELECT station_id, line, COUNT(*) FROM turnstile "
            "GROUP BY station_id;",
            KsqlStatementError,
            "not part of GROUP BY",
        ),
        (
            "CREATE TABLE t AS SELECT nope, COUNT(*) FROM turnstile GROUP BY nope;",
            KsqlStatementError,
            "cannot be resolved",
        ),
        (
            "CREATE TABLE t AS SELECT a, COUNT(*) FROM missing GROUP BY a;",
            KsqlStatementError,
            "MISSING does not exist",
        ),
        (
            "CREATE TABLE t WITH (VALUE_FORMAT='AVRO') AS SELECT station_id, COUNT(*) "
            "FROM turnstile GROUP BY station_id;",
            KsqlUnsupportedError,
            "VALUE_FORMAT",
        ),
        (
            "CREATE STREAM s3 WITH (KAFKA_TOPIC='no.such.topic', VALUE_FORMAT='AVRO');",
            KsqlStatementError,
            "does not exist",
        ),
        ("DROP TABLE nothing;", KsqlStatementError, "does not exist"),
        ("DROP STREAM turnstile;", KsqlStatementError, "CTAS_TURNSTILE_SUMMARY_2"),
        ("TERMINATE CTAS_NOPE_9;", KsqlStatementError, "Unknown queryId"),
    ],
)
def test_refusals_are_clear_and_name_the_statement(
    stack: Stack, statement: str, error: type[Exception], match: str
) -> None:
    engine = started(stack)
    with pytest.raises(error, match=match) as caught:
        engine.execute(statement)
    assert statement in str(caught.value)
    assert len(engine.queries()) == 1


def test_inference_needs_the_registered_schema() -> None:
    broker = MemoryBroker()
    broker.create_topics(PIPELINE_TOPICS)
    engine = KsqlEngine(broker, broker, MemorySchemaRegistry())
    with pytest.raises(KsqlStatementError, match="does not exist in the Schema Registry"):
        engine.execute(FILES)


def test_latest_offset_reset_is_refused(stack: Stack) -> None:
    with pytest.raises(KsqlUnsupportedError, match="earliest"):
        stack.engine().execute(FILES, {"ksql.streams.auto.offset.reset": "latest"})


def test_drop_and_terminate_stop_the_query(stack: Stack) -> None:
    engine = started(stack)
    (query,) = engine.queries()
    outcome = engine.execute("DROP TABLE turnstile_summary;")[0]
    assert outcome.command_id == "table/TURNSTILE_SUMMARY/drop"
    assert engine.queries() == [] and query.state == "TERMINATED"
    stack.produce_entries([1])
    assert query.pump() == 0
    engine.execute(FILES)
    (again,) = engine.queries()
    assert engine.execute(f"TERMINATE {again.name};")[0].command_id == (
        f"terminate/{again.name}/execute"
    )
    assert engine.queries() == []


def test_a_long_restore_that_keeps_progressing_is_not_cut_short(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seen on the real stack: after `cta demo --speed 0` the summary held 1.2 million rows, and
    # the restarted engine gave up after 30 s while it was still reading them back.
    stack.produce_entries(list(range(1, 41)))
    engine = started(stack)
    drain(engine.pumps())
    engine.close()
    clock = iter(range(0, 10_000, 3))  # every look at the clock: 3 s later
    monkeypatch.setattr("cta.ksql.query.time.monotonic", lambda: float(next(clock)))
    one_at_a_time = MemoryConsumer.consume
    monkeypatch.setattr(
        MemoryConsumer, "consume", lambda self, max_records=500, timeout=0.0: one_at_a_time(
            self, 1, timeout
        )
    )
    restarted = started(stack)  # restore_timeout 5 s: 40 rows take ~120 "seconds"
    (query,) = restarted.queries()
    assert query.counts() == {sid: 1 for sid in range(1, 41)}
    restarted.close()
