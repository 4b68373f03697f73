"""The project's KSQL set-up, the same on every engine: the turnstile value schema registered,
then the statement files of ``sql/ksql/`` executed, every query from the earliest offset.

The TURNSTILE stream takes its columns from the producers' registered value schema
(docs/ksql.md): registering it first means ksqlDB never registers a schema of its own. Both
steps are idempotent, so every instance of the engine runs them (same statements, same query
ids, hence the same consumer groups: the instances share the partitions).
``Pipeline.setup`` runs it against the backend's KSQL (ksqlDB or the in-process engine), the
engine process (``cta.kafka.ksql_process``) against its own engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from cta import schemas, topics
from cta.ksql.client import DEFAULT_PROPERTIES, statement_files
from cta.ports import SchemaRegistry


class ExecutesStatements(Protocol):
    """ksqlDB's REST client and the in-process engine alike."""

    def execute(self, statements: str, properties: Mapping[str, str], /) -> object: ...


def apply_project_statements(registry: SchemaRegistry, ksql: ExecutesStatements) -> None:
    registry.register(
        topics.subject_for(topics.TURNSTILES, is_key=False),
        schemas.load(schemas.TURNSTILE_VALUE),
    )
    for path in statement_files():
        ksql.execute(path.read_text(encoding="utf-8"), DEFAULT_PROPERTIES)
