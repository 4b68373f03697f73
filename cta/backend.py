"""A backend: every adapter of one set-up, wired together, and what it runs.

``cta.bootstrap`` builds one (``memory_backend()``, ``kafka_backend(settings)``). Besides the
ports, a backend says what it runs and how to wait for it:

- ``pumps``: the processors it runs in this process (connector tasks, the stations processor,
  KSQL queries), driven by a test (``Pipeline.drain``) or background threads;
- ``out_of_process``: processors it starts as processes of their own (the Faust worker), with
  the consumer groups whose lag tells when they have caught up;
- ``settle``: how long a quiet moment must last before the pipeline counts as settled.

A new kind of processor is one more ``OutOfProcess`` (or pump source) in the wiring module; the
pipeline and the commands need no change. ``close()`` (or ``with backend:``) stops what the
backend started and releases what it opened, in reverse order; it is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

import requests

from cta.ports import (
    ConnectAdmin,
    EventLog,
    KsqlAdmin,
    RestProxy,
    SchemaRegistry,
    StationDatabase,
    TopicAdmin,
)
from cta.runtime import Pump

if TYPE_CHECKING:
    from cta.ksql.engine import KsqlEngine
    from cta.processors.stations import StationsProcessor

log = logging.getLogger(__name__)


class OutOfProcess(Protocol):
    """Processors a backend runs outside this process."""

    @property
    def name(self) -> str: ...

    @property
    def groups(self) -> Mapping[str, tuple[str, ...]]:
        """Consumer groups whose lag tells whether these processors have caught up, each with
        the topics it reads (a partition it never committed to lags by its whole length)."""
        ...

    def start(self) -> None:
        """Start and wait until ready; a second call does nothing."""
        ...

    def stop(self) -> None:
        """Stop and release what they hold (their group leaves); safe when never started."""
        ...


@dataclass(frozen=True, slots=True)
class SettlePolicy:
    """When a pipeline counts as settled: ``quiet_rounds`` rounds in a row in which no pump,
    each polled for ``poll_timeout`` seconds, handled anything and no group lags. In memory one
    quiet round proves it; over a network a fetch may still be in flight."""

    poll_timeout: float = 0.0
    quiet_rounds: int = 1


IN_MEMORY = SettlePolicy()
OVER_A_NETWORK = SettlePolicy(poll_timeout=0.2, quiet_rounds=3)


@dataclass(frozen=True, slots=True)
class HttpEndpoint:
    """Where raw HTTP reaches a service (tests that send what the typed client never would)."""

    base_url: str
    session: requests.Session


def no_pumps() -> list[Pump]:
    return []


@dataclass(slots=True, eq=False)
class Backend:
    """Every adapter one backend provides, wired together, and what it runs."""

    name: str
    log: EventLog
    admin: TopicAdmin
    registry: SchemaRegistry
    rest_proxy: RestProxy
    connect: ConnectAdmin
    ksql: KsqlAdmin
    stations_db: StationDatabase
    rest_proxy_http: HttpEndpoint
    # The in-process processors, asked for each time (KSQL queries appear as statements run).
    pumps: Callable[[], list[Pump]] = no_pumps
    out_of_process: tuple[OutOfProcess, ...] = ()
    settle: SettlePolicy = IN_MEMORY
    # Handles for tests and tools: the in-process runners, where this backend has them.
    stations_processor: StationsProcessor | None = None
    ksql_engine: KsqlEngine | None = None
    # Called by close(), last registered first.
    closers: list[Callable[[], None]] = field(default_factory=list)
    _started: list[OutOfProcess] = field(default_factory=list)
    _closed: bool = False

    def start_out_of_process(self) -> None:
        """Start the processors that run elsewhere (the Faust worker); idempotent."""
        for processors in self.out_of_process:
            if processors not in self._started:
                self._started.append(processors)
                processors.start()

    @property
    def remote_groups(self) -> dict[str, tuple[str, ...]]:
        """The out-of-process processors' groups, each with the topics it reads."""
        return {group: topics for p in self.out_of_process for group, topics in p.groups.items()}

    def close(self) -> None:
        """Stop the started processors, then run the closers; every step runs even when one
        fails (the failure is logged, and the first re-raised at the end)."""
        if self._closed:
            return
        self._closed = True
        steps: list[tuple[str, Callable[[], None]]] = [
            (p.name, p.stop) for p in reversed(self._started)
        ]
        steps += [(getattr(c, "__qualname__", repr(c)), c) for c in reversed(self.closers)]
        self._started.clear()
        first: BaseException | None = None
        for what, step in steps:
            try:
                step()
            except Exception as exc:  # the rest must still be released
                log.exception("closing backend %s: %s failed", self.name, what)
                first = first or exc
        if first is not None:
            raise first

    def __enter__(self) -> Backend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
