"""The REST Proxy v2 produce API as a ``cta.http`` handler over the EventLog and SchemaRegistry
ports, so the same app fronts the memory broker or real Kafka.

Error codes: 400/400 malformed JSON; 404/40401 unknown topic; 415/415 unsupported content type;
422/42201 missing or invalid schema; 422/42202 a record that does not match its schema (or an
explicit partition, which the EventLog port cannot honour); 422/422 a body without records;
schema-registry refusals keep their status and code (409/409 incompatible). Every record is
validated and encoded before anything is produced, so a bad record produces nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Callable
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
from cta.topics import subject_for

V2_JSON = "application/vnd.kafka.v2+json"
FORMATS = {
    "application/vnd.kafka.avro.v2+json": "avro",
    "application/vnd.kafka.json.v2+json": "json",
    "application/vnd.kafka.binary.v2+json": "binary",
}
NON_RETRIABLE = 1


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
        self, log: EventLog, registry: SchemaRegistry, admin: TopicAdmin | None = None
    ) -> None:
        self._log = log
        self._registry = registry
        self._admin = admin
        self._producer: EventProducer | None = None
        # One request's produce+flush at a time, so delivery failures belong to that request.
        self._produce_lock = threading.Lock()
        self._encoders: dict[tuple[str, str], AvroEncoder] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        parts = [p for p in request.path.split("/") if p]
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
            return _error(exc.status, exc.error_code, exc.message)

    # -- metadata ---------------------------------------------------------------------------

    def _topics(self) -> dict[str, int]:
        if self._admin is None:
            raise ProxyError(501, 501, "topic metadata needs a TopicAdmin")
        return self._admin.list_topics()

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
        if self._admin is not None and topic not in self._admin.list_topics():
            raise ProxyError(404, 40401, "Topic not found")
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
        offsets = self._send(topic, keys, values)
        # Without a TopicAdmin a missing topic shows up as failed deliveries only.
        if all("unknown topic" in str(o["error"]).lower() for o in offsets):
            raise ProxyError(404, 40401, "Topic not found")
        answer = {"key_schema_id": key_schema_id, "value_schema_id": value_schema_id}
        return HttpResponse.json(200, {**answer, "offsets": offsets}, V2_JSON)

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
        offsets: list[dict[str, Any]] = [
            {"partition": None, "offset": None, "error_code": None, "error": None} for _ in keys
        ]

        def report(slot: dict[str, Any]) -> Callable[[int, int], None]:
            def delivered(partition: int, offset: int) -> None:
                slot["partition"], slot["offset"] = partition, offset

            return delivered

        failures: list[str] = []
        with self._produce_lock:
            if self._producer is None:
                self._producer = self._log.producer("rest-proxy")
            for key, value, slot in zip(keys, values, offsets, strict=True):
                self._producer.produce(topic, value, key, on_delivery=report(slot))
            for _ in range(len(keys) + 1):  # each flush raises at most one failure
                try:
                    self._producer.flush()
                    break
                except DeliveryError as exc:
                    failures.append(exc.reason)
        for slot in offsets:
            if slot["offset"] is None:
                slot["error_code"] = NON_RETRIABLE
                slot["error"] = "; ".join(failures) or "not acknowledged"
        return offsets


def _json_bytes(value: Any, where: str) -> bytes | None:
    return None if value is None else json.dumps(value, separators=(",", ":")).encode()


def _base64_bytes(value: Any, where: str) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProxyError(422, 42202, f"{where}: not base64: {exc}") from exc
