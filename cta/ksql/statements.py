"""The parsed form of KSQL statements and expressions (immutable values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal as TypingLiteral

SourceKind = TypingLiteral["STREAM", "TABLE"]
PropertyValue = str | int | float | bool


# -- expressions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class ColumnRef:
    name: str
    source: str | None = None  # a qualifier such as ``t`` in ``t.station_id``


@dataclass(frozen=True, slots=True)
class Star:
    """``*``: all columns, or ``COUNT(*)``'s argument."""


@dataclass(frozen=True, slots=True)
class FunctionCall:
    name: str  # upper-cased
    args: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    op: str  # one of = != < <= > >=   (``<>`` is normalised to ``!=``)
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class IsNull:
    operand: Expression
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Logical:
    op: TypingLiteral["AND", "OR"]
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expression


Expression = Literal | ColumnRef | Star | FunctionCall | Comparison | IsNull | Logical | Not


# -- statements -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnDef:
    name: str
    type: str  # normalised SQL type text, e.g. INTEGER, STRING, DECIMAL(4,2), ARRAY<STRING>
    key: bool = False  # KEY (stream) or PRIMARY KEY (table)


@dataclass(frozen=True, slots=True)
class TumblingWindow:
    """A WINDOW TUMBLING clause: size, grace and retention in ms (cta.ksql.windows builds it
    with ksqlDB's defaults and says what each bound does)."""

    size_ms: int
    grace_ms: int
    retention_ms: int
    grace_given: bool = True  # GRACE PERIOD was written (else the legacy default applies)

    def start_of(self, timestamp_ms: int) -> int:
        """The start of the one window holding ``timestamp_ms`` (>= 0)."""
        return timestamp_ms - timestamp_ms % self.size_ms

    def end_of(self, start_ms: int) -> int:
        return start_ms + self.size_ms

    def closed(self, start_ms: int, stream_time_ms: int) -> bool:
        """Whether a record for the window at ``start_ms`` comes too late: the window ended at
        or before stream time minus the grace period (Kafka Streams drops it)."""
        return self.end_of(start_ms) <= stream_time_ms - self.grace_ms

    def expired(self, start_ms: int, stream_time_ms: int) -> bool:
        """Whether the window has left the store (its start is older than the retention)."""
        return start_ms <= stream_time_ms - self.retention_ms


@dataclass(frozen=True, slots=True)
class SelectItem:
    expression: Expression
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class Select:
    items: tuple[SelectItem, ...]
    source: str
    source_alias: str | None = None
    where: Expression | None = None
    group_by: tuple[Expression, ...] = ()
    emit_changes: bool = False
    limit: int | None = None
    window: TumblingWindow | None = None  # WINDOW TUMBLING (...)


@dataclass(frozen=True, slots=True)
class CreateSource:
    """CREATE STREAM|TABLE name (columns) WITH (...)."""

    text: str
    kind: SourceKind
    name: str
    columns: tuple[ColumnDef, ...]
    properties: dict[str, PropertyValue] = field(default_factory=dict)
    if_not_exists: bool = False
    or_replace: bool = False


@dataclass(frozen=True, slots=True)
class CreateAsSelect:
    """CREATE STREAM|TABLE name [WITH (...)] AS SELECT ..."""

    text: str
    kind: SourceKind
    name: str
    select: Select
    properties: dict[str, PropertyValue] = field(default_factory=dict)
    if_not_exists: bool = False
    or_replace: bool = False


@dataclass(frozen=True, slots=True)
class DropSource:
    text: str
    kind: SourceKind
    name: str
    if_exists: bool = False
    delete_topic: bool = False


@dataclass(frozen=True, slots=True)
class Terminate:
    text: str
    query_id: str | None  # None: TERMINATE ALL


@dataclass(frozen=True, slots=True)
class ShowQueries:
    text: str


@dataclass(frozen=True, slots=True)
class PushQuery:
    """A top-level SELECT: the /ksql endpoint refuses it (it belongs to /query)."""

    text: str
    select: Select


@dataclass(frozen=True, slots=True)
class Print:
    text: str
    topic: str


Statement = CreateSource | CreateAsSelect | DropSource | Terminate | ShowQueries | PushQuery | Print
