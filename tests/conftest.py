"""Shared fixtures: the backend under test, chosen by ``--backend``."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cta.config import Settings
from cta.ports import Backend

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
def settings(backend_name: str) -> Settings:
    if backend_name == "memory":
        return Settings.from_env({"CTA_BACKEND": "memory"})
    env = _stack_endpoints()
    if "CTA_BOOTSTRAP_SERVERS" not in env:
        pytest.exit("--backend kafka needs CTA_BOOTSTRAP_SERVERS or `cta stack up` first", 2)
    return Settings.from_env({**env, "CTA_BACKEND": "kafka"})


@pytest.fixture
def backend(settings: Settings) -> Iterator[Backend]:
    """A backend with nothing in it: a fresh emulation, or the real stack reset to empty topics."""
    if settings.backend == "memory":
        from cta.memory.backend import memory_backend

        yield memory_backend()
        return
    from cta.kafka import kafka_backend
    from cta.kafka.reset import reset_pipeline

    reset_pipeline(settings)
    backend = kafka_backend(settings)
    try:
        yield backend
    finally:
        closer = backend.extras.get("close")
        if callable(closer):
            closer()


@pytest.fixture(autouse=True)
def _no_unexpected_error_logs(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """Fail a test that logs an ERROR it did not expect (mark it ``expect_error_logs``)."""
    yield
    if request.node.get_closest_marker("expect_error_logs"):
        return
    errors = [
        r for when in ("setup", "call") for r in caplog.get_records(when)
        if r.levelno >= logging.ERROR
    ]
    assert not errors, "unexpected error log: " + "; ".join(
        f"{r.name}: {r.getMessage()}" for r in errors[:3]
    )
