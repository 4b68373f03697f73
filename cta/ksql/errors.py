"""KSQL errors: each names the statement it is about, so a failing file is easy to find."""

from __future__ import annotations


class KsqlError(Exception):
    """A statement that could not be parsed or executed."""

    def __init__(self, message: str, statement: str = "") -> None:
        detail = f"{message}\nStatement: {statement}" if statement else message
        super().__init__(detail)
        self.message = message
        self.statement = statement


class KsqlSyntaxError(KsqlError):
    """Text outside the supported grammar, with the 1-based line and column where it fails."""

    def __init__(self, message: str, statement: str, line: int, column: int) -> None:
        super().__init__(f"line {line}:{column}: {message}", statement)
        self.line = line
        self.column = column


class KsqlUnsupportedError(KsqlError):
    """Valid ksqlDB that this engine deliberately does not run (windows, joins, ...)."""


class KsqlStatementError(KsqlError):
    """A well-formed statement the metastore refuses (unknown source, name taken, ...)."""
