"""Reading topics back: every message, decoded with the schema registered for it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cta.avro import AvroDecoder, WireFormatError
from cta.backend import Backend
from cta.ports import EventLog, Record, SchemaRegistryError, TopicAdmin
from cta.runtime import wait_for
from cta.topics import subject_for


def read_all(backend: Backend, topic: str, *, timeout: float = 30.0) -> list[Record]:
    """Every message currently in ``topic`` (all partitions), read by a throw-away group."""
    return read_topic(backend.log, backend.admin, topic, timeout=timeout)


def read_topic(
    log: EventLog, admin: TopicAdmin, topic: str, *, timeout: float = 30.0
) -> list[Record]:
    """``read_all`` over an event log and admin that are not a whole backend (the chaos run)."""
    ends = admin.end_offsets(topic)
    consumer = log.consumer(f"cta-reader-{uuid.uuid4().hex[:12]}")
    consumer.subscribe([topic], from_beginning=True)
    records: list[Record] = []

    def caught_up() -> bool:
        records.extend(consumer.consume(10_000, 0.05))
        # The consumer's position, not the last record's offset: a transactional topic (the
        # KSQL sinks) ends in a commit marker that no consumer returns.
        return all((consumer.position(topic, p) or 0) >= end for p, end in ends.items() if end)

    try:
        wait_for(caught_up, timeout=timeout, interval=0.0, what=f"reading {topic}")
    finally:
        consumer.close()
    return records


def decode_all(
    backend: Backend, records: Iterable[Record]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(key, value) of each Avro record."""
    decoder = AvroDecoder(backend.registry)
    return [(decoder.decode(r.key or b""), decoder.decode(r.value or b"")) for r in records]


@dataclass(slots=True)
class VerifyReport:
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def line(self) -> str:
        counts = ", ".join(f"{t}={n}" for t, n in self.counts.items())
        verdict = "all decode" if self.ok else f"{len(self.failures)} failed: {self.failures[:3]}"
        return f"verified with the registered schemas: {counts}: {verdict}"


def verify_topics(backend: Backend, names: Iterable[str]) -> VerifyReport:
    """Decode every key and value of each topic with the schema its id names."""
    report = VerifyReport()
    decoder = AvroDecoder(backend.registry)
    for topic in names:
        records = read_all(backend, topic)
        report.counts[topic] = len(records)
        try:
            expected = {
                is_key: backend.registry.latest(subject_for(topic, is_key=is_key)).schema_id
                for is_key in (True, False)
            }
        except SchemaRegistryError as exc:
            if records:
                report.failures.append(f"{topic}: no registered schema: {exc}")
            continue
        for record in records:
            where = f"{topic}@{record.partition}:{record.offset}"
            try:
                for is_key, data in ((True, record.key), (False, record.value)):
                    decoder.decode(data or b"")
                    if decoder.schema_id(data or b"") != expected[is_key]:
                        report.failures.append(f"{where}: not the schema registered for it")
            except WireFormatError as exc:
                report.failures.append(f"{where}: {exc}")
    return report
