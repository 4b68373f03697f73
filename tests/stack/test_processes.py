from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from cta.stack.processes import (
    StackError,
    read_pid,
    running_pid,
    start,
    stop,
    wait_healthy,
)
from cta.stack.service import Service

# A stand-in service: writes a ready file once up, and leaves on SIGTERM.
_SERVER = """
import pathlib, signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
pathlib.Path(sys.argv[1]).write_text("up")
print("serving", flush=True)
while True:
    time.sleep(0.05)
"""


def _service(tmp_path: Path, script: str = _SERVER) -> Service:
    ready = tmp_path / "ready"
    return Service(
        name="fake",
        command=[sys.executable, "-c", script, str(ready)],
        health=ready.exists,
        log_file=tmp_path / "logs" / "fake.log",
    )


def test_a_started_service_is_found_healthy_and_stopped(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    service = _service(tmp_path)
    proc = start(service, run_dir)
    wait_healthy(service, run_dir, timeout=30, proc=proc)
    assert running_pid(run_dir, "fake") == proc.pid
    assert "serving" in service.log_file.read_text()
    assert stop("fake", run_dir, signal.SIGTERM, timeout=10) is True
    assert running_pid(run_dir, "fake") is None
    assert read_pid(run_dir, "fake") is None
    assert stop("fake", run_dir, signal.SIGTERM, timeout=10) is False


def test_a_service_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    stubborn = _SERVER.replace("lambda *_: sys.exit(0)", "signal.SIG_IGN")
    run_dir = tmp_path / "run"
    service = _service(tmp_path, stubborn)
    proc = start(service, run_dir)
    wait_healthy(service, run_dir, timeout=30, proc=proc)
    assert stop("fake", run_dir, signal.SIGTERM, timeout=0.5) is True
    assert running_pid(run_dir, "fake") is None


def test_a_service_dying_at_start_up_fails_with_its_log(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    service = _service(tmp_path, "import sys; print('bad config line 3'); sys.exit(2)")
    proc = start(service, run_dir)
    with pytest.raises(StackError, match=r"(?s)exit code 2.*bad config line 3"):
        wait_healthy(service, run_dir, timeout=30, proc=proc)


def test_a_recycled_pid_is_not_taken_for_the_service(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    # pid 1 is alive but runs something else.
    (run_dir / "fake.pid").write_text('{"pid": 1, "command": ["not-our-command"]}')
    assert running_pid(run_dir, "fake") is None


def test_up_refuses_to_reuse_a_service_running_on_other_ports(tmp_path: Path) -> None:
    from dataclasses import replace

    from cta.stack.config import StackConfig
    from cta.stack.lifecycle import _ensure_running

    config = StackConfig(state_dir=tmp_path)
    service = replace(_service(tmp_path), port=19092)
    proc = start(service, config.run_dir)
    try:
        wait_healthy(service, config.run_dir, timeout=30, proc=proc)
        with pytest.raises(StackError, match="running on port 19092, not 29092"):
            _ensure_running(replace(service, port=29092), config)
        _ensure_running(service, config)  # same ports: kept as it is
        assert running_pid(config.run_dir, "fake") == proc.pid
    finally:
        stop("fake", config.run_dir, signal.SIGTERM, timeout=10)
