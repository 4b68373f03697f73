"""Fixtures for the real adapters: librdkafka's in-process mock cluster, and the real stack when
CTA_BOOTSTRAP_SERVERS is set (``source .stack/endpoints.env``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer

from cta.config import Settings


@pytest.fixture(scope="session")
def mock_bootstrap() -> Iterator[str]:
    """Bootstrap address of a one-broker librdkafka mock cluster, alive for the session."""
    owner = Producer({"test.mock.num.brokers": 1, "bootstrap.servers": "", "log_level": 3})
    brokers = owner.list_topics(timeout=10).brokers.values()
    yield ",".join(f"{b.host}:{b.port}" for b in brokers)
    owner.flush(1)


@pytest.fixture
def real_settings() -> Settings:
    if not os.environ.get("CTA_BOOTSTRAP_SERVERS"):
        pytest.skip("CTA_BOOTSTRAP_SERVERS not set: no real Kafka stack")
    return Settings.from_env()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]
