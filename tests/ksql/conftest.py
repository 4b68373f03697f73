"""The KSQL tests' stack: cta.testing's in-process stack (pipeline topics), and a turnstile
producer speaking the producers' wire contract (Avro key and value)."""

from __future__ import annotations

import json

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

    def produce_entries(self, station_ids: list[int], line: str = "blue") -> None:
        producer = self.broker.producer()
        for n, station_id in enumerate(station_ids):
            producer.produce(
                TURNSTILES,
                self.value_encoder.encode(
                    {
                        "station_id": station_id,
                        "station_name": f"S{station_id}",
                        "line": line,
                        "timestamp": 1_700_000_000_000 + n,
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
            assert set(value) == {"STATION_ID", "COUNT"}
            assert record.key == str(value["STATION_ID"]).encode()
            latest[value["STATION_ID"]] = value["COUNT"]
        return latest


@pytest.fixture
def stack() -> Stack:
    return Stack()
