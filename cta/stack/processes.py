"""Starting, finding and stopping the stack's processes: pid files, health waits, signals."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pwd
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cta.stack.service import Service

log = logging.getLogger(__name__)


# Processes this interpreter started, by pid: kept so they are reaped (no zombies) and never
# reported by Popen as "still running" when garbage-collected.
_STARTED: dict[int, subprocess.Popen[bytes]] = {}


class StackError(RuntimeError):
    """A service could not be prepared, started or reached; the message says which and why."""


@dataclass(frozen=True, slots=True)
class PidRecord:
    pid: int
    command: tuple[str, ...]
    port: int | None = None


def pid_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.pid"


def read_pid(run_dir: Path, name: str) -> PidRecord | None:
    try:
        data = json.loads(pid_file(run_dir, name).read_text(encoding="utf-8"))
        return PidRecord(int(data["pid"]), tuple(data["command"]), data.get("port"))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def _cmdline(pid: int) -> tuple[str, ...] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    # A zombie has exited: it only waits to be reaped.
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return None
    return tuple(part.decode() for part in raw.split(b"\0") if part)


def running_pid(run_dir: Path, name: str) -> int | None:
    """The pid of our running process for ``name``; a recycled pid running another program
    does not count."""
    record = read_pid(run_dir, name)
    if record is None:
        return None
    return record.pid if _cmdline(record.pid) == record.command else None


def tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def start(service: Service, run_dir: Path) -> subprocess.Popen[bytes]:
    """Start ``service`` detached (its own session, so it outlives the caller)."""
    service.log_file.parent.mkdir(parents=True, exist_ok=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **service.env}
    user = service.user if service.user and os.geteuid() == 0 else None
    group = pwd.getpwnam(user).pw_gid if user else None
    with open(service.log_file, "ab") as log_out:
        log_out.write(f"\n=== start {time.strftime('%Y-%m-%d %H:%M:%S')} ===\n".encode())
        log_out.flush()
        proc = subprocess.Popen(
            list(service.command),
            stdin=subprocess.DEVNULL,
            stdout=log_out,
            stderr=subprocess.STDOUT,
            cwd=service.cwd,
            env=env,
            user=user,
            group=group,
            extra_groups=[] if user else None,
            start_new_session=True,
        )
    record = {"pid": proc.pid, "command": list(service.command), "port": service.port}
    pid_file(run_dir, service.name).write_text(json.dumps(record), encoding="utf-8")
    _STARTED[proc.pid] = proc
    return proc


def wait_healthy(
    service: Service, run_dir: Path, timeout: float, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll the health check until it passes; fail at once if the process dies. Give ``proc``
    for a process we just started: right after exec its /proc cmdline can still be empty, so
    only the Popen knows for sure that it is alive."""
    deadline = time.monotonic() + timeout
    interval = 0.1
    while True:
        if _healthy(service):
            return
        exit_code = _exit_code(service.name, run_dir, proc)
        if exit_code is not None:
            raise StackError(
                f"{service.name} exited during start-up ({exit_code}); log {service.log_file}:\n"
                + tail(service.log_file)
            )
        if time.monotonic() > deadline:
            raise StackError(
                f"{service.name} not healthy after {timeout:.0f}s; log {service.log_file}:\n"
                + tail(service.log_file)
            )
        time.sleep(interval)
        interval = min(interval * 1.5, 1.0)


def _exit_code(name: str, run_dir: Path, proc: subprocess.Popen[bytes] | None) -> str | None:
    """None while the process runs, else how it ended."""
    if proc is not None:
        code = proc.poll()
        return None if code is None else f"exit code {code}"
    if running_pid(run_dir, name) is not None:
        return None
    _reap(read_pid(run_dir, name))
    return "gone"


def _healthy(service: Service) -> bool:
    try:
        return service.health()
    except Exception as exc:  # a health probe failing is "not yet", never fatal
        log.debug("%s health probe: %s", service.name, exc)
        return False


def is_healthy(service: Service) -> bool:
    return _healthy(service)


def stop(name: str, run_dir: Path, stop_signal: int, timeout: float) -> bool:
    """Signal the service's process group, then SIGKILL it after ``timeout``. Returns whether
    something was running."""
    record = read_pid(run_dir, name)
    pid = running_pid(run_dir, name)
    if record is None or pid is None:
        pid_file(run_dir, name).unlink(missing_ok=True)
        return False
    _signal_group(pid, stop_signal)
    deadline = time.monotonic() + timeout
    while running_pid(run_dir, name) is not None:
        _reap(record)
        if time.monotonic() > deadline:
            log.warning("%s ignored signal %s for %.0fs: killing it", name, stop_signal, timeout)
            _signal_group(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            stop_signal = signal.SIGKILL
        time.sleep(0.1)
    _reap(record)
    pid_file(run_dir, name).unlink(missing_ok=True)
    return True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


def _reap(record: PidRecord | None) -> None:
    """Collect an exited child of this process so it does not linger as a zombie."""
    if record is None:
        return
    proc = _STARTED.get(record.pid)
    if proc is not None:
        if proc.poll() is not None:
            del _STARTED[record.pid]
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(record.pid, os.WNOHANG)
