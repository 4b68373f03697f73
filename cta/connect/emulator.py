"""An in-process Kafka Connect worker: the REST subset ``ConnectClient`` uses, and a Debezium
PostgreSQL source task over ``MemoryStationDatabase``.

``ConnectApp`` is both the HTTP ``Handler`` (mounted with ``cta.http.in_process_session``) and a
``Pump`` that drives every running task. The task copies the table (snapshot), then follows the
change feed, producing what Debezium + the configured transforms + JsonConverter (schemas off)
would: key ``{"stop_id": N}``, value the flat row, and for a delete what the configured
``delete.tombstone.handling.mode`` gives (see ``_DELETE_MODES``). Its source position is
kept, as Connect keeps source offsets, in the ``connect-offsets`` topic under the connector's name,
so an update, a delete + re-create, or a new worker over the same log resumes without re-emitting.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from cta.connect.config import (
    DEBEZIUM_POSTGRES,
    EXTRACT_NEW_RECORD_STATE,
    REGEX_ROUTER,
    TABLE,
    debezium_topic,
)
from cta.http import HttpRequest, HttpResponse
from cta.memory.stations_db import MemoryStationDatabase
from cta.ports import EventLog, StationRow, TopicAdmin
from cta.runtime import Pump
from cta.topics import TopicSpec

log = logging.getLogger(__name__)

OFFSETS_TOPIC = "connect-offsets"
_CONNECTOR_PATH = re.compile(r"^/connectors/([^/]+)(/config|/status)?/?$")
Message = tuple[bytes, bytes | None]


def _compact_json(payload: Any) -> bytes:
    # Jackson (JsonConverter) writes compact JSON.
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def _error(status: int, message: str) -> HttpResponse:
    return HttpResponse.json(status, {"error_code": status, "message": message})


class _OffsetStore:
    """Source offsets by connector name, written through to a compacted topic."""

    def __init__(self, log_: EventLog, admin: TopicAdmin) -> None:
        self._log = log_
        admin.create_topics([TopicSpec(OFFSETS_TOPIC, compacted=True)])
        self._offsets: dict[str, dict[str, Any]] = {}
        consumer = log_.consumer(f"connect-offsets-reader-{uuid.uuid4().hex}")
        try:
            consumer.subscribe([OFFSETS_TOPIC], from_beginning=True)
            while batch := consumer.consume(500, 0.0):
                for record in batch:
                    name = json.loads(record.key or b"[null]")[0]
                    if record.value is None:
                        self._offsets.pop(name, None)
                    else:
                        self._offsets[name] = json.loads(record.value)
        finally:
            consumer.close()
        self._producer = log_.producer(client_id="connect-offsets")

    def get(self, name: str) -> dict[str, Any] | None:
        return self._offsets.get(name)

    def put(self, name: str, partition: Mapping[str, Any], offset: dict[str, Any]) -> None:
        self._producer.produce(
            OFFSETS_TOPIC, _compact_json(offset), key=_compact_json([name, dict(partition)])
        )
        self._producer.flush()
        self._offsets[name] = offset


class UnsupportedConfig(ValueError):
    pass


def _java_replacement(replacement: str) -> str:
    return re.sub(r"\$(\d+)", r"\\g<\1>", replacement)


def _router(pattern: re.Pattern[str], replacement: str) -> Callable[[str], str]:
    """RegexRouter: rename a topic the regex matches whole, keep the others."""

    def route(topic: str) -> str:
        return pattern.sub(replacement, topic) if pattern.fullmatch(topic) else topic

    return route


# Debezium 3.7's ExtractNewRecordState modes. ``tombstone`` (its default) turns the delete event
# into a record with a null value but the row's value schema, and drops Debezium's own tombstone:
# JsonConverter serialises a null value *with* a schema as the JSON text ``null``, so the topic gets
# the four bytes ``null``, not a tombstone, and compaction never forgets the key. Only
# ``delete-to-tombstone`` (the delete event becomes a record with neither value nor schema, the
# original tombstone is dropped) and ``rewrite-with-tombstone`` (which keeps the original) write a
# real null value. The rewrite modes also mark every insert and update ``"__deleted": "false"``.
_JSON_NULL = b"null"
_DELETE_MODES = ("drop", "tombstone", "rewrite", "rewrite-with-tombstone", "delete-to-tombstone")
_REWRITE_MODES = ("rewrite", "rewrite-with-tombstone")


def _transform_chain(config: Mapping[str, str]) -> tuple[bool, str, list[Callable[[str], str]]]:
    """(unwrap configured, its delete mode, topic renamers) from the ``transforms`` entries."""
    unwrap, delete_mode = False, "tombstone"  # Debezium's default
    routers: list[Callable[[str], str]] = []
    for alias in filter(None, (a.strip() for a in config.get("transforms", "").split(","))):
        kind = config.get(f"transforms.{alias}.type", "")
        if kind == EXTRACT_NEW_RECORD_STATE:
            unwrap = True
            delete_mode = config.get(
                f"transforms.{alias}.delete.tombstone.handling.mode", "tombstone"
            )
            if delete_mode not in _DELETE_MODES:
                raise UnsupportedConfig(f"delete.tombstone.handling.mode {delete_mode!r}")
        elif kind == REGEX_ROUTER:
            pattern = re.compile(config[f"transforms.{alias}.regex"])
            replacement = _java_replacement(config[f"transforms.{alias}.replacement"])
            routers.append(_router(pattern, replacement))
        else:
            raise UnsupportedConfig(f"transform {alias!r} of type {kind!r} is not emulated")
    return unwrap, delete_mode, routers


class PostgresSourceTask:
    """Debezium's PostgresConnector task over the in-memory table (one task, one table)."""

    def __init__(
        self,
        name: str,
        config: Mapping[str, str],
        log_: EventLog,
        admin: TopicAdmin,
        db: MemoryStationDatabase,
        offsets: _OffsetStore,
    ) -> None:
        self.name = f"{name}-0"
        self._connector = name
        self._db = db
        self._offsets = offsets
        prefix = config.get("topic.prefix")
        if not prefix:
            raise UnsupportedConfig("topic.prefix is required")
        self._partition = {"server": prefix}
        include = [t.strip() for t in config.get("table.include.list", TABLE).split(",")]
        self._enabled = TABLE in include
        self._unwrap, self._delete_mode, routers = _transform_chain(config)
        self._tombstones = config.get("tombstones.on.delete", "true") == "true"
        topic = debezium_topic(prefix)
        for route in routers:
            topic = route(topic)
        self.topic = topic
        admin.create_topics([TopicSpec(topic)])
        self._producer = log_.producer(client_id=f"connector-producer-{self.name}")
        stored = offsets.get(name)
        self._position: int | None = int(stored["lsn"]) if stored else None

    def pump(self, timeout: float = 0.0) -> int:
        if not self._enabled:
            return 0
        if self._position is None:
            rows, position = self._db.snapshot()
            for row in rows:
                self._send(self._messages("read", row, None))
            return self._commit(position, len(rows))
        changes = self._db.changes(self._position, limit=500)
        for change in changes:
            self._send(self._messages(change.op, change.row, change.before))
        return self._commit(changes[-1].position, len(changes)) if changes else 0

    def close(self) -> None:
        self._producer.close()

    def _commit(self, position: int, handled: int) -> int:
        # Flush first: the stored position never runs ahead of what the topic holds.
        self._producer.flush()
        self._offsets.put(self._connector, self._partition, {"lsn": position})
        self._position = position
        return handled

    def _send(self, messages: list[Message]) -> None:
        for key, value in messages:
            self._producer.produce(self.topic, value, key=key)

    def _messages(
        self, op: str, row: StationRow | None, before: StationRow | None
    ) -> list[Message]:
        present = row if row is not None else before
        assert present is not None
        key = _compact_json({"stop_id": present.stop_id})
        if not self._unwrap:
            return self._envelope(key, op, row, before)
        rewrite = self._delete_mode in _REWRITE_MODES
        if row is not None:
            value = {**row.as_json(), "__deleted": "false"} if rewrite else row.as_json()
            return [(key, _compact_json(value))]
        assert before is not None
        rewritten = (key, _compact_json({**before.as_json(), "__deleted": "true"}))
        by_mode: dict[str, list[Message]] = {
            "drop": [],
            "tombstone": [(key, _JSON_NULL)],
            "rewrite": [rewritten],
            "rewrite-with-tombstone": [rewritten, (key, None)],
            "delete-to-tombstone": [(key, None)],
        }
        return by_mode[self._delete_mode]

    def _envelope(
        self, key: bytes, op: str, row: StationRow | None, before: StationRow | None
    ) -> list[Message]:
        code = {"read": "r", "insert": "c", "update": "u", "delete": "d"}[op]
        value = {
            "before": before.as_json() if before is not None else None,
            "after": row.as_json() if row is not None else None,
            "source": {
                "connector": "postgresql",
                "name": self._partition["server"],
                "schema": "public",
                "table": "stations",
            },
            "op": code,
        }
        messages: list[Message] = [(key, _compact_json(value))]
        if code == "d" and self._tombstones:
            messages.append((key, None))
        return messages


@dataclass(slots=True)
class _Connector:
    name: str
    config: dict[str, str]
    task: PostgresSourceTask | None = None
    task_state: str = "RUNNING"
    trace: str | None = None
    kind: str = "source"
    lock: threading.Lock = field(default_factory=threading.Lock)


class ConnectApp:
    """A one-worker Connect cluster: HTTP handler (``__call__``) and pump of its tasks."""

    name = "connect"

    def __init__(
        self,
        log: EventLog,
        admin: TopicAdmin,
        stations_db: MemoryStationDatabase,
        *,
        worker_id: str = "127.0.0.1:8083",
    ) -> None:
        self._log = log
        self._admin = admin
        self._db = stations_db
        self.worker_id = worker_id
        self._offsets = _OffsetStore(log, admin)
        self._connectors: dict[str, _Connector] = {}
        self._lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path.rstrip("/") or "/"
        if path == "/connectors":
            if request.method == "GET":
                with self._lock:
                    return HttpResponse.json(200, sorted(self._connectors))
            return _error(405, "HTTP 405 Method Not Allowed")
        if path == "/":
            return HttpResponse.json(200, {"version": "emulated", "commit": "cta"})
        match = _CONNECTOR_PATH.match(path)
        if match is None:
            return _error(404, "HTTP 404 Not Found")
        name, sub = unquote(match.group(1)), match.group(2) or ""
        route = (request.method, sub)
        if route == ("PUT", "/config"):
            return self._put_config(name, request)
        if route == ("DELETE", ""):
            return self._delete(name)
        with self._lock:
            connector = self._connectors.get(name)
        if connector is None:
            return _error(404, f"Connector {name} not found")
        if route == ("GET", "/status"):
            return HttpResponse.json(200, self._status(connector))
        if route == ("GET", "/config"):
            return HttpResponse.json(200, connector.config)
        if route == ("GET", ""):
            return HttpResponse.json(200, self._info(connector))
        return _error(405, "HTTP 405 Method Not Allowed")

    def pump(self, timeout: float = 0.0) -> int:
        with self._lock:
            connectors = list(self._connectors.values())
        return sum(self._pump_one(connector) for connector in connectors)

    def pumps(self) -> list[Pump]:
        """The pumps to drive: this worker, which pumps every running task in turn."""
        return [self]

    def close(self) -> None:
        with self._lock:
            connectors = list(self._connectors.values())
        for connector in connectors:
            if connector.task is not None:
                connector.task.close()

    def _pump_one(self, connector: _Connector) -> int:
        with connector.lock:
            if connector.task is None or connector.task_state != "RUNNING":
                return 0
            try:
                return connector.task.pump(0.0)
            except Exception:  # a task that throws is FAILED until restarted, as in Connect
                connector.task_state = "FAILED"
                connector.trace = traceback.format_exc()
                log.exception("connector %s task 0 failed", connector.name)
                return 0

    def _put_config(self, name: str, request: HttpRequest) -> HttpResponse:
        try:
            body = request.json()
        except ValueError as exc:
            return _error(400, f"Request body is not valid JSON: {exc}")
        if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
            return _error(400, "Connector config must be a JSON object of string values")
        if "connector.class" not in body:
            return _error(400, f"Connector config {body} contains no connector type")
        config = {**body, "name": name}
        with self._lock:
            previous = self._connectors.get(name)
            connector = self._start(name, config)
            self._connectors[name] = connector
        if previous is not None and previous.task is not None:
            with previous.lock:
                previous.task.close()
        info = self._info(connector)
        if previous is not None:
            return HttpResponse.json(200, info)
        return HttpResponse.json(201, info, headers={"Location": f"/connectors/{name}"})

    def _start(self, name: str, config: dict[str, str]) -> _Connector:
        connector = _Connector(name, config)
        if config["connector.class"] != DEBEZIUM_POSTGRES:
            connector.kind = "unknown"
            connector.task_state = "FAILED"
            connector.trace = (
                "org.apache.kafka.connect.errors.ConnectException: Failed to find any class that "
                f"implements Connector and which name matches {config['connector.class']} "
                f"(this emulation runs only {DEBEZIUM_POSTGRES})"
            )
            return connector
        try:
            connector.task = PostgresSourceTask(
                name, config, self._log, self._admin, self._db, self._offsets
            )
        except (UnsupportedConfig, KeyError, re.error) as exc:
            connector.task_state = "FAILED"
            connector.trace = f"org.apache.kafka.common.config.ConfigException: {exc}"
        return connector

    def _delete(self, name: str) -> HttpResponse:
        with self._lock:
            connector = self._connectors.pop(name, None)
        if connector is None:
            return _error(404, f"Connector {name} not found")
        if connector.task is not None:
            with connector.lock:
                connector.task.close()
        return HttpResponse(204)

    def _info(self, connector: _Connector) -> dict[str, Any]:
        return {
            "name": connector.name,
            "config": connector.config,
            "tasks": [{"connector": connector.name, "task": 0}],
            "type": connector.kind,
        }

    def _status(self, connector: _Connector) -> dict[str, Any]:
        task: dict[str, Any] = {"id": 0, "state": connector.task_state, "worker_id": self.worker_id}
        if connector.trace is not None:
            task["trace"] = connector.trace
        return {
            "name": connector.name,
            "connector": {"state": "RUNNING", "worker_id": self.worker_id},
            "tasks": [task],
            "type": connector.kind,
        }


__all__ = ["OFFSETS_TOPIC", "ConnectApp", "PostgresSourceTask", "UnsupportedConfig"]
