"""The REST Proxy v2 produce API as a ``cta.http`` handler over the EventLog and SchemaRegistry
ports, so the same app fronts the memory broker or real Kafka.

Every request gets an answer in the v2 error shape ``{"error_code", "message"}``, never an
exception (``__call__`` turns an unexpected one into 500/500 and logs it). Error codes: 400/400
malformed JSON; 404/40401 unknown topic (when the broker does not create topics on first use);
413/413 a body over ``max_body_bytes`` or a record over ``max_record_bytes``; 415/415 unsupported
content type; 422/42201 missing or invalid schema; 422/42202 a record that does not match its
schema (or an explicit partition, which the EventLog port cannot honour); 422/422 a body without
records; schema-registry refusals keep their status and code (409/409 incompatible); 503/50301
the registry unreachable (after the registry adapter's own retries; Confluent's proxy answers
408/40801 "Schema registration or lookup failed" here, but a dependency that is away is a 5xx);
500/50003 ("Retriable Kafka error", Confluent's code) when the broker did not acknowledge any
record after ``produce_backoff`` retries.

No partial writes: every record is validated, encoded and size-checked before anything is
produced, so a bad record produces nothing. A record the broker refuses once produced is
reported in its offset (``error_code`` 1, or 2 for a retriable failure), as Confluent does.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cta.avro import AvroEncoder
from cta.http import HttpRequest, HttpResponse
from cta.ports import (
    DeliveryError,
    EventLog,
    EventProducer,
    SchemaRegistry,
    SchemaRegistryError,
    TopicAdmin,
)
from cta.rest_proxy.avro_json import AvroJsonError, decode_avro_json
from cta.retry import Backoff
from cta.topics import TopicSpec, subject_for

log = logging.getLogger(__name__)

V2_JSON = "application/vnd.kafka.v2+json"
FORMATS = {
    "application/vnd.kafka.avro.v2+json": "avro",
    "application/vnd.kafka.json.v2+json": "json",
    "application/vnd.kafka.binary.v2+json": "binary",
}
NON_RETRIABLE = 1
RETRIABLE = 2
# librdkafka's default message.max.bytes: produce() refuses a larger key + value + headers.
DEFAULT_MAX_RECORD_BYTES = 1_000_000
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
# Delivery failures that a later attempt may not meet (librdkafka's wording, lower-cased).
_RETRIABLE_REASONS = (
    "timed out",
    "transport",
    "all broker",
    "broker transport failure",
    "not enough replicas",
    "leader",
    "not coordinator",
    "unacknowledged",
)


def retriable(reason: str) -> bool:
    lowered = reason.lower()
    return any(marker in lowered for marker in _RETRIABLE_REASONS)


@dataclass(frozen=True)
class ProxyLimits:
    """What the proxy accepts and how hard it tries. ``auto_create_topics`` mirrors the broker's
    ``auto.create.topics.enable``: a produce to a missing topic creates it, as Confluent's proxy
    lets the broker do; else the answer is 40401."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    auto_create_topics: bool = False
    # Three tries, 0.25 s then 0.5 s apart: with the server's 2.5 s message timeout a request
    # ends within ~8 s, inside RestProxyClient's 10 s timeout (which would re-send the lot).
    produce_backoff: Backoff = field(default_factory=lambda: Backoff(3, 0.25, 0.5))


class ProxyError(Exception):
    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message


def _error(status: int, error_code: int, message: str) -> HttpResponse:
    return HttpResponse.json(status, {"error_code": error_code, "message": message}, V2_JSON)


class RestProxyApp:
    def __init__(
        self,
        log: EventLog,
        registry: SchemaRegistry,
        admin: TopicAdmin | None = None,
        limits: ProxyLimits | None = None,
    ) -> None:
        self._log = log
        self._registry = registry
        self._admin = admin
        self.limits = limits or ProxyLimits()
        self._producer: EventProducer | None = None
        # One request's produce+flush at a time, so delivery failures belong to that request.
        self._produce_lock = threading.Lock()
        self._encoders: dict[tuple[str, str], AvroEncoder] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self._route(request)
        except Exception as exc:  # an answer, always: the client must never see a dead socket
            log.exception("REST Proxy: %s %s failed", request.method, request.path)
            return _error(500, 500, f"Internal server error: {type(exc).__name__}: {exc}")

    def _route(self, request: HttpRequest) -> HttpResponse:
        parts = [p for p in request.path.split("/") if p]
        if len(request.body) > self.limits.max_body_bytes:
            return _error(413, 413, body_too_large(self.limits.max_body_bytes))
        try:
            if parts == ["topics"] and request.method == "GET":
                return self._list_topics()
            if len(parts) == 2 and parts[0] == "topics":
                if request.method == "GET":
                    return self._describe_topic(parts[1])
                if request.method == "POST":
                    return self._produce(parts[1], request)
                return _error(405, 405, "HTTP 405 Method Not Allowed")
            return _error(404, 404, "HTTP 404 Not Found")
        except ProxyError as exc:
            return _error(exc.status, exc.error_code, exc.message)
        except SchemaRegistryError as exc:
            if exc.status == 0 or exc.status >= 500:
                return _error(
                    503, 50301, f"Schema registration or lookup failed: registry unavailable: {exc}"
                )
            return _error(exc.status, exc.error_code, exc.message)

    # -- metadata ---------------------------------------------------------------------------

    def _topics(self) -> dict[str, int]:
        if self._admin is None:
            raise ProxyError(501, 501, "topic metadata needs a TopicAdmin")
        try:
            return self._admin.list_topics()  # waits up to the admin's own timeout
        except Exception as exc:
            raise ProxyError(
                500, 50003, f"Retriable Kafka error: cannot read topic metadata: {exc}"
            ) from exc

    def _list_topics(self) -> HttpResponse:
        return HttpResponse.json(200, sorted(self._topics()), V2_JSON)

    def _describe_topic(self, topic: str) -> HttpResponse:
        partitions = self._topics().get(topic)
        if partitions is None:
            raise ProxyError(404, 40401, "Topic not found")
        replica = {"broker": 0, "leader": True, "in_sync": True}
        return HttpResponse.json(
            200,
            {
                "name": topic,
                "configs": {},
                "partitions": [
                    {"partition": p, "leader": 0, "replicas": [replica]} for p in range(partitions)
                ],
            },
            V2_JSON,
        )

    # -- produce ----------------------------------------------------------------------------

    def _produce(self, topic: str, request: HttpRequest) -> HttpResponse:
        content_type = request.header("Content-Type").split(";")[0].strip().lower()
        embedded = FORMATS.get(content_type)
        if embedded is None:
            raise ProxyError(415, 415, f"HTTP 415 Unsupported Media Type: {content_type!r}")
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise ProxyError(400, 400, f"Malformed JSON: {exc}") from exc
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records:
            raise ProxyError(422, 422, "records: must be a non-empty list")
        self._require_topic(topic)
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                raise ProxyError(422, 42202, f"records[{i}]: must be an object")
            if record.get("partition") is not None:
                raise ProxyError(422, 42202, f"records[{i}]: explicit partitions are not supported")
        key_schema_id = value_schema_id = None
        if embedded == "avro":
            keys, key_schema_id = self._avro_side(topic, body, records, is_key=True)
            values, value_schema_id = self._avro_side(topic, body, records, is_key=False)
        else:
            encode = _json_bytes if embedded == "json" else _base64_bytes
            keys = [encode(r.get("key"), f"records[{i}].key") for i, r in enumerate(records)]
            values = [encode(r.get("value"), f"records[{i}].value") for i, r in enumerate(records)]
        self._check_sizes(keys, values)
        offsets = self._send(topic, keys, values)
        answer = {"key_schema_id": key_schema_id, "value_schema_id": value_schema_id}
        return HttpResponse.json(200, {**answer, "offsets": offsets}, V2_JSON)

    def _require_topic(self, topic: str) -> None:
        if self._admin is None or topic in self._topics():
            return
        if not self.limits.auto_create_topics:
            raise ProxyError(404, 40401, "Topic not found")
        # What the broker does on first use with auto.create.topics.enable (its num.partitions).
        log.info("REST Proxy: creating topic %s on first produce", topic)
        self._admin.create_topics([TopicSpec(topic)])

    def _check_sizes(self, keys: list[bytes | None], values: list[bytes | None]) -> None:
        limit = self.limits.max_record_bytes
        for i, (key, value) in enumerate(zip(keys, values, strict=True)):
            size = len(key or b"") + len(value or b"")
            if size > limit:
                raise ProxyError(
                    413,
                    413,
                    f"records[{i}]: {size} bytes serialized, over the broker's limit of {limit} "
                    "bytes (message.max.bytes); nothing was written",
                )

    def _avro_side(
        self, topic: str, body: dict[str, Any], records: list[dict[str, Any]], *, is_key: bool
    ) -> tuple[list[bytes | None], int | None]:
        side = "key" if is_key else "value"
        present = [r.get(side) is not None for r in records]
        schema_text = body.get(f"{side}_schema")
        schema_id = body.get(f"{side}_schema_id")
        if schema_text is None and schema_id is None:
            if any(present):
                raise ProxyError(422, 42201, f"{side}_schema or {side}_schema_id is required")
            return [None] * len(records), None
        if schema_text is None:
            if not isinstance(schema_id, int):
                raise ProxyError(422, 42201, f"{side}_schema_id must be an integer")
            schema_text = self._registry.schema_by_id(schema_id)
        if not isinstance(schema_text, str):
            raise ProxyError(422, 42201, f"{side}_schema must be a JSON string")
        try:
            schema = json.loads(schema_text)
        except ValueError as exc:
            raise ProxyError(422, 42201, f"{side}_schema is not valid JSON: {exc}") from exc
        converted: list[Any] = []
        for i, record in enumerate(records):
            try:
                # A null key or value stays null (no schema applies), as Confluent's serializer.
                raw = record.get(side)
                converted.append(None if raw is None else decode_avro_json(schema, raw))
            except AvroJsonError as exc:
                raise ProxyError(422, 42202, f"records[{i}].{side}: {exc}") from exc
        encoder = self._encoder(subject_for(topic, is_key=is_key), schema_text)
        encoded: list[bytes | None] = []
        for i, value in enumerate(converted):
            try:
                encoded.append(None if value is None else encoder.encode(value))
            except (ValueError, TypeError, KeyError) as exc:
                raise ProxyError(422, 42202, f"records[{i}].{side}: {exc}") from exc
        return encoded, encoder.schema_id

    def _encoder(self, subject: str, schema: str) -> AvroEncoder:
        encoder = self._encoders.get((subject, schema))
        if encoder is None:
            try:
                encoder = AvroEncoder(self._registry, subject, schema)
            except SchemaRegistryError as exc:
                if exc.status == 422:
                    raise ProxyError(422, 42201, exc.message) from exc
                raise
            self._encoders[(subject, schema)] = encoder
        return encoder

    def _send(
        self, topic: str, keys: list[bytes | None], values: list[bytes | None]
    ) -> list[dict[str, Any]]:
        """Produce every record; re-send those that failed for a passing reason with backoff.
        Raise 50003 when none was acknowledged in the end; otherwise each offset tells."""
        offsets: list[dict[str, Any]] = [
            {"partition": None, "offset": None, "error_code": None, "error": None} for _ in keys
        ]
        pending = list(range(len(keys)))
        delays = self.limits.produce_backoff.delays()
        attempt = 1
        while True:
            with self._produce_lock:
                failures = self._produce_once(topic, keys, values, offsets, pending)
            pending = [i for i in pending if offsets[i]["offset"] is None]
            for i in pending:
                reason = failures.get(i) or "; ".join(set(failures.values())) or "not acknowledged"
                offsets[i]["error"] = reason
                offsets[i]["error_code"] = RETRIABLE if retriable(reason) else NON_RETRIABLE
            retry_now = [i for i in pending if offsets[i]["error_code"] == RETRIABLE]
            delay = next(delays, None)
            if not retry_now or delay is None:
                break
            log.warning(
                "REST Proxy: produce to %s attempt %d: %d record(s) failed (%s); retrying in %.2fs",
                topic,
                attempt,
                len(retry_now),
                offsets[retry_now[0]]["error"],
                delay,
            )
            self.limits.produce_backoff.sleep(delay)
            pending, attempt = retry_now, attempt + 1
        if all(o["offset"] is None for o in offsets) and all(
            "unknown topic" in str(o["error"]).lower() for o in offsets
        ):  # without a TopicAdmin a missing topic shows up as failed deliveries only
            raise ProxyError(404, 40401, "Topic not found")
        if all(o["offset"] is None and o["error_code"] == RETRIABLE for o in offsets):
            raise ProxyError(500, 50003, f"Retriable Kafka error: {offsets[0]['error']}")
        return offsets

    def _produce_once(
        self,
        topic: str,
        keys: list[bytes | None],
        values: list[bytes | None],
        offsets: list[dict[str, Any]],
        pending: list[int],
    ) -> dict[int, str]:
        """One produce + flush of the ``pending`` records; the failure reasons by index
        (-1: failures the producer reported without saying for which record)."""

        def report(slot: dict[str, Any]) -> Callable[[int, int], None]:
            def delivered(partition: int, offset: int) -> None:
                slot["partition"], slot["offset"] = partition, offset
                slot["error_code"] = slot["error"] = None

            return delivered

        failures: dict[int, str] = {}
        unattributed: list[str] = []
        if self._producer is None:
            self._producer = self._log.producer("rest-proxy")
        for i in pending:
            try:
                self._producer.produce(topic, values[i], keys[i], on_delivery=report(offsets[i]))
            except DeliveryError as exc:  # refused before queueing: this record only
                failures[i] = exc.reason
        for _ in range(len(pending) + 1):  # each flush raises at most one failure
            try:
                self._producer.flush()
                break
            except DeliveryError as exc:
                unattributed.append(exc.reason)
        if unattributed:
            failures[-1] = "; ".join(unattributed)
        return failures


def _json_bytes(value: Any, where: str) -> bytes | None:
    return None if value is None else json.dumps(value, separators=(",", ":")).encode()


def _base64_bytes(value: Any, where: str) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProxyError(422, 42202, f"{where}: not base64: {exc}") from exc


def body_too_large(limit: int) -> str:
    return f"Request body is larger than the limit of {limit} bytes"
