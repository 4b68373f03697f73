"""Fixtures for the real adapters: librdkafka's in-process mock cluster, and the real stack when
CTA_BOOTSTRAP_SERVERS is set (``source .stack/endpoints.env``)."""

from __future__ import annotations

import os
import uuid

import pytest

from cta.config import Settings


@pytest.fixture
def real_settings() -> Settings:
    if not os.environ.get("CTA_BOOTSTRAP_SERVERS"):
        pytest.skip("CTA_BOOTSTRAP_SERVERS not set: no real Kafka stack")
    return Settings.from_env()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]
