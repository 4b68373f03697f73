"""cta.retry: the shared capped exponential backoff."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import FrozenInstanceError
from itertools import islice

import pytest

from cta.retry import Backoff, exponential_delays, retry

log = logging.getLogger("tests.retry")


class Flaky(Exception):
    pass


def outcomes(*steps: object) -> Callable[[], object]:
    """An attempt that raises or returns each step in turn."""
    remaining: Iterator[object] = iter(steps)

    def attempt() -> object:
        step = next(remaining)
        if isinstance(step, Exception):
            raise step
        return step

    return attempt


@pytest.fixture
def sleeps() -> list[float]:
    return []


def backoff(sleeps: list[float], attempts: int = 4) -> Backoff:
    return Backoff(attempts, 0.1, 0.3, sleeps.append)


def test_delays_double_up_to_the_cap_one_fewer_than_the_attempts(sleeps: list[float]) -> None:
    assert list(backoff(sleeps, attempts=5).delays()) == [0.1, 0.2, 0.3, 0.3]
    assert list(backoff(sleeps, attempts=1).delays()) == []


def test_exponential_delays_are_endless_and_uncapped_by_default() -> None:
    assert list(islice(exponential_delays(0.5), 5)) == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert list(islice(exponential_delays(1.0, 3.0), 4)) == [1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize(("attempts", "initial"), [(0, 0.1), (3, -1.0)])
def test_a_backoff_that_cannot_work_is_refused(attempts: int, initial: float) -> None:
    with pytest.raises(ValueError):
        Backoff(attempts, initial)


def test_a_backoff_is_frozen(sleeps: list[float]) -> None:
    policy = backoff(sleeps)
    with pytest.raises(FrozenInstanceError):
        policy.attempts = 9  # type: ignore[misc]


def test_a_first_success_returns_without_waiting(sleeps: list[float]) -> None:
    result = retry(outcomes("ok"), backoff=backoff(sleeps), describe="x", log=log, retry_on=Flaky)
    assert result == "ok" and sleeps == []


def test_retriable_exceptions_are_logged_and_retried_after_growing_delays(
    sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    attempt = outcomes(Flaky("refused"), Flaky("still refused"), "ok")
    with caplog.at_level(logging.WARNING, logger=log.name):
        result = retry(attempt, backoff=backoff(sleeps), describe="GET /x", log=log, retry_on=Flaky)
    assert result == "ok"
    assert sleeps == [0.1, 0.2]
    assert [r.getMessage() for r in caplog.records] == [
        "GET /x: attempt 1 of 4 failed (refused); retrying in 0.10s",
        "GET /x: attempt 2 of 4 failed (still refused); retrying in 0.20s",
    ]


def test_the_last_exception_propagates_once_the_attempts_are_used_up(sleeps: list[float]) -> None:
    last = Flaky("fourth")
    attempt = outcomes(Flaky("1"), Flaky("2"), Flaky("3"), last, "never reached")
    with pytest.raises(Flaky) as caught:
        retry(attempt, backoff=backoff(sleeps), describe="x", log=log, retry_on=Flaky)
    assert caught.value is last
    assert sleeps == [0.1, 0.2, 0.3]


def test_other_exceptions_propagate_at_once(sleeps: list[float]) -> None:
    attempt = outcomes(KeyError("not retriable"), "never reached")
    with pytest.raises(KeyError):
        retry(attempt, backoff=backoff(sleeps), describe="x", log=log, retry_on=Flaky)
    assert sleeps == []


def test_a_result_with_a_problem_is_retried_and_the_last_one_returned(
    sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    def busy(status: object) -> str | None:
        return f"answered {status}" if status == 503 else None

    with caplog.at_level(logging.WARNING, logger=log.name):
        assert (
            retry(outcomes(503, 200), backoff=backoff(sleeps), describe="x", log=log, retry_if=busy)
            == 200
        )
        assert "answered 503" in caplog.records[0].getMessage()
        assert (
            retry(
                outcomes(503, 503, 503, 503),
                backoff=backoff(sleeps),
                describe="x",
                log=log,
                retry_if=busy,
            )
            == 503
        )
    assert sleeps == [0.1, 0.1, 0.2, 0.3]


def test_an_exception_without_text_is_logged_by_its_type(
    sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=log.name):
        retry(
            outcomes(Flaky(), "ok"),
            backoff=backoff(sleeps),
            describe="x",
            log=log,
            retry_on=(KeyError, Flaky),
        )
    assert "(Flaky)" in caplog.records[0].getMessage()
