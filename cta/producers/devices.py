"""Arrival and turnstile producers: Confluent wire-format Avro on the event log.

Keys carry the station id (not the original's produce-time timestamp): Kafka orders messages per
partition, and hashing the station id sends all of one station's events to one partition, so a
consumer sees each station's arrivals in order on any partition count. The event time travels in
the value (``timestamp``), where it belongs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from cta import schemas, topics
from cta.avro import AvroEncoder
from cta.ports import EventProducer, SchemaRegistry

MAX_CACHED_KEYS = 10_000


class Event(Protocol):
    def as_key(self) -> dict[str, Any]: ...

    def as_value(self) -> dict[str, Any]: ...


class DeviceProducer:
    """Encodes events with registered schemas and enqueues them; never blocks per message.

    Delivery failures surface from ``poll``/``flush`` as ``DeliveryError``.
    """

    def __init__(
        self,
        producer: EventProducer,
        registry: SchemaRegistry,
        topic: str,
        *,
        key_schema: str,
        value_schema: str,
    ) -> None:
        self.topic = topic
        self._producer = producer
        self._key = AvroEncoder(registry, topics.subject_for(topic, is_key=True), key_schema)
        self._value = AvroEncoder(registry, topics.subject_for(topic, is_key=False), value_schema)
        # Keys come from a small set (one per station): encode each once.
        self._key_bytes: dict[tuple[Any, ...], bytes] = {}
        self.sent = 0

    @classmethod
    def arrivals(cls, producer: EventProducer, registry: SchemaRegistry) -> DeviceProducer:
        return cls(
            producer,
            registry,
            topics.ARRIVALS,
            key_schema=schemas.load(schemas.ARRIVAL_KEY),
            value_schema=schemas.load(schemas.ARRIVAL_VALUE),
        )

    @classmethod
    def turnstiles(cls, producer: EventProducer, registry: SchemaRegistry) -> DeviceProducer:
        return cls(
            producer,
            registry,
            topics.TURNSTILES,
            key_schema=schemas.load(schemas.TURNSTILE_KEY),
            value_schema=schemas.load(schemas.TURNSTILE_VALUE),
        )

    def _encoded_key(self, key: dict[str, Any], identity: tuple[Any, ...]) -> bytes:
        if len(self._key_bytes) >= MAX_CACHED_KEYS:
            self._key_bytes.clear()
        key_bytes = self._key_bytes[identity] = self._key.encode(key)
        return key_bytes

    def send(self, event: Event) -> None:
        key = event.as_key()
        identity = tuple(key.values())
        key_bytes = self._key_bytes.get(identity) or self._encoded_key(key, identity)
        # The record timestamp stays the produce time: the event time is in the value, and a
        # simulated future date would be refused by the broker (Kafka 4: CreateTime may be at
        # most an hour ahead).
        self._producer.produce(self.topic, self._value.encode(event.as_value()), key=key_bytes)
        self.sent += 1

    def send_all(self, events: Iterable[Event]) -> None:
        """``send`` each event, in order: the same messages, with the lookups ``send`` repeats
        per event done once (a step's turnstiles are tens of thousands of events)."""
        produce, topic = self._producer.produce, self.topic
        encode_value, cached_key = self._value.encode, self._key_bytes.get
        sent = 0
        # A station's riders of one step are one immutable event repeated (one per rider): the
        # same object encodes to the same bytes, so a run of it is encoded once.
        last: Event | None = None
        key_bytes = value_bytes = b""
        for event in events:
            if event is not last:
                key = event.as_key()
                identity = tuple(key.values())
                key_bytes = cached_key(identity) or self._encoded_key(key, identity)
                value_bytes = encode_value(event.as_value())
                last = event
            produce(topic, value_bytes, key=key_bytes)
            sent += 1
        self.sent += sent

    def poll(self) -> None:
        self._producer.poll(0.0)

    def flush(self, timeout: float = 30.0) -> None:
        self._producer.flush(timeout)
