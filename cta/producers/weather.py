"""The weather station posts readings through Kafka REST Proxy (v2, Avro embedded)."""

from __future__ import annotations

from cta import schemas, topics
from cta.domain.events import WeatherReading
from cta.ports import ProduceResult, RestProxy


class WeatherProducer:
    def __init__(self, rest_proxy: RestProxy, topic: str = topics.WEATHER) -> None:
        self.topic = topic
        self._rest_proxy = rest_proxy
        self._key_schema = schemas.load(schemas.WEATHER_KEY)
        self._value_schema = schemas.load(schemas.WEATHER_VALUE)
        self.sent = 0

    def send(self, reading: WeatherReading) -> ProduceResult:
        """Post one reading; a refusal raises the REST Proxy client's error."""
        result = self._rest_proxy.produce_avro(
            self.topic,
            [{"key": reading.as_key(), "value": reading.as_value()}],
            key_schema=self._key_schema,
            value_schema=self._value_schema,
        )
        self.sent += 1
        return result
