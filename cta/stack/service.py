"""The service model: what to run, how to tell it is up, and what it needs first."""

from __future__ import annotations

import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Service:
    """One long-running process of the stack.

    ``prepare`` runs before every start (downloads, rendering config, formatting storage) and
    must be idempotent; ``after_start`` runs once the health check passes (creating roles,
    setting registry rules) and must be idempotent too, since ``up`` also runs it for a service
    it found already running. ``available`` is None, or why the service cannot run here."""

    name: str
    command: Sequence[str]
    health: Callable[[], bool]
    log_file: Path
    depends_on: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    prepare: Callable[[], None] | None = None
    after_start: Callable[[], None] | None = None
    unavailable: str | None = None
    port: int | None = None


def start_order(services: Sequence[Service]) -> list[Service]:
    """Dependencies first, otherwise in the given order; raises on unknown or cyclic needs."""
    by_name = {s.name: s for s in services}
    if len(by_name) != len(services):
        raise ValueError("service names must be unique")
    ordered: list[Service] = []
    state: dict[str, str] = {}

    def visit(service: Service, path: tuple[str, ...]) -> None:
        if state.get(service.name) == "done":
            return
        if state.get(service.name) == "visiting":
            raise ValueError(f"dependency cycle: {' -> '.join((*path, service.name))}")
        state[service.name] = "visiting"
        for need in service.depends_on:
            if need not in by_name:
                raise ValueError(f"{service.name} depends on unknown service {need!r}")
            visit(by_name[need], (*path, service.name))
        state[service.name] = "done"
        ordered.append(service)

    for service in services:
        visit(service, ())
    return ordered
