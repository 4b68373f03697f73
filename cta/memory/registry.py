"""An in-process schema registry with Confluent's semantics.

Ids are global: the same (canonicalised) schema gets one id whatever the subject. Versions count
from 1 per subject; registering a schema the subject already has returns its id and adds no
version. New versions are checked against the subject's compatibility level (BACKWARD default).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import fastavro

from cta.avro_compat import SchemaParseError, backward_incompatibilities
from cta.ports import RegisteredSchema, SchemaRegistryError

LEVELS = frozenset(
    {
        "NONE",
        "BACKWARD",
        "BACKWARD_TRANSITIVE",
        "FORWARD",
        "FORWARD_TRANSITIVE",
        "FULL",
        "FULL_TRANSITIVE",
    }
)


def canonical(schema: str) -> str:
    """The identity of a schema: compact JSON with sorted keys. Raises 422/42201 when the text
    is not a valid Avro schema."""
    try:
        parsed: Any = json.loads(schema)
        fastavro.parse_schema(parsed, _write_hint=False)
    except Exception as exc:  # json's and fastavro's parse errors share no narrower base
        raise SchemaRegistryError(422, 42201, f"Invalid schema: {exc}") from exc
    return json.dumps(parsed, separators=(",", ":"), sort_keys=True)


class MemorySchemaRegistry:
    """The SchemaRegistry port in memory; thread-safe."""

    def __init__(self, compatibility: str = "BACKWARD") -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, int] = {}  # canonical text -> id
        self._schemas: dict[int, str] = {}  # id -> schema text as first registered
        self._versions: dict[str, list[int]] = {}  # subject -> ids, version n at [n - 1]
        self._global_level = _check_level(compatibility)
        self._subject_levels: dict[str, str] = {}

    def register(self, subject: str, schema: str) -> int:
        key = canonical(schema)
        with self._lock:
            existing = self._ids.get(key)
            history = self._versions.get(subject, [])
            if existing is not None and existing in history:
                return existing
            reasons = self._incompatibilities(subject, schema)
            if reasons:
                raise SchemaRegistryError(
                    409,
                    409,
                    f"Schema being registered is incompatible with an earlier schema for subject "
                    f"{subject!r} ({self._level(subject)}): {'; '.join(reasons)}",
                )
            if existing is None:
                existing = len(self._schemas) + 1
                self._ids[key] = existing
                self._schemas[existing] = json.dumps(json.loads(schema), separators=(",", ":"))
            self._versions.setdefault(subject, []).append(existing)
            return existing

    def schema_by_id(self, schema_id: int) -> str:
        with self._lock:
            found = self._schemas.get(schema_id)
        if found is None:
            raise SchemaRegistryError(404, 40403, f"Schema {schema_id} not found")
        return found

    def latest(self, subject: str) -> RegisteredSchema:
        with self._lock:
            history = self._history(subject)
            return self._registered(subject, len(history))

    def version(self, subject: str, version: int) -> RegisteredSchema:
        with self._lock:
            history = self._history(subject)
            if not 1 <= version <= len(history):
                raise SchemaRegistryError(404, 40402, f"Version {version} not found")
            return self._registered(subject, version)

    def versions(self, subject: str) -> list[int]:
        with self._lock:
            return list(range(1, len(self._history(subject)) + 1))

    def lookup(self, subject: str, schema: str) -> RegisteredSchema:
        """Which version of ``subject`` this schema is (POST /subjects/{subject})."""
        key = canonical(schema)
        with self._lock:
            history = self._history(subject)
            schema_id = self._ids.get(key)
            if schema_id is None or schema_id not in history:
                raise SchemaRegistryError(404, 40403, "Schema not found")
            return self._registered(subject, history.index(schema_id) + 1)

    def subjects(self) -> list[str]:
        with self._lock:
            return sorted(self._versions)

    def is_compatible(self, subject: str, schema: str) -> bool:
        canonical(schema)
        with self._lock:
            return not self._incompatibilities(subject, schema)

    def incompatibilities(self, subject: str, schema: str) -> list[str]:
        canonical(schema)
        with self._lock:
            return self._incompatibilities(subject, schema)

    def set_compatibility(self, level: str, subject: str | None = None) -> None:
        level = _check_level(level)
        with self._lock:
            if subject is None:
                self._global_level = level
            else:
                self._subject_levels[subject] = level

    def compatibility(self, subject: str | None = None) -> str:
        with self._lock:
            return self._global_level if subject is None else self._level(subject)

    # -- internals (lock held) ------------------------------------------------------------

    def _level(self, subject: str) -> str:
        return self._subject_levels.get(subject, self._global_level)

    def _history(self, subject: str) -> list[int]:
        history = self._versions.get(subject)
        if not history:
            raise SchemaRegistryError(404, 40401, f"Subject {subject!r} not found")
        return history

    def _registered(self, subject: str, version: int) -> RegisteredSchema:
        schema_id = self._versions[subject][version - 1]
        return RegisteredSchema(schema_id, subject, version, self._schemas[schema_id])

    def _incompatibilities(self, subject: str, schema: str) -> list[str]:
        level = self._level(subject)
        history = self._versions.get(subject, [])
        if level == "NONE" or not history:
            return []
        earlier = history if level.endswith("_TRANSITIVE") else history[-1:]
        reasons: list[str] = []
        for schema_id in earlier:
            old = self._schemas[schema_id]
            try:
                if level.startswith(("BACKWARD", "FULL")):
                    reasons += backward_incompatibilities(reader=schema, writer=old)
                if level.startswith(("FORWARD", "FULL")):
                    reasons += [
                        f"old readers: {r}"
                        for r in backward_incompatibilities(reader=old, writer=schema)
                    ]
            except SchemaParseError as exc:
                raise SchemaRegistryError(422, 42201, f"Invalid schema: {exc}") from exc
        return list(dict.fromkeys(reasons))


def _check_level(level: str) -> str:
    upper = level.upper()
    if upper not in LEVELS:
        raise SchemaRegistryError(422, 42203, f"Invalid compatibility level {level!r}")
    return upper
