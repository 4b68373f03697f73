"""The EventLog port over confluent-kafka (librdkafka): producers (``cta.kafka.producer``),
transactional producers (``cta.kafka.transactions``) and consumers (``cta.kafka.consumer``)
made with one cluster's settings; extra librdkafka settings override the defaults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cta.kafka.consumer import CONSUMER_DEFAULTS, KafkaConsumer
from cta.kafka.producer import PRODUCER_DEFAULTS, KafkaProducer
from cta.kafka.transactions import KafkaTransactionalProducer
from cta.ports import EventConsumer, EventProducer, TransactionalProducer

__all__ = ["CONSUMER_DEFAULTS", "PRODUCER_DEFAULTS", "KafkaEventLog"]


class KafkaEventLog:
    """EventLog over a Kafka cluster; extra librdkafka settings override the defaults."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        producer_config: Mapping[str, Any] | None = None,
        consumer_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self._producer_config = dict(producer_config or {})
        self._consumer_config = dict(consumer_config or {})

    def producer(self, client_id: str = "cta") -> EventProducer:
        return KafkaProducer(
            {
                "bootstrap.servers": self.bootstrap_servers,
                "client.id": client_id,
                **PRODUCER_DEFAULTS,
                **self._producer_config,
            }
        )

    def transactional_producer(
        self, transactional_id: str, *, client_id: str = "cta"
    ) -> TransactionalProducer:
        return KafkaTransactionalProducer(
            {
                "bootstrap.servers": self.bootstrap_servers,
                "client.id": client_id,
                **PRODUCER_DEFAULTS,
                **self._producer_config,
                "transactional.id": transactional_id,
            }
        )

    def consumer(self, group_id: str, *, client_id: str = "cta") -> EventConsumer:
        return KafkaConsumer(
            {
                "bootstrap.servers": self.bootstrap_servers,
                "group.id": group_id,
                "client.id": client_id,
                **CONSUMER_DEFAULTS,
                **self._consumer_config,
            }
        )
