"""The EventProducer port over confluent-kafka's Producer.

Tuned for throughput: batches linger briefly and are lz4-compressed, and ``produce`` never
blocks per message. Delivery reports are served by ``poll``/``flush``: failures are collected
and raised from there, successes go to the message's ``on_delivery`` if it has one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from cta.ports import DeliveryCallback, DeliveryError, Headers

PRODUCER_DEFAULTS: dict[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 20,
    "batch.num.messages": 10_000,
    "batch.size": 1_048_576,
    # aiokafka (Faust) decodes lz4 only with its ``lz4`` extra (cramjam) installed.
    "compression.type": "lz4",
}


class KafkaProducer:
    """EventProducer over ``confluent_kafka.Producer``."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._failures: list[DeliveryError] = []
        self._producer = Producer({**config, "on_delivery": self._on_delivery})

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._failures.append(DeliveryError(message.topic() or "?", error.str()))

    def _reporting_to(
        self, callback: DeliveryCallback
    ) -> Callable[[KafkaError | None, Message], None]:
        def report(error: KafkaError | None, message: Message) -> None:
            if error is not None:
                self._on_delivery(error, message)
            else:
                callback(message.partition() or 0, message.offset() or 0)

        return report

    def _raise_failures(self) -> None:
        if not self._failures:
            return
        first, count = self._failures[0], len(self._failures)
        self._failures.clear()
        if count == 1:
            raise first
        raise DeliveryError(first.topic, f"{first.reason} (and {count - 1} more failures)")

    def produce(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: Headers = (),
        timestamp_ms: int | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        extra: dict[str, Any] = {}
        if on_delivery is not None:
            extra["on_delivery"] = self._reporting_to(on_delivery)
        while True:
            try:
                self._producer.produce(
                    topic,
                    value=value,
                    key=key,
                    headers=list(headers) if headers else None,
                    timestamp=timestamp_ms or 0,
                    **extra,
                )
                return
            except BufferError:
                # Local queue full: serve delivery reports so librdkafka can drain, then retry.
                self._producer.poll(0.05)
                self._raise_failures()
            except KafkaException as exc:
                # Refused before queueing (message too large, unknown partition...).
                raise DeliveryError(topic, exc.args[0].str()) from exc

    def poll(self, timeout: float = 0.0) -> int:
        served = int(self._producer.poll(timeout))
        self._raise_failures()
        return served

    def flush(self, timeout: float = 30.0) -> None:
        remaining = int(self._producer.flush(timeout))
        self._raise_failures()
        if remaining:
            raise DeliveryError("*", f"{remaining} messages still unacknowledged after {timeout}s")

    def close(self) -> None:
        self.flush()
