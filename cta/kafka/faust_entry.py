"""The module the Faust worker runs (``faust -A cta.kafka.faust_entry worker``): the stations
app of ``cta.processors.faust_app`` on the brokers of ``CTA_BOOTSTRAP_SERVERS``, with its
group's lag on the worker's ``/metrics`` (read from the brokers at each scrape). The lag needs a
real admin client, so this wiring lives with the real adapters, not beside the pure processor."""

from __future__ import annotations

from cta.config import Settings
from cta.kafka.admin import KafkaTopicAdmin
from cta.metrics import process_metrics
from cta.processors.faust_app import create_app
from cta.processors.stations import GROUP_ID

_settings = Settings.from_env()
app = create_app(_settings.bootstrap_servers)
process_metrics().watch_lag(
    KafkaTopicAdmin(_settings.bootstrap_servers, timeout=5.0), lambda: [GROUP_ID]
)
