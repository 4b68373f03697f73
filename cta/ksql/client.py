"""The ksqlDB REST client: ``cta.ports.KsqlAdmin`` over ``POST /ksql`` and ``GET /status``.

Statements are sent one at a time so that one that already ran (an existing stream or table)
does not stop the rest: ksqlDB answers ``IF NOT EXISTS`` on an existing source with a 200
``warning_entity`` and a plain CREATE with a 400 ``statement_error`` (40001) "... already
exists"; both count as success. A command that is not finished yet is polled on
``GET /status/{commandId}``. Connection errors and 5xx answers are retried with backoff.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import requests

from cta import resources
from cta.http import TRANSPORT_ERRORS
from cta.ksql.lexer import split_statements
from cta.ports import KsqlResult
from cta.retry import Backoff, exponential_delays, retry

log = logging.getLogger(__name__)

KSQL_CONTENT_TYPE = "application/vnd.ksql.v1+json"
HEADERS = {"Accept": KSQL_CONTENT_TYPE, "Content-Type": KSQL_CONTENT_TYPE}
# Start every query at the earliest offset, or entries produced before it started are missed.
DEFAULT_PROPERTIES: Mapping[str, str] = {"ksql.streams.auto.offset.reset": "earliest"}
STATEMENT_DIR = resources.sql_dir() / "ksql"
_FINISHED = frozenset({"SUCCESS", "RUNNING", "TERMINATED"})
_ALREADY_EXISTS = "already exists"


class KsqlClientError(RuntimeError):
    """ksqlDB refused a statement or a command failed; carries the server's message."""

    def __init__(self, message: str, statement: str = "", error_code: int | None = None) -> None:
        super().__init__(f"{message}\nStatement: {statement}" if statement else message)
        self.message = message
        self.statement = statement
        self.error_code = error_code


def statement_files(directory: Path = STATEMENT_DIR) -> list[Path]:
    """The statement files of ``sql/ksql/``, in the order they must run."""
    return sorted(directory.glob("*.sql"))


class KsqlClient:
    def __init__(
        self,
        base_url: str,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        *,
        attempts: int = 6,
        backoff: float = 0.25,
        max_backoff: float = 5.0,
        command_timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout
        self.backoff = Backoff(attempts, backoff, max_backoff, sleep)
        self.command_timeout = command_timeout

    # -- KsqlAdmin --------------------------------------------------------------------------

    def execute(
        self, statements: str, properties: Mapping[str, str] | None = None
    ) -> list[KsqlResult]:
        props = dict(DEFAULT_PROPERTIES if properties is None else properties)
        return [self._execute_one(text, props) for text in split_statements(statements)]

    def queries(self) -> list[dict[str, Any]]:
        response = self._request(
            "POST", "/ksql", json={"ksql": "SHOW QUERIES;", "streamsProperties": {}}
        )
        entities = self._json(response, "SHOW QUERIES;")
        if response.status_code != 200 or not isinstance(entities, list) or not entities:
            raise KsqlClientError(f"SHOW QUERIES failed: {response.status_code} {entities}")
        queries = entities[0].get("queries", [])
        return list(queries) if isinstance(queries, list) else []

    # -- conveniences -----------------------------------------------------------------------

    def execute_files(
        self, paths: Iterable[Path] | None = None, properties: Mapping[str, str] | None = None
    ) -> list[KsqlResult]:
        """Run every statement of the files (``statement_files()`` by default), in order."""
        results: list[KsqlResult] = []
        for path in statement_files() if paths is None else paths:
            results.extend(self.execute(Path(path).read_text(encoding="utf-8"), properties))
        return results

    def info(self) -> dict[str, Any]:
        response = self._request("GET", "/info")
        body = self._json(response, "")
        if response.status_code != 200 or not isinstance(body, dict):
            raise KsqlClientError(f"GET /info failed: {response.status_code} {body}")
        return body

    # -- internals --------------------------------------------------------------------------

    def _execute_one(self, statement: str, properties: Mapping[str, str]) -> KsqlResult:
        response = self._request(
            "POST", "/ksql", json={"ksql": statement, "streamsProperties": dict(properties)}
        )
        body = self._json(response, statement)
        if response.status_code != 200:
            return self._refused(statement, body, response.status_code)
        if not isinstance(body, list) or len(body) != 1 or not isinstance(body[0], dict):
            raise KsqlClientError(f"unexpected /ksql answer: {body!r}", statement)
        entity: dict[str, Any] = body[0]
        if entity.get("@type") == "warning_entity":
            message = str(entity.get("message", ""))
            log.info("ksql: %s", message)
            return KsqlResult(statement, None, "SUCCESS", message)
        command_id = entity.get("commandId")
        status = entity.get("commandStatus") or {}
        state = str(status.get("status", ""))
        if command_id and state not in _FINISHED:
            status = self._wait(str(command_id), statement)
            state = str(status.get("status"))
        if state == "ERROR":
            raise KsqlClientError(str(status.get("message", "command failed")), statement)
        return KsqlResult(
            statement,
            None if command_id is None else str(command_id),
            state or "SUCCESS",
            str(status.get("message", "")),
            status.get("queryId"),
        )

    def _refused(self, statement: str, body: Any, status_code: int) -> KsqlResult:
        message = body.get("message", "") if isinstance(body, dict) else str(body)
        code = body.get("error_code") if isinstance(body, dict) else None
        if (
            code == 40001
            and _ALREADY_EXISTS in str(message)
            and statement.lstrip().upper().startswith("CREATE")
        ):
            log.info("ksql: %s (treated as success)", message)
            return KsqlResult(statement, None, "SUCCESS", str(message))
        raise KsqlClientError(
            f"ksqlDB refused the statement ({status_code}, {code}): {message}",
            statement,
            code if isinstance(code, int) else None,
        )

    def _wait(self, command_id: str, statement: str) -> dict[str, Any]:
        """Poll GET /status/{commandId} until the command finishes or fails."""
        deadline = time.monotonic() + self.command_timeout
        delays = exponential_delays(self.backoff.initial, self.backoff.maximum)
        while True:
            response = self._request("GET", f"/status/{command_id}")
            status = self._json(response, statement)
            if response.status_code == 200 and isinstance(status, dict):
                if status.get("status") in _FINISHED or status.get("status") == "ERROR":
                    return status
            elif response.status_code != 404:  # 404: not yet known to this server
                raise KsqlClientError(
                    f"GET /status/{command_id} failed: {response.status_code} {status}", statement
                )
            if time.monotonic() > deadline:
                raise KsqlClientError(
                    f"command {command_id} not finished after {self.command_timeout}s "
                    f"(last status {status})",
                    statement,
                )
            self.backoff.sleep(next(delays))

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One HTTP call, retried with backoff on connection errors and 5xx answers."""
        url = self.base_url + path
        send = partial(
            self.session.request, method, url, headers=HEADERS, timeout=self.timeout, **kwargs
        )
        problem: str | None
        try:
            response = retry(
                send,
                backoff=self.backoff,
                describe=f"ksql {method} {path}",
                log=log,
                retry_on=TRANSPORT_ERRORS,
                retry_if=_server_error,
            )
        except TRANSPORT_ERRORS as exc:
            problem = f"{type(exc).__name__}: {exc}"
        else:
            problem = _server_error(response)
            if problem is None:
                return response
        raise KsqlClientError(
            f"{method} {path} failed after {self.backoff.attempts} attempts: {problem}"
        )

    @staticmethod
    def _json(response: requests.Response, statement: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise KsqlClientError(
                f"ksqlDB answered {response.status_code} with non-JSON: {response.text[:200]}",
                statement,
            ) from exc


def _server_error(response: requests.Response) -> str | None:
    """The problem with a 5xx answer (worth retrying), or None for any other answer."""
    if response.status_code < 500:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"
