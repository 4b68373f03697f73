from __future__ import annotations

import pytest

from cta.ksql.client import statement_files
from cta.ksql.errors import KsqlSyntaxError, KsqlUnsupportedError
from cta.ksql.lexer import split_statements
from cta.ksql.parser import parse, parse_one
from cta.ksql.statements import (
    ColumnDef,
    ColumnRef,
    Comparison,
    CreateAsSelect,
    CreateSource,
    DropSource,
    FunctionCall,
    IsNull,
    Literal,
    Logical,
    Not,
    Print,
    PushQuery,
    SelectItem,
    ShowQueries,
    Star,
    Terminate,
)


def test_our_statement_files_parse() -> None:
    files = statement_files()
    assert [f.name for f in files] == [
        "01_turnstile.sql",
        "02_turnstile_summary.sql",
        "03_turnstile_hourly.sql",
    ]
    (stream,) = parse(files[0].read_text())
    (summary,) = parse(files[1].read_text())
    assert isinstance(stream, CreateSource)
    assert (stream.kind, stream.name, stream.if_not_exists) == ("STREAM", "TURNSTILE", True)
    assert stream.properties == {
        "KAFKA_TOPIC": "org.chicago.cta.turnstiles.v1",
        "VALUE_FORMAT": "AVRO",
    }
    assert isinstance(summary, CreateAsSelect)
    assert (summary.kind, summary.name, summary.if_not_exists) == (
        "TABLE",
        "TURNSTILE_SUMMARY",
        True,
    )
    assert summary.properties["KAFKA_TOPIC"] == "TURNSTILE_SUMMARY"
    assert summary.select.source == "TURNSTILE"
    assert summary.select.group_by == (ColumnRef("STATION_ID"),)
    assert summary.select.items == (
        SelectItem(ColumnRef("STATION_ID"), "STATION_KEY"),
        SelectItem(FunctionCall("AS_VALUE", (ColumnRef("STATION_ID"),)), "STATION_ID"),
        SelectItem(FunctionCall("COUNT", (Star(),)), "COUNT"),
        SelectItem(FunctionCall("MIN", (ColumnRef("TIMESTAMP"),)), "FIRST_TIMESTAMP"),
    )
    assert summary.text.startswith("CREATE TABLE IF NOT EXISTS turnstile_summary")
    assert summary.text.endswith("EMIT CHANGES;")


def test_declared_columns_keys_types_and_case() -> None:
    statement = parse_one(
        "create or replace stream `MixedCase` (id BIGINT KEY, `name` varchar, "
        "price DECIMAL(4, 2), tags ARRAY<STRING>, attrs MAP<STRING, INT>, "
        "addr STRUCT<street STRING, zip INT>) with (kafka_topic='t', value_format='json', "
        "partitions=3, wrap_single_value=false);"
    )
    assert isinstance(statement, CreateSource)
    assert statement.or_replace and statement.name == "MixedCase"
    assert statement.columns == (
        ColumnDef("ID", "BIGINT", key=True),
        ColumnDef("name", "STRING"),
        ColumnDef("PRICE", "DECIMAL(4, 2)"),
        ColumnDef("TAGS", "ARRAY<STRING>"),
        ColumnDef("ATTRS", "MAP<STRING, INTEGER>"),
        ColumnDef("ADDR", "STRUCT<`STREET` STRING, `ZIP` INTEGER>"),
    )
    assert statement.properties == {
        "KAFKA_TOPIC": "t",
        "VALUE_FORMAT": "json",
        "PARTITIONS": 3,
        "WRAP_SINGLE_VALUE": False,
    }


def test_table_needs_primary_key_and_stream_refuses_it() -> None:
    table = parse_one("CREATE TABLE t (id INT PRIMARY KEY, v STRING) WITH (KAFKA_TOPIC='t');")
    assert isinstance(table, CreateSource) and table.columns[0].key
    with pytest.raises(KsqlSyntaxError, match="PRIMARY KEY"):
        parse("CREATE TABLE t (id INT, v STRING) WITH (KAFKA_TOPIC='t');")
    with pytest.raises(KsqlSyntaxError, match="declared KEY"):
        parse("CREATE STREAM s (id INT PRIMARY KEY) WITH (KAFKA_TOPIC='t');")


def test_comments_strings_and_semicolons() -> None:
    text = """
    -- a comment; with a semicolon
    /* block; comment */ DROP STREAM IF EXISTS s DELETE TOPIC;;
    TERMINATE CTAS_X_3; terminate all;
    SHOW QUERIES; LIST QUERIES;
    """
    statements = parse(text)
    assert statements == [
        DropSource("DROP STREAM IF EXISTS s DELETE TOPIC;", "STREAM", "S", True, True),
        Terminate("TERMINATE CTAS_X_3;", "CTAS_X_3"),
        Terminate("terminate all;", None),
        ShowQueries("SHOW QUERIES;"),
        ShowQueries("LIST QUERIES;"),
    ]
    assert split_statements("SELECT 'a;''b' FROM x; -- ; tail\nPRINT 't';") == [
        "SELECT 'a;''b' FROM x;",
        "PRINT 't';",
    ]


def test_where_expressions() -> None:
    statement = parse_one(
        "SELECT * FROM s WHERE a = 1 AND NOT (b <> 'x' OR c IS NOT NULL) AND d >= -2.5 "
        "EMIT CHANGES LIMIT 3;"
    )
    assert isinstance(statement, PushQuery)
    assert statement.select.limit == 3
    assert statement.select.where == Logical(
        "AND",
        Logical(
            "AND",
            Comparison("=", ColumnRef("A"), Literal(1)),
            Not(
                Logical(
                    "OR",
                    Comparison("!=", ColumnRef("B"), Literal("x")),
                    IsNull(ColumnRef("C"), negated=True),
                )
            ),
        ),
        Comparison(">=", ColumnRef("D"), Literal(-2.5)),
    )
    assert isinstance(parse_one("PRINT 'org.x' FROM BEGINNING LIMIT 2;"), Print)


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("CREATE STREAM s (a INT) WITH (KAFKA_TOPIC='t')", "does not end with|expected ';'", 1, 47),
        ("CREATE STREAM s (a FANCY) WITH (KAFKA_TOPIC='t');", "expected BOOLEAN", 1, 20),
        ("CREATE STREAM s WITH (KAFKA_TOPIC='t' VALUE_FORMAT='AVRO');", "expected '\\)'", 1, 39),
        ("SELECT a + b FROM s;", "expected FROM", 1, 10),
        ("CREATE STREAM s;\n", "expected a column list", 1, 16),
        ("UPSERT INTO s VALUES (1);", "expected CREATE", 1, 1),
        ("CREATE STREAM s (a INT) WITH (KAFKA_TOPIC='unterminated);", "unterminated string", 1, 43),
        ("DROP STREAM s; /* open", "unterminated /\\* comment", 1, 16),
        ("CREATE STREAM s (a INT, a INT) WITH (KAFKA_TOPIC='t');", "duplicate column A", 1, 25),
    ],
)
def test_syntax_errors_name_statement_and_position(
    text: str, message: str, line: int, column: int
) -> None:
    with pytest.raises(KsqlSyntaxError, match=message) as caught:
        parse(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert caught.value.statement
    assert caught.value.statement in text
    assert "Statement:" in str(caught.value)


def test_error_in_second_statement_names_that_statement_and_line() -> None:
    text = "DROP STREAM a;\nDROP STREAM b c;\n"
    with pytest.raises(KsqlSyntaxError) as caught:
        parse(text)
    assert caught.value.statement == "DROP STREAM b c;"
    assert caught.value.line == 2


@pytest.mark.parametrize(
    ("clause", "feature"),
    [
        ("FROM s JOIN t ON s.id = t.id GROUP BY s.id", "joins"),
        ("FROM s WINDOW HOPPING (SIZE 1 HOUR, ADVANCE BY 5 MINUTES) GROUP BY id", "HOPPING"),
        ("FROM s WINDOW SESSION (30 MINUTES) GROUP BY id", "SESSION"),
        ("FROM s GROUP BY id HAVING COUNT(*) > 1", "HAVING"),
        ("FROM s GROUP BY id EMIT FINAL", "EMIT FINAL"),
    ],
)
def test_recognised_but_unsupported_features_are_refused_by_name(clause: str, feature: str) -> None:
    with pytest.raises(KsqlUnsupportedError, match=feature) as caught:
        parse(f"CREATE TABLE x AS SELECT id, COUNT(*) {clause};")
    assert caught.value.statement.startswith("CREATE TABLE x AS SELECT")
