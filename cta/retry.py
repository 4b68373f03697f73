"""Retrying a call against a failing dependency with a capped exponential backoff.

Every adapter that talks to a server (Connect, ksqlDB, REST Proxy, the schema registry,
PostgreSQL) retries the same way: attempt, and on a retriable failure log it, wait a delay that
doubles from ``initial`` up to ``maximum``, and try again, at most ``attempts`` times in all.
The last attempt's outcome stands: its result is returned or its exception raised, so each
adapter turns it into its own error type with its own message.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

T = TypeVar("T")

ExceptionTypes = type[Exception] | tuple[type[Exception], ...]


def exponential_delays(initial: float, maximum: float = math.inf) -> Iterator[float]:
    """``initial``, then each delay double the one before, never above ``maximum``; endless."""
    delay = initial
    while True:
        yield delay
        delay = min(delay * 2, maximum)


@dataclass(frozen=True)
class Backoff:
    """At most ``attempts`` attempts, waiting ``initial`` seconds after the first failure,
    doubling after each further one, capped at ``maximum``. ``sleep`` is injectable for tests."""

    attempts: int
    initial: float
    maximum: float = math.inf
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if self.initial < 0 or self.maximum < 0:
            raise ValueError(f"delays must not be negative: {self.initial}, {self.maximum}")

    def delays(self) -> Iterator[float]:
        """The waits between attempts: one fewer than ``attempts``."""
        return islice(exponential_delays(self.initial, self.maximum), self.attempts - 1)


def retry(
    attempt: Callable[[], T],
    *,
    backoff: Backoff,
    describe: str,
    log: logging.Logger,
    retry_on: ExceptionTypes = (),
    retry_if: Callable[[T], str | None] | None = None,
) -> T:
    """Call ``attempt`` until it succeeds or ``backoff.attempts`` are used up.

    An attempt fails when it raises one of ``retry_on`` or when ``retry_if(result)`` names a
    problem (``None`` accepts the result). Each failure but the last is logged as a warning on
    ``log`` (``describe`` says what was attempted) and followed by the next delay. The last
    attempt is not judged: its result is returned, its exception propagates.
    """
    for number, delay in enumerate(backoff.delays(), start=1):
        problem: str | None
        try:
            result = attempt()
        except retry_on as exc:
            problem = str(exc) or type(exc).__name__
        else:
            problem = None if retry_if is None else retry_if(result)
            if problem is None:
                return result
        log.warning(
            "%s: attempt %d of %d failed (%s); retrying in %.2fs",
            describe,
            number,
            backoff.attempts,
            problem,
            delay,
        )
        backoff.sleep(delay)
    return attempt()
