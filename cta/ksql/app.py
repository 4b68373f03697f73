"""The ksqlDB REST subset (see /work/shared/reference/api-contracts.md) over a ``KsqlEngine``.

``POST /ksql`` runs statements and answers one entity per statement; the first failing statement
ends the request with a 400 ``statement_error`` carrying the entities of those that ran.
``GET /status/{commandId}``, ``GET /info`` and ``GET /healthcheck`` complete it.
"""

from __future__ import annotations

import threading
from typing import Any

from cta.http import HttpRequest, HttpResponse
from cta.ksql.engine import KsqlEngine, Outcome
from cta.ksql.errors import KsqlError
from cta.ksql.parser import parse
from cta.ksql.statements import Print, PushQuery, ShowQueries, Statement

KSQL_CONTENT_TYPE = "application/vnd.ksql.v1+json"
SERVER_VERSION = "0.29.0"
STATEMENT_ERROR = 40001
QUERY_ENDPOINT_ERROR = 40002
BAD_REQUEST = 40000
NOT_FOUND = 40400
_ACCEPTED_CONTENT_TYPES = (KSQL_CONTENT_TYPE, "application/json")


class KsqlApp:
    """A ``cta.http.Handler``: call it with an ``HttpRequest``."""

    def __init__(self, engine: KsqlEngine, *, kafka_cluster_id: str = "cta-memory") -> None:
        self.engine = engine
        self._cluster_id = kafka_cluster_id
        self._commands: dict[str, dict[str, str]] = {}
        self._sequence = 0
        self._lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path.rstrip("/") or "/"
        if path == "/ksql":
            if request.method != "POST":
                return _error(405, BAD_REQUEST, f"{request.method} /ksql is not allowed")
            return self._ksql(request)
        if request.method != "GET":
            return _error(405, BAD_REQUEST, f"{request.method} {path} is not allowed")
        if path == "/info":
            return _json(
                200,
                {
                    "KsqlServerInfo": {
                        "version": SERVER_VERSION,
                        "kafkaClusterId": self._cluster_id,
                        "ksqlServiceId": self.engine.service_id,
                        "serverStatus": "RUNNING",
                    }
                },
            )
        if path == "/healthcheck":
            healthy = {"isHealthy": True}
            return _json(
                200,
                {
                    "isHealthy": True,
                    "details": {"metastore": healthy, "kafka": healthy, "commandRunner": healthy},
                },
            )
        if path.startswith("/status/"):
            command_id = path.removeprefix("/status/")
            with self._lock:
                status = self._commands.get(command_id)
            if status is None:
                return _error(404, NOT_FOUND, f"Command not found: {command_id}")
            return _json(200, status)
        return _error(404, NOT_FOUND, f"no such endpoint: {request.method} {path}")

    def _ksql(self, request: HttpRequest) -> HttpResponse:
        content_type = request.header("Content-Type").split(";")[0].strip().lower()
        if content_type not in _ACCEPTED_CONTENT_TYPES:
            return _error(
                415, 41500, f"unsupported Content-Type {content_type!r}; send {KSQL_CONTENT_TYPE}"
            )
        try:
            body = request.json()
        except (UnicodeDecodeError, ValueError) as exc:
            return _error(400, BAD_REQUEST, f"request body is not JSON: {exc}")
        if not isinstance(body, dict) or not isinstance(body.get("ksql"), str):
            return _error(400, BAD_REQUEST, 'request body needs a "ksql" string')
        properties = body.get("streamsProperties") or {}
        if not isinstance(properties, dict):
            return _error(400, BAD_REQUEST, '"streamsProperties" must be an object')
        text: str = body["ksql"]
        try:
            statements = parse(text)
        except KsqlError as exc:
            return _statement_error(400, STATEMENT_ERROR, exc.message, exc.statement or text, [])
        entities: list[dict[str, Any]] = []
        for statement in statements:
            if isinstance(statement, PushQuery | Print):
                return _statement_error(
                    400,
                    QUERY_ENDPOINT_ERROR,
                    "The following statement types should be issued to the websocket endpoint "
                    "'/query':\n\t* PRINT\n\t* SELECT",
                    statement.text,
                    entities,
                )
            try:
                entities.append(self._run(statement, properties))
            except KsqlError as exc:
                return _statement_error(400, STATEMENT_ERROR, exc.message, statement.text, entities)
        return _json(200, entities)

    def _run(self, statement: Statement, properties: dict[str, Any]) -> dict[str, Any]:
        if isinstance(statement, ShowQueries):
            return {
                "@type": "queries",
                "statementText": statement.text,
                "warnings": [],
                "queries": [
                    query_json(q.name, q.statement, q.sink, q.plan.sink_topic, q.state)
                    for q in self.engine.queries()
                ],
            }
        outcome = self.engine.execute_statement(statement, properties)
        if outcome.warning or outcome.command_id is None:
            return {
                "@type": "warning_entity",
                "statementText": outcome.statement,
                "message": outcome.message,
                "warnings": [],
            }
        return self._record(outcome)

    def _record(self, outcome: Outcome) -> dict[str, Any]:
        assert outcome.command_id is not None
        status: dict[str, str] = {"status": "SUCCESS", "message": outcome.message}
        if outcome.query_id is not None:
            status["queryId"] = outcome.query_id
        with self._lock:
            self._sequence += 1
            sequence = self._sequence
            self._commands[outcome.command_id] = status
        return {
            "@type": "currentStatus",
            "statementText": outcome.statement,
            "commandId": outcome.command_id,
            "commandStatus": status,
            "commandSequenceNumber": sequence,
            "warnings": [],
        }


def query_json(
    query_id: str, statement: str, sink: str, sink_topic: str, state: str
) -> dict[str, Any]:
    """One entry of SHOW QUERIES, in ksqlDB's shape."""
    return {
        "queryString": statement,
        "sinks": [sink],
        "sinkKafkaTopics": [sink_topic],
        "id": query_id,
        "statusCount": {state: 1},
        "queryType": "PERSISTENT",
        "state": state,
    }


def _json(status: int, payload: Any) -> HttpResponse:
    return HttpResponse.json(status, payload, content_type=KSQL_CONTENT_TYPE)


def _error(status: int, code: int, message: str) -> HttpResponse:
    return _json(status, {"@type": "generic_error", "error_code": code, "message": message})


def _statement_error(
    status: int, code: int, message: str, statement: str, entities: list[dict[str, Any]]
) -> HttpResponse:
    return _json(
        status,
        {
            "@type": "statement_error",
            "error_code": code,
            "message": message,
            "statementText": statement,
            "entities": entities,
        },
    )
