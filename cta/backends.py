"""Choosing a backend from settings: ``memory`` (in-process, the default) or ``kafka``."""

from __future__ import annotations

from cta.config import Settings
from cta.ports import Backend


def open_backend(settings: Settings | None = None) -> Backend:
    settings = settings or Settings.from_env()
    if settings.backend == "memory":
        from cta.memory.backend import memory_backend

        return memory_backend()
    if settings.backend == "kafka":
        from cta.kafka import kafka_backend

        return kafka_backend(settings)
    raise ValueError(f"unknown backend {settings.backend!r}: choose 'memory' or 'kafka'")
