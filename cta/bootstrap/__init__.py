"""The composition root: one wiring module per backend (``cta.bootstrap.memory``,
``cta.bootstrap.kafka``), and ``open_backend(settings)`` choosing between them.

Wiring lives only here, so adapter packages (``cta.memory``, ``cta.kafka``, the emulators) never
import each other to build a backend.
"""

from __future__ import annotations

from cta.backend import Backend
from cta.config import Settings


def open_backend(settings: Settings | None = None) -> Backend:
    """The backend ``settings.backend`` names; close it (or use ``with``) when done."""
    settings = settings or Settings.from_env()
    if settings.backend == "memory":
        from cta.bootstrap.memory import memory_backend

        return memory_backend(settings)
    if settings.backend == "kafka":
        from cta.bootstrap.kafka import kafka_backend

        return kafka_backend(settings)
    raise ValueError(f"unknown backend {settings.backend!r}: choose 'memory' or 'kafka'")


__all__ = ["open_backend"]
