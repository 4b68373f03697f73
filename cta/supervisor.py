"""Supervising processor processes: restart on exit with capped backoff, report the ones that
keep dying, and say at any moment which are healthy.

A ``Supervisor`` starts one child per ``ProcessSpec`` and watches them from a thread (every
``poll_interval``). A child that exits (a crash, a SIGKILL, even exit code 0) is logged with the
reason (``exit code 1`` / ``killed by SIGKILL``) and started again after a backoff that doubles
from ``initial_backoff`` up to ``max_backoff``; a child that stayed up ``stable_after`` seconds
starts over from ``initial_backoff``. A child that exited ``max_exits`` times within ``window``
seconds is not restarted in a loop: it is marked FAILED, logged as an error and reported by
``health()`` until ``restart(name)`` or the next start.

Health is what ``/healthz`` shows: a child counts as up once its process runs and its optional
``ready`` probe (asked with the child's pid, e.g. "the Faust group is stable", "the KSQL
process has written its pid to its ready file") has passed since it last started.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)


class State(StrEnum):
    WAITING = "waiting"  # not started yet: waits for its start_after processor to be up
    STARTING = "starting"  # process running, not (yet) ready
    RUNNING = "running"  # process running and ready
    BACKOFF = "backoff"  # exited; waiting to start again
    FAILED = "failed"  # exited too often; not restarted
    STOPPED = "stopped"


@dataclass(frozen=True)
class RestartPolicy:
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    stable_after: float = 60.0
    max_exits: int = 5
    window: float = 120.0
    ready_interval: float = 1.0  # how often a not-yet-ready child's probe is asked
    # A child still not ready after this long is killed (SIGKILL) and restarted as if it had
    # died: a Faust worker started during a broker outage can hang for minutes. None: wait.
    ready_timeout: float | None = None


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    command: Sequence[str]
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    log_path: Path | None = None  # stdout+stderr appended here; None: inherited
    ready: Callable[[int], bool] | None = None  # asked with the child's pid
    # First start only once this processor is up (e.g. a second Faust worker: one joining while
    # the first still processes its first batch makes the group lose that batch's commit).
    start_after: str | None = None


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


@dataclass
class _Child:
    spec: ProcessSpec
    state: State = State.STOPPED
    process: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = None
    started_at: float = 0.0
    restart_at: float = 0.0
    backoff: float = 0.0
    restarts: int = 0
    exits: deque[float] = field(default_factory=deque)
    last_exit: str | None = None
    last_ready_check: float = 0.0

    def report(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "pid": self.process.pid if self.process is not None else None,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
        }


class Supervisor:
    """start() / stop() / health() / restart(name) over a set of child processes."""

    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        policy: RestartPolicy | None = None,
        *,
        poll_interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"processor names must be unique: {names}")
        unknown = {s.start_after for s in specs if s.start_after is not None} - set(names)
        if unknown:
            raise ValueError(f"start_after names no processor here: {sorted(unknown)}")
        self.policy = policy or RestartPolicy()
        self._children = {s.name: _Child(s) for s in specs}
        self._poll_interval = poll_interval
        self._clock = clock
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Supervisor:
        with self._lock:
            for child in self._children.values():
                if child.spec.start_after is None:
                    self._spawn(child)
                else:
                    child.state = State.WAITING
        self._stopping.clear()
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM every child, SIGKILL what is left after ``timeout``."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._lock:
            children = list(self._children.values())
            for child in children:
                if child.process is not None and child.process.poll() is None:
                    child.process.terminate()
            deadline = self._clock() + timeout
            for child in children:
                process = child.process
                if process is not None:
                    try:
                        process.wait(max(deadline - self._clock(), 0.1))
                    except subprocess.TimeoutExpired:
                        log.warning("processor %s ignored SIGTERM: killing it", child.spec.name)
                        process.kill()
                        process.wait()
                child.process = None
                child.state = State.STOPPED
                self._close_log(child)

    def restart(self, name: str) -> None:
        """Start a FAILED (or backing-off) child now, with a fresh record of exits."""
        with self._lock:
            child = self._children[name]
            if child.process is not None and child.process.poll() is None:
                return
            child.exits.clear()
            child.backoff = 0.0
            self._spawn(child)

    # -- health ---------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"ok": bool, "down": [names], "processors": {name: report}}``."""
        with self._lock:
            reports = {name: child.report() for name, child in self._children.items()}
        down = [name for name, r in reports.items() if r["state"] != State.RUNNING.value]
        return {"ok": not down, "down": down, "processors": reports}

    def pid(self, name: str) -> int | None:
        with self._lock:
            process = self._children[name].process
            return None if process is None or process.poll() is not None else process.pid

    def state(self, name: str) -> State:
        with self._lock:
            return self._children[name].state

    # -- the watch loop -------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stopping.wait(self._poll_interval):
            with self._lock:
                for child in self._children.values():
                    try:
                        self._check(child)
                    except Exception:  # the watcher must outlive one child's bad moment
                        log.exception("supervising %s failed", child.spec.name)

    def _check(self, child: _Child) -> None:
        now = self._clock()
        if child.state is State.WAITING:
            after = child.spec.start_after
            if after is not None and self._children[after].state is State.RUNNING:
                self._spawn(child)
            return
        if child.state is State.BACKOFF and now >= child.restart_at:
            child.restarts += 1
            self._spawn(child)
            return
        process = child.process
        if process is None or child.state not in (State.STARTING, State.RUNNING):
            return
        code = process.poll()
        if code is None:
            if child.state is State.STARTING:
                self._probe(child, now)
            return
        self._exited(child, code, now)

    def _probe(self, child: _Child, now: float) -> None:
        ready = child.spec.ready
        if ready is None:
            child.state = State.RUNNING
            return
        if now - child.last_ready_check < self.policy.ready_interval:
            return
        child.last_ready_check = now
        assert child.process is not None
        try:
            is_ready = ready(child.process.pid)
        except Exception as exc:  # a probe that cannot tell means "not yet"
            log.debug("readiness probe of %s failed: %s", child.spec.name, exc)
            is_ready = False
        if is_ready:
            child.state = State.RUNNING
            log.info("processor %s is up (pid %d)", child.spec.name, child.process.pid)
            return
        timeout = self.policy.ready_timeout
        if timeout is not None and now - child.started_at > timeout:
            log.warning(
                "processor %s not ready after %.0fs (pid %d): killing it to start it again",
                child.spec.name,
                now - child.started_at,
                child.process.pid,
            )
            child.process.kill()  # reaped by the next check, which restarts it

    def _exited(self, child: _Child, code: int, now: float) -> None:
        policy = self.policy
        child.last_exit = describe_exit(code)
        child.process = None
        self._close_log(child)
        child.exits.append(now)
        while child.exits and now - child.exits[0] > policy.window:
            child.exits.popleft()
        if len(child.exits) >= policy.max_exits:
            child.state = State.FAILED
            log.error(
                "processor %s keeps dying (%d exits in %.0fs, last: %s): not restarting it",
                child.spec.name,
                len(child.exits),
                policy.window,
                child.last_exit,
            )
            return
        stable = now - child.started_at >= policy.stable_after
        if stable or child.backoff == 0.0:
            child.backoff = policy.initial_backoff
        else:
            child.backoff = min(child.backoff * 2, policy.max_backoff)
        child.state = State.BACKOFF
        child.restart_at = now + child.backoff
        log.warning(
            "processor %s %s after %.1fs up; restarting in %.2fs",
            child.spec.name,
            child.last_exit,
            now - child.started_at,
            child.backoff,
        )

    def _spawn(self, child: _Child) -> None:
        spec = child.spec
        self._close_log(child)
        stdout: IO[bytes] | None = None
        if spec.log_path is not None:
            spec.log_path.parent.mkdir(parents=True, exist_ok=True)
            child.log_file = stdout = spec.log_path.open("ab")
        env = {**os.environ, **spec.env} if spec.env is not None else None
        child.process = subprocess.Popen(
            list(spec.command),
            cwd=spec.cwd,
            env=env,
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout is not None else None,
        )
        child.started_at = self._clock()
        child.last_ready_check = 0.0
        child.state = State.STARTING
        log.info("processor %s started (pid %d)", spec.name, child.process.pid)

    @staticmethod
    def _close_log(child: _Child) -> None:
        if child.log_file is not None:
            child.log_file.close()
            child.log_file = None


__all__ = ["ProcessSpec", "RestartPolicy", "State", "Supervisor", "describe_exit"]
