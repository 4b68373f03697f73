"""The KSQL tests' stack: cta.testing's in-process stack (pipeline topics), and a turnstile
producer speaking the producers' wire contract (Avro key and value)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cta.ksql.engine import KsqlEngine
from cta.memory.broker import MemoryBroker
from cta.memory.registry import MemorySchemaRegistry
from cta.testing import InProcessStack
from cta.topics import TURNSTILE_SUMMARY, TURNSTILES


class Stack:
    def __init__(self) -> None:
        memory = InProcessStack.create()
        self.broker: MemoryBroker = memory.broker
        self.registry: MemorySchemaRegistry = memory.registry
        self.key_encoder = memory.encoder(TURNSTILES, "turnstile_key", is_key=True)
        self.value_encoder = memory.encoder(TURNSTILES, "turnstile_value")

    def engine(self) -> KsqlEngine:
        return KsqlEngine(self.broker, self.broker, self.registry, restore_timeout=5.0)

    def produce_entries(
        self, station_ids: list[int], line: str = "blue", *, first: int = 1_700_000_000_000
    ) -> None:
        """One entry per id, stamped ``first``, ``first + 1``... (epoch ms)."""
        producer = self.broker.producer()
        for n, station_id in enumerate(station_ids):
            producer.produce(
                TURNSTILES,
                self.value_encoder.encode(
                    {
                        "station_id": station_id,
                        "station_name": f"S{station_id}",
                        "line": line,
                        "timestamp": first + n,
                    }
                ),
                key=self.key_encoder.encode({"station_id": station_id}),
            )
        producer.flush()
        producer.close()

    def summary(self) -> dict[int, int]:
        """The latest COUNT per key of TURNSTILE_SUMMARY, checking key and value agree."""
        latest: dict[int, int] = {}
        for record in self.broker.records(TURNSTILE_SUMMARY):
            assert record.key is not None and record.value is not None
            value = json.loads(record.value)
            assert set(value) == {"STATION_ID", "COUNT", "FIRST_TIMESTAMP"}
            assert record.key == str(value["STATION_ID"]).encode()
            latest[value["STATION_ID"]] = value["COUNT"]
        return latest

    def latest_rows(self) -> dict[int, dict[str, Any]]:
        """The latest TURNSTILE_SUMMARY value per station, whatever its columns."""
        rows = [json.loads(r.value or b"{}") for r in self.broker.records(TURNSTILE_SUMMARY)]
        return {row["STATION_ID"]: row for row in rows}

    def first_timestamps(self) -> dict[int, int | None]:
        """The latest FIRST_TIMESTAMP per station of TURNSTILE_SUMMARY."""
        return {sid: row.get("FIRST_TIMESTAMP") for sid, row in self.latest_rows().items()}


@pytest.fixture
def stack() -> Stack:
    return Stack()
