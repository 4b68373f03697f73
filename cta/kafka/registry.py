"""The SchemaRegistry port over the Confluent Schema Registry REST API.

Plain requests rather than confluent's client: the same calls then work against Confluent's
registry and against Apicurio's compatibility API (``<base>/apis/ccompat/v7``), and refusals
keep their Confluent error codes. Connection failures and 5xx answers are retried with backoff.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import quote

import requests

from cta.http import TRANSPORT_ERRORS
from cta.ports import RegisteredSchema, SchemaRegistryError
from cta.retry import Backoff, retry

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
# Subject or version not found: for a compatibility check, nothing to be incompatible with.
_NOT_FOUND_CODES = frozenset({40401, 40402})
# Status used when the registry could not be reached at all.
UNREACHABLE = 0


def _subject(subject: str) -> str:
    return quote(subject, safe="")


class HttpSchemaRegistry:
    def __init__(
        self,
        url: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        attempts: int = 4,
        backoff: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout
        # Uncapped: with the default four attempts the longest wait is 0.8s.
        self._backoff = Backoff(attempts, backoff, sleep=sleep)
        self._by_id: dict[int, str] = {}
        self._registered: dict[tuple[str, str], int] = {}

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        url = f"{self.url}{path}"
        body = None if payload is None else json.dumps(payload)
        headers = {"Accept": CONTENT_TYPE, "Content-Type": CONTENT_TYPE}
        send = partial(
            self._session.request, method, url, data=body, headers=headers, timeout=self._timeout
        )
        try:
            response = retry(
                send,
                backoff=self._backoff,
                describe=f"schema registry {method} {url}",
                log=log,
                retry_on=TRANSPORT_ERRORS,
                retry_if=_server_error,
            )
        except TRANSPORT_ERRORS as exc:
            raise SchemaRegistryError(UNREACHABLE, UNREACHABLE, f"{method} {url}: {exc}") from exc
        if response.status_code >= 300:
            raise _refusal(response)
        return response.json()

    def register(self, subject: str, schema: str) -> int:
        known = self._registered.get((subject, schema))
        if known is not None:
            return known
        answer = self._call("POST", f"/subjects/{_subject(subject)}/versions", {"schema": schema})
        schema_id = int(answer["id"])
        self._registered[(subject, schema)] = schema_id
        self._by_id.setdefault(schema_id, schema)
        return schema_id

    def schema_by_id(self, schema_id: int) -> str:
        cached = self._by_id.get(schema_id)
        if cached is None:
            cached = str(self._call("GET", f"/schemas/ids/{schema_id}")["schema"])
            self._by_id[schema_id] = cached
        return cached

    def latest(self, subject: str) -> RegisteredSchema:
        answer = self._call("GET", f"/subjects/{_subject(subject)}/versions/latest")
        return RegisteredSchema(
            schema_id=int(answer["id"]),
            subject=str(answer.get("subject", subject)),
            version=int(answer["version"]),
            schema=str(answer["schema"]),
        )

    def subjects(self) -> list[str]:
        return sorted(str(s) for s in self._call("GET", "/subjects"))

    def is_compatible(self, subject: str, schema: str) -> bool:
        path = f"/compatibility/subjects/{_subject(subject)}/versions/latest"
        try:
            answer = self._call("POST", path, {"schema": schema})
        except SchemaRegistryError as exc:
            if exc.status == 404 and exc.error_code in _NOT_FOUND_CODES:
                return True
            raise
        return bool(answer["is_compatible"])


def _server_error(response: requests.Response) -> str | None:
    """A 5xx answer is worth retrying; the problem it names, or None."""
    if response.status_code < 500:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"


def _refusal(response: requests.Response) -> SchemaRegistryError:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        code = payload.get("error_code", response.status_code)
        message = payload.get("message", response.text)
        return SchemaRegistryError(response.status_code, int(code), str(message))
    return SchemaRegistryError(response.status_code, response.status_code, response.text)
