"""Device producers: arrivals and turnstiles as Avro on the event log, weather via REST Proxy."""

from cta.producers.devices import DeviceProducer, Event
from cta.producers.weather import WeatherProducer

__all__ = ["DeviceProducer", "Event", "WeatherProducer"]
