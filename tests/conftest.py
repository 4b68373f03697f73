"""Shared fixtures: the backend under test, chosen by ``--backend``."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cta.backend import Backend
from cta.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def _stack_endpoints() -> dict[str, str]:
    """The endpoints `cta stack up` wrote, under any CTA_* already set in the environment."""
    values: dict[str, str] = {}
    path = ROOT / ".stack" / "endpoints.env"
    if path.exists():
        for line in path.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name.startswith("CTA_"):
                values[name.strip()] = value.strip()
    return {**values, **{k: v for k, v in os.environ.items() if k.startswith("CTA_")}}


@pytest.fixture(scope="session")
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--backend"))


@pytest.fixture(scope="session")
def settings(backend_name: str) -> Iterator[Settings]:
    """The backend's settings. For ``kafka`` the real stack is, in order: the CTA_* endpoints in
    the environment; the native stack `cta stack up` left running; containers where a Docker
    engine answers; otherwise the native stack, started here (and stopped after)."""
    if backend_name == "memory":
        yield Settings.from_env({"CTA_BACKEND": "memory"})
        return
    env = _stack_endpoints()
    if "CTA_BOOTSTRAP_SERVERS" in env:
        yield Settings.from_env({**env, "CTA_BACKEND": "kafka"})
        return
    from cta.kafka.containers import ContainerStack, docker_available

    if docker_available():
        containers = ContainerStack()
        try:
            yield Settings.from_env({**containers.start(), "CTA_BACKEND": "kafka"})
        finally:
            containers.stop()
        return
    from cta.stack import StackConfig, down, up

    config = StackConfig.from_settings(Settings())
    endpoints = up(config)
    try:
        yield Settings.from_env({**endpoints.as_env(), "CTA_BACKEND": "kafka"})
    finally:
        down(config)


@pytest.fixture
def backend(settings: Settings) -> Iterator[Backend]:
    """A backend with nothing in it: a fresh emulation, or the real stack reset to empty topics."""
    if settings.backend == "memory":
        from cta.bootstrap.memory import memory_backend

        with memory_backend() as backend:
            yield backend
        return
    from cta.bootstrap.kafka import kafka_backend
    from cta.kafka.reset import reset_pipeline

    reset_pipeline(settings)
    with kafka_backend(settings) as backend:
        yield backend


@pytest.fixture(scope="session")
def mock_bootstrap() -> Iterator[str]:
    """Bootstrap address of a one-broker librdkafka mock cluster, alive for the session."""
    from confluent_kafka import Producer

    owner = Producer({"test.mock.num.brokers": 1, "bootstrap.servers": "", "log_level": 3})
    brokers = owner.list_topics(timeout=10).brokers.values()
    yield ",".join(f"{b.host}:{b.port}" for b in brokers)
    owner.flush(1)


@pytest.fixture(autouse=True)
def _no_unexpected_error_logs(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """Fail a test that logs an ERROR it did not expect. A test that provokes one on purpose
    says so with ``cta.testing.expect_log(logger, pattern)``, which also fails the test when the
    record never comes."""
    if request.node.get_closest_marker("expect_error_logs"):
        pytest.fail("the expect_error_logs marker is gone: wrap the step in cta.testing.expect_log")
    yield
    errors = [
        r for when in ("setup", "call") for r in caplog.get_records(when)
        if r.levelno >= logging.ERROR
    ]
    assert not errors, "unexpected error log: " + "; ".join(
        f"{r.name}: {r.getMessage()}" for r in errors[:3]
    )
