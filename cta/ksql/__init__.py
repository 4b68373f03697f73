"""KSQL: the statement files' parser, the in-process engine that runs them, its ksqlDB REST
handler, and the ksqlDB REST client (``cta.ports.KsqlAdmin``) used on both backends."""

from cta.ksql.app import KsqlApp
from cta.ksql.client import KsqlClient, KsqlClientError, statement_files
from cta.ksql.engine import KsqlEngine
from cta.ksql.errors import KsqlError, KsqlStatementError, KsqlSyntaxError, KsqlUnsupportedError
from cta.ksql.parser import parse

__all__ = [
    "KsqlApp",
    "KsqlClient",
    "KsqlClientError",
    "KsqlEngine",
    "KsqlError",
    "KsqlStatementError",
    "KsqlSyntaxError",
    "KsqlUnsupportedError",
    "parse",
    "statement_files",
]
