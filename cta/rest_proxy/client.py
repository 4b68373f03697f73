"""The RestProxy port over HTTP: REST Proxy v2's Avro produce call, with retries.

Schema ids come back from the first call and are sent instead of the schema text afterwards.
Connection errors, 5xx answers and offsets with the retriable error code 2 are retried with
exponential backoff (only the records that failed are re-sent); each retry is logged. Anything
else raises ``RestProxyError``: an error status, or any offset carrying an error.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests

from cta.http import TRANSPORT_ERRORS
from cta.ports import ProduceOffset, ProduceResult, ServiceError
from cta.retry import Backoff, retry

log = logging.getLogger(__name__)

AVRO_V2 = "application/vnd.kafka.avro.v2+json"
V2_JSON = "application/vnd.kafka.v2+json"
RETRIABLE = 2


class RestProxyError(ServiceError):
    """A refused produce. ``status`` 0 means the proxy could not be reached."""


class _Retry(Exception):
    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.error = RestProxyError(status, error_code, message)


def _records_failed(pending: list[int]) -> str | None:
    return f"{len(pending)} record(s) failed with a retriable error" if pending else None


class RestProxyClient:
    def __init__(
        self,
        base_url: str,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        *,
        attempts: int = 5,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout
        self._backoff = Backoff(attempts, backoff, max_backoff, sleep)
        self._schema_ids: dict[tuple[str, str], int] = {}  # (subject, schema) -> id

    def produce_avro(
        self,
        topic: str,
        records: Sequence[Mapping[str, Any]],
        *,
        key_schema: str,
        value_schema: str,
    ) -> ProduceResult:
        offsets: list[ProduceOffset | None] = [None] * len(records)
        pending = list(range(len(records)))
        ids: dict[str, int | None] = {"key": None, "value": None}

        def attempt() -> list[int]:
            """Send the pending records; returns those that failed retriably."""
            nonlocal pending, ids
            body = self._body(topic, [records[i] for i in pending], key_schema, value_schema)
            answer = self._post(topic, body)
            ids = {s: answer.get(f"{s}_schema_id") for s in ("key", "value")}
            self._remember(topic, key_schema, value_schema, ids)
            pending = self._collect(answer, pending, offsets)
            return pending

        try:
            retry(
                attempt,
                backoff=self._backoff,
                describe=f"REST Proxy produce to {topic}",
                log=log,
                retry_on=_Retry,
                retry_if=_records_failed,
            )
        except _Retry as failed:
            raise failed.error from None
        if pending:
            reason = f"gave up after {self._backoff.attempts} attempts: {_records_failed(pending)}"
            raise RestProxyError(200, RETRIABLE, reason)
        return ProduceResult(ids["key"], ids["value"], tuple(o for o in offsets if o is not None))

    def _body(
        self, topic: str, records: list[Mapping[str, Any]], key_schema: str, value_schema: str
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for side, schema in (("key", key_schema), ("value", value_schema)):
            known = self._schema_ids.get((f"{topic}-{side}", schema))
            if known is None:
                body[f"{side}_schema"] = schema
            else:
                body[f"{side}_schema_id"] = known
        body["records"] = [{"key": r.get("key"), "value": r.get("value")} for r in records]
        return body

    def _post(self, topic: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}/topics/{topic}"
        headers = {"Content-Type": AVRO_V2, "Accept": V2_JSON}
        try:
            response = self._session.post(
                url, data=json.dumps(body), headers=headers, timeout=self._timeout
            )
        except TRANSPORT_ERRORS as exc:
            raise _Retry(0, 0, f"cannot reach {url}: {exc}") from exc
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        code = int(payload.get("error_code") or response.status_code)
        message = str(payload.get("message") or response.reason or "")
        if response.status_code >= 500:
            raise _Retry(response.status_code, code, message)
        if response.status_code >= 300:
            raise RestProxyError(response.status_code, code, message)
        if not isinstance(payload.get("offsets"), list):
            raise RestProxyError(response.status_code, 0, f"unexpected answer: {payload!r}")
        return payload

    def _collect(
        self, answer: dict[str, Any], pending: list[int], offsets: list[ProduceOffset | None]
    ) -> list[int]:
        """Store the offsets of this attempt; returns the records to send again."""
        if len(answer["offsets"]) != len(pending):
            raise RestProxyError(200, 0, f"sent {len(pending)} records, got {answer['offsets']}")
        retry: list[int] = []
        for index, item in zip(pending, answer["offsets"], strict=True):
            error_code = item.get("error_code")
            if error_code == RETRIABLE:
                retry.append(index)
            elif error_code is not None:
                raise RestProxyError(200, int(error_code), str(item.get("error")))
            else:
                offsets[index] = ProduceOffset(item.get("partition"), item.get("offset"))
        return retry

    def _remember(
        self, topic: str, key_schema: str, value_schema: str, ids: dict[str, int | None]
    ) -> None:
        for side, schema in (("key", key_schema), ("value", value_schema)):
            schema_id = ids[side]
            if schema_id is not None:
                self._schema_ids[(f"{topic}-{side}", schema)] = schema_id
