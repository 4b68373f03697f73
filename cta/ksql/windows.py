"""Tumbling windows: the WINDOW clause, window assignment and the windowed key format.

ksqlDB's grammar (``SqlBase.g4``)::

    WINDOW TUMBLING '(' SIZE n unit [',' RETENTION n unit] [',' GRACE PERIOD n unit] ')'

with units DAY(S) HOUR(S) MINUTE(S) SECOND(S) MILLISECOND(S). Windows are aligned on the epoch
(UTC), start inclusive, end exclusive: a record at ``t`` belongs to ``[t - t % size, ... + size)``.

Keys of a windowed table are written as Kafka Streams' ``TimeWindowedSerializer`` writes them:
the inner key's bytes (the sink's key format), then the window start as an 8-byte big-endian
long. The end is not in the key: a reader knows the size (``TimeWindowedDeserializer``).

Grace and retention follow Kafka Streams' window aggregation: a record whose window ended at or
before ``stream time - grace`` is dropped (counted and logged); a window whose start is at or
before ``stream time - retention`` leaves the state. Without GRACE PERIOD the grace is Kafka
Streams' legacy ``TimeWindows.of(size)`` default, 24 hours minus the size (at least 0), which
ksqlDB's tumbling windows used in the sources we read; newer ksqlDB releases may pick another, so
a statement meant for both (ours) states GRACE PERIOD. Without RETENTION the retention is
``size + grace``, the smallest a window store accepts.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from cta.ksql.statements import TumblingWindow

if TYPE_CHECKING:
    from cta.ksql.expressions import ExpressionParser

_UNITS_MS = {
    "MILLISECOND": 1,
    "SECOND": 1_000,
    "MINUTE": 60_000,
    "HOUR": 3_600_000,
    "DAY": 86_400_000,
}
_UNIT_WORDS = (*_UNITS_MS, *(unit + "S" for unit in _UNITS_MS))
_LEGACY_GRACE_MS = 86_400_000  # Kafka Streams' TimeWindows.of(size): grace 24 h - size
_WINDOW_START = struct.Struct(">q")
WINDOW_START_BYTES = _WINDOW_START.size


class WindowClauseError(ValueError):
    """A window the grammar accepts but Kafka Streams refuses (its message)."""


class WindowedKeyError(ValueError):
    """Bytes that are not a time-windowed key."""


def tumbling(
    size_ms: int, grace_ms: int | None = None, retention_ms: int | None = None
) -> TumblingWindow:
    """A tumbling window with the defaults described in the module docstring."""
    if size_ms <= 0:
        raise WindowClauseError("Window size must be positive")
    grace = max(_LEGACY_GRACE_MS - size_ms, 0) if grace_ms is None else grace_ms
    retention = size_ms + grace if retention_ms is None else retention_ms
    if retention < size_ms + grace:
        raise WindowClauseError(
            "The retention period of the window store must be no smaller than its window size "
            f"plus the grace period. Got size=[{size_ms}], grace=[{grace}], "
            f"retention=[{retention}]"
        )
    return TumblingWindow(size_ms, grace, retention, grace_ms is not None)


def parse_window_clause(parser: ExpressionParser) -> TumblingWindow:
    """After ``WINDOW``: the tumbling window expression; HOPPING and SESSION are refused."""
    if parser.token.is_word("HOPPING", "SESSION"):
        raise parser.unsupported(f"{parser.token.value} windows (only TUMBLING runs)")
    parser.expect_word("TUMBLING")
    parser.expect_symbol("(")
    parser.expect_word("SIZE")
    size = _duration(parser)
    retention = grace = None
    if parser.token.is_symbol(",") and parser.peek().is_word("RETENTION"):
        parser.advance()
        parser.advance()
        retention = _duration(parser)
    if parser.accept_symbol(","):
        parser.expect_word("GRACE")
        parser.expect_word("PERIOD")
        grace = _duration(parser)
    parser.expect_symbol(")")
    try:
        return tumbling(size, grace, retention)
    except WindowClauseError as exc:
        raise parser.error(str(exc)) from None


def _duration(parser: ExpressionParser) -> int:
    amount = parser.integer()
    unit = parser.expect_word(*_UNIT_WORDS)
    return amount * _UNITS_MS[unit.removesuffix("S") if unit not in _UNITS_MS else unit]


# -- the time-windowed key format -----------------------------------------------------------


def encode_windowed_key(inner: bytes, window_start_ms: int) -> bytes:
    """Kafka Streams' TimeWindowedSerializer: inner key bytes + 8-byte big-endian start."""
    return inner + _WINDOW_START.pack(window_start_ms)


def split_windowed_key(key: bytes | None) -> tuple[bytes, int]:
    """(inner key bytes, window start) of a time-windowed key."""
    if key is None or len(key) <= WINDOW_START_BYTES:
        size = "no" if key is None else f"{len(key)}-byte"
        raise WindowedKeyError(f"{size} key is not a time-windowed key (inner key + 8-byte start)")
    return key[:-WINDOW_START_BYTES], _WINDOW_START.unpack(key[-WINDOW_START_BYTES:])[0]


__all__ = [
    "TumblingWindow",
    "WindowClauseError",
    "WindowedKeyError",
    "encode_windowed_key",
    "parse_window_clause",
    "split_windowed_key",
    "tumbling",
]
