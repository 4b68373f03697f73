"""The Supervisor over real child processes: restarts with capped backoff and a log line that
says why, reports a child that keeps dying instead of restarting it in a loop."""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator

import pytest

from cta.runtime import wait_for
from cta.supervisor import ProcessSpec, RestartPolicy, State, Supervisor, describe_exit
from cta.testing import expect_log

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
CRASHER = [sys.executable, "-c", "import sys; sys.exit(3)"]
FAST = RestartPolicy(initial_backoff=0.05, max_backoff=0.2, stable_after=60, max_exits=50)


@pytest.fixture
def supervisors() -> Iterator[list[Supervisor]]:
    made: list[Supervisor] = []
    yield made
    for supervisor in made:
        supervisor.stop(timeout=5)


def test_describe_exit_names_the_signal() -> None:
    assert describe_exit(-signal.SIGKILL) == "killed by SIGKILL"
    assert describe_exit(3) == "exit code 3"


def test_a_killed_processor_is_reported_then_restarted_with_the_reason_logged(
    supervisors: list[Supervisor], caplog: pytest.LogCaptureFixture
) -> None:
    supervisor = Supervisor([ProcessSpec("worker", SLEEPER)], FAST)
    supervisors.append(supervisor)
    supervisor.start()
    wait_for(lambda: supervisor.health()["ok"], timeout=10, what="the worker to be up")
    first = supervisor.pid("worker")
    assert first is not None
    caplog.set_level(logging.WARNING, logger="cta.supervisor")
    seen_down = threading.Event()
    os.kill(first, signal.SIGKILL)

    def restarted() -> bool:
        health = supervisor.health()
        if not health["ok"]:
            assert health["down"] == ["worker"]
            seen_down.set()
        pid = supervisor.pid("worker")
        return health["ok"] and pid is not None and pid != first

    wait_for(restarted, timeout=10, interval=0.01, what="the worker to be restarted")
    report = supervisor.health()["processors"]["worker"]
    assert report["restarts"] == 1 and report["last_exit"] == "killed by SIGKILL"
    assert any("worker killed by SIGKILL" in r.getMessage() for r in caplog.records)


def test_health_names_the_dead_processor_while_it_waits_to_restart(
    supervisors: list[Supervisor],
) -> None:
    slow = RestartPolicy(initial_backoff=30, max_backoff=30)
    supervisor = Supervisor([ProcessSpec("faust", SLEEPER), ProcessSpec("ksql", SLEEPER)], slow)
    supervisors.append(supervisor)
    supervisor.start()
    wait_for(lambda: supervisor.health()["ok"], timeout=10, what="both up")
    pid = supervisor.pid("ksql")
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: supervisor.health()["down"] == ["ksql"], timeout=5, what="ksql reported down")
    assert supervisor.state("ksql") is State.BACKOFF
    supervisor.restart("ksql")
    wait_for(lambda: supervisor.health()["ok"], timeout=10, what="ksql back")


def test_backoff_doubles_up_to_its_cap(
    supervisors: list[Supervisor], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="cta.supervisor")
    supervisor = Supervisor([ProcessSpec("crasher", CRASHER)], FAST)
    supervisors.append(supervisor)
    supervisor.start()

    def delays() -> list[float]:
        found = [re.search(r"restarting in ([\d.]+)s", r.getMessage()) for r in caplog.records]
        return [float(m.group(1)) for m in found if m]

    wait_for(lambda: len(delays()) >= 5, timeout=20, what="five restarts")
    assert delays()[:5] == [0.05, 0.1, 0.2, 0.2, 0.2]
    assert all("crasher exit code 3" in r.getMessage() for r in caplog.records[:5])


def test_a_processor_that_keeps_dying_is_reported_not_restarted_in_a_loop(
    supervisors: list[Supervisor],
) -> None:
    policy = RestartPolicy(initial_backoff=0.01, max_backoff=0.02, max_exits=3, window=60)
    supervisor = Supervisor([ProcessSpec("crasher", CRASHER)], policy)
    supervisors.append(supervisor)
    with expect_log("cta.supervisor", "keeps dying"):
        supervisor.start()
        wait_for(
            lambda: supervisor.state("crasher") is State.FAILED, timeout=20, what="crasher FAILED"
        )
    health = supervisor.health()
    assert health["down"] == ["crasher"]
    assert health["processors"]["crasher"]["restarts"] == 2  # three runs in all, then no more


def test_a_processor_is_up_only_once_its_probe_says_ready(supervisors: list[Supervisor]) -> None:
    ready = threading.Event()
    supervisor = Supervisor(
        [ProcessSpec("faust", SLEEPER, ready=lambda pid: ready.is_set())],
        RestartPolicy(ready_interval=0.0),
    )
    supervisors.append(supervisor)
    supervisor.start()
    wait_for(lambda: supervisor.pid("faust") is not None, timeout=10, what="faust spawned")
    assert supervisor.health()["down"] == ["faust"]
    assert supervisor.state("faust") is State.STARTING
    ready.set()
    wait_for(lambda: supervisor.health()["ok"], timeout=10, what="faust ready")


def test_stop_ends_every_child(supervisors: list[Supervisor]) -> None:
    supervisor = Supervisor([ProcessSpec("a", SLEEPER), ProcessSpec("b", SLEEPER)], FAST)
    supervisor.start()
    wait_for(lambda: supervisor.health()["ok"], timeout=10, what="both up")
    pids = [supervisor.pid("a"), supervisor.pid("b")]
    supervisor.stop(timeout=5)
    for pid in pids:
        assert pid is not None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_processor_that_starts_after_another_waits_until_that_one_is_up(
    supervisors: list[Supervisor], tmp_path: object
) -> None:
    from pathlib import Path

    ready = Path(str(tmp_path)) / "first.ready"
    first = ProcessSpec("first", SLEEPER, ready=lambda pid: ready.exists())
    second = ProcessSpec("second", SLEEPER, start_after="first")
    supervisor = Supervisor([first, second], FAST, poll_interval=0.02)
    supervisors.append(supervisor)
    supervisor.start()
    wait_for(lambda: supervisor.pid("first") is not None, timeout=10, what="first started")
    assert supervisor.state("second") is State.WAITING
    assert supervisor.pid("second") is None
    assert supervisor.health()["down"] == ["first", "second"]
    ready.touch()
    wait_for(lambda: supervisor.health()["ok"], timeout=10, what="both up")


def test_start_after_names_a_processor_of_the_same_supervisor() -> None:
    with pytest.raises(ValueError, match="nobody"):
        Supervisor([ProcessSpec("a", SLEEPER, start_after="nobody")])


def test_a_processor_never_ready_is_killed_and_started_again_after_the_ready_timeout(
    supervisors: list[Supervisor], caplog: pytest.LogCaptureFixture
) -> None:
    """A worker started during a broker outage may hang without ever becoming ready: with a
    ``ready_timeout`` the supervisor kills it and starts a new one, saying why."""
    hung: list[int] = []  # the first worker's pid: it never becomes ready, its successor does
    policy = RestartPolicy(
        initial_backoff=0.05, max_backoff=0.2, ready_interval=0.05, ready_timeout=0.5
    )
    spec = ProcessSpec("hung", SLEEPER, ready=lambda pid: bool(hung) and pid != hung[0])
    supervisor = Supervisor([spec], policy)
    supervisors.append(supervisor)
    caplog.set_level(logging.WARNING, logger="cta.supervisor")
    supervisor.start()
    first = supervisor.pid("hung")
    assert first is not None
    hung.append(first)

    def replaced() -> bool:
        pid = supervisor.pid("hung")
        return pid is not None and pid != first

    wait_for(replaced, timeout=10, what="the hung worker replaced")
    assert "not ready after" in caplog.text
    wait_for(lambda: supervisor.health()["ok"], timeout=10, what="the new worker up")
