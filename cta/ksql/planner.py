"""Plans a CREATE TABLE AS SELECT into a ``CountPlan``, or says precisely why it cannot.

The supported shape is ksqlDB's per-key count::

    SELECT k [AS key_alias], [AS_VALUE(k) AS name,] COUNT(*|col) [AS name] [, MIN(col) AS name]
    FROM stream [WINDOW TUMBLING (...)] [WHERE simple comparisons] GROUP BY k

With a window, ``WINDOWSTART`` / ``WINDOWEND`` [AS name] may be selected too (value columns,
BIGINT epoch ms); the engine then runs a ``WindowedCountQuery`` (cta.ksql.windowed_query).

The grouping column becomes the sink's key (ksqlDB requires it in the projection);
``AS_VALUE(k)`` copies it into the value. ``MIN`` of a numeric column keeps its smallest non-null
value per key (the turnstile summary says since when it counts with the earliest event time).
"""

from __future__ import annotations

from collections.abc import Callable

from cta.ksql.errors import KsqlStatementError, KsqlUnsupportedError
from cta.ksql.query import CountPlan
from cta.ksql.statements import (
    ColumnDef,
    ColumnRef,
    Comparison,
    CreateAsSelect,
    Expression,
    FunctionCall,
    IsNull,
    Literal,
    Logical,
    Not,
    Star,
)

_NUMERIC_TYPES = frozenset({"INT", "INTEGER", "BIGINT", "DOUBLE"})
_AGGREGATES = frozenset(
    {
        "SUM",
        "AVG",
        "MAX",
        "COUNT_DISTINCT",
        "COLLECT_LIST",
        "COLLECT_SET",
        "TOPK",
        "TOPKDISTINCT",
        "HISTOGRAM",
        "EARLIEST_BY_OFFSET",
        "LATEST_BY_OFFSET",
        "STDDEV_SAMPLE",
        "CORRELATION",
    }
)


def plan_count_query(
    statement: CreateAsSelect,
    source_columns: tuple[ColumnDef, ...],
    source_topic: str,
    sink_topic: str,
    key_format: str,
    text: str,
) -> tuple[CountPlan, tuple[ColumnDef, ...]]:
    """The plan and the sink's columns (key column first)."""
    select = statement.select
    known = {c.name: c for c in source_columns}

    def column(ref: Expression, where: str) -> ColumnDef:
        if not isinstance(ref, ColumnRef):
            raise KsqlUnsupportedError(f"{where}: only plain column references", text)
        if ref.source is not None and ref.source not in (select.source, select.source_alias):
            raise KsqlStatementError(f"{where}: unknown source qualifier {ref.source}", text)
        found = known.get(ref.name)
        if found is None:
            raise KsqlStatementError(f"{where}: column '{ref.name}' cannot be resolved.", text)
        return found

    if not select.group_by:
        raise KsqlUnsupportedError("a CREATE TABLE AS SELECT without GROUP BY", text)
    windowed = select.window is not None
    bounds = [
        e.name
        for e in select.group_by
        if isinstance(e, ColumnRef) and _window_bound(e, windowed, known)
    ]
    if bounds:
        raise KsqlStatementError(
            f"Window bounds column {bounds[0]} can only be used in the SELECT clause of "
            "windowed aggregations",
            text,
        )
    if len(select.group_by) > 1:
        raise KsqlUnsupportedError("GROUP BY on more than one column", text)
    group = column(select.group_by[0], "GROUP BY")
    if select.where is not None:
        _check_where(select.where, lambda ref: column(ref, "WHERE"), text)

    key_column: str | None = None
    values: list[tuple[str, str]] = []
    counted: list[str | None] = []
    minimums: list[tuple[str, ColumnDef]] = []
    for index, item in enumerate(select.items):
        expression = item.expression
        default_name = f"KSQL_COL_{index}"
        if isinstance(expression, ColumnRef) and _window_bound(expression, windowed, known):
            # WINDOWSTART / WINDOWEND: copied into the value, as ksqlDB does (BIGINT epoch ms).
            values.append((item.alias or expression.name, expression.name))
        elif isinstance(expression, ColumnRef):
            if column(expression, "SELECT").name != group.name:
                raise KsqlStatementError(
                    f"Non-aggregate SELECT expression(s) not part of GROUP BY: {expression.name}",
                    text,
                )
            if key_column is not None:
                raise KsqlUnsupportedError("selecting the grouping column twice", text)
            key_column = item.alias or group.name
        elif isinstance(expression, FunctionCall) and expression.name == "AS_VALUE":
            if (
                len(expression.args) != 1
                or column(expression.args[0], "AS_VALUE").name != group.name
            ):
                raise KsqlUnsupportedError("AS_VALUE of anything but the grouping column", text)
            values.append((item.alias or default_name, "KEY"))
        elif isinstance(expression, FunctionCall) and expression.name == "COUNT":
            if len(expression.args) != 1:
                raise KsqlStatementError("COUNT takes one argument", text)
            argument = expression.args[0]
            counted.append(None if isinstance(argument, Star) else column(argument, "COUNT").name)
            values.append((item.alias or default_name, "COUNT"))
        elif isinstance(expression, FunctionCall) and expression.name == "MIN":
            if len(expression.args) != 1:
                raise KsqlStatementError("MIN takes one argument", text)
            of = column(expression.args[0], "MIN")
            if of.type.upper() not in _NUMERIC_TYPES:
                raise KsqlUnsupportedError(f"MIN of a {of.type} column (only numbers)", text)
            minimums.append((item.alias or default_name, of))
            values.append((item.alias or default_name, "MIN"))
        elif isinstance(expression, FunctionCall) and expression.name in _AGGREGATES:
            raise KsqlUnsupportedError(
                f"aggregate {expression.name} (only COUNT and MIN run)", text
            )
        elif isinstance(expression, Star):
            raise KsqlStatementError("SELECT * cannot be used with GROUP BY", text)
        else:
            raise KsqlUnsupportedError(f"projection {expression!r}", text)
    if len(counted) != 1:
        raise KsqlUnsupportedError("a projection without exactly one COUNT", text)
    if key_column is None:
        raise KsqlStatementError(
            f"Key missing from projection (ie, SELECT). The query used to build `"
            f"{statement.name}` must include the grouping expression {group.name} in its "
            "projection (eg, SELECT " + group.name + "...).",
            text,
        )
    names = [key_column, *(name for name, _ in values)]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise KsqlStatementError(
            f"duplicate column name(s) {sorted(duplicates)}; alias the key "
            "column to copy it into the value with AS_VALUE",
            text,
        )
    plan = CountPlan(
        source_topic=source_topic,
        sink_topic=sink_topic,
        group_column=group.name,
        key_column=key_column,
        key_type=group.type,
        key_format=key_format,
        value_columns=tuple(values),
        counted_column=counted[0],
        where=select.where,
        minimums=tuple((name, of.name) for name, of in minimums),
    )
    minimum_types = {name: of.type for name, of in minimums}

    def sink_type(name: str, role: str) -> str:
        if role == "KEY":
            return group.type
        return minimum_types[name] if role == "MIN" else "BIGINT"

    sink_columns = (
        ColumnDef(key_column, group.type, key=True),
        *(ColumnDef(name, sink_type(name, role)) for name, role in values),
    )
    return plan, sink_columns


WINDOW_BOUNDS = ("WINDOWSTART", "WINDOWEND")


def _window_bound(expression: Expression, windowed: bool, known: dict[str, ColumnDef]) -> bool:
    """Whether ``expression`` is the WINDOWSTART/WINDOWEND system column of a windowed query
    (a source column of that name wins, as ksqlDB resolves source columns first)."""
    return (
        windowed
        and isinstance(expression, ColumnRef)
        and expression.source is None
        and expression.name in WINDOW_BOUNDS
        and expression.name not in known
    )


def _check_where(
    expression: Expression, resolve: Callable[[Expression], ColumnDef], text: str
) -> None:
    """Only comparisons, IS [NOT] NULL, AND/OR/NOT over columns and literals."""
    if isinstance(expression, Literal):
        return
    if isinstance(expression, ColumnRef):
        resolve(expression)
    elif isinstance(expression, Comparison | Logical):
        _check_where(expression.left, resolve, text)
        _check_where(expression.right, resolve, text)
    elif isinstance(expression, IsNull | Not):
        _check_where(expression.operand, resolve, text)
    else:
        raise KsqlUnsupportedError(
            f"WHERE expression {expression!r} (only simple comparisons)", text
        )
