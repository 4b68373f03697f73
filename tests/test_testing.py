"""cta.testing's helpers: ExpectLog fails when the record never comes, and swallows it when it
does; a listening socket keeps its port."""

from __future__ import annotations

import logging
import socket

import pytest

from cta.testing import InProcessStack, expect_log, listening_socket
from cta.topics import PIPELINE_TOPICS, TopicSpec

log = logging.getLogger("cta.test-expect-log")


def test_a_required_log_that_never_comes_fails_the_test() -> None:
    with pytest.raises(AssertionError, match="expected a log record"), expect_log(log, "boom"):
        log.warning("boom, but only a warning")  # below the expected level: no match


def test_an_expected_error_is_swallowed_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    with expect_log(log, r"boom \d") as expected:
        log.error("boom 1")
        log.warning("boom 2")  # below the level: not matched, passes through
    assert [r.getMessage() for r in expected.matched] == ["boom 1"]
    assert [r.getMessage() for r in caplog.records] == ["boom 2"]


def test_an_optional_expectation_may_see_nothing() -> None:
    with expect_log(log, "boom", required=False) as expected:
        pass
    assert expected.matched == []


def test_a_listening_socket_holds_its_port() -> None:
    with listening_socket() as held:
        port = held.getsockname()[1]
        rival = socket.socket()
        with rival, pytest.raises(OSError):
            rival.bind(("127.0.0.1", port))


def test_the_in_process_stack_starts_with_the_pipeline_topics() -> None:
    stack = InProcessStack.create(PIPELINE_TOPICS, TopicSpec("extra"))
    assert set(stack.broker.list_topics()) == {t.name for t in PIPELINE_TOPICS} | {"extra"}
    assert stack.registry.subjects() == [] and stack.stations_db.rows() == []
