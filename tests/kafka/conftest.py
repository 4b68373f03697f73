"""Fixtures for the real adapters: librdkafka's in-process mock cluster, and the real stack when
CTA_BOOTSTRAP_SERVERS is set (``source .stack/endpoints.env``)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cta.config import Settings
from cta.stack.config import StackConfig
from cta.stack.lifecycle import down, up


@pytest.fixture
def real_settings() -> Settings:
    if not os.environ.get("CTA_BOOTSTRAP_SERVERS"):
        pytest.skip("CTA_BOOTSTRAP_SERVERS not set: no real Kafka stack")
    return Settings.from_env()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def private_cluster() -> Iterator[StackConfig]:
    """Three Kafka nodes and the registry, on free ports, in a state dir of their own (the
    shared stack is left alone): one for the session's cluster tests (broker failure,
    rebalances), since four JVMs take a while to start."""
    state = Path(tempfile.mkdtemp(prefix="cta-cluster-"))
    config = StackConfig(state_dir=state, brokers=3).with_free_ports()
    try:
        up(config, only=["kafka", "registry"])
        yield config
    finally:
        down(config)
        shutil.rmtree(state, ignore_errors=True)
