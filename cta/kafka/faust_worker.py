"""Runs the Faust stations app (``cta.processors.faust_app``, entered by ``cta.kafka.faust_entry``)
as a worker subprocess.

The app declares no topics (``topic_allow_declare=False``: brokers may refuse auto-creation, and
Faust's own declarations are fragile across broker versions), so ``start`` creates the pipeline
topics and Faust's assignor leader topic first. Ready means the group is stable with a member
and has committed everything on the raw stations topic.

``python -m cta.kafka.faust_worker check`` exits 0 when the worker is ready (a compose
healthcheck).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from cta.config import Settings
from cta.kafka.admin import KafkaTopicAdmin, TopicAdminError
from cta.runtime import wait_for
from cta.topics import PIPELINE_TOPICS, STATIONS_RAW, TopicSpec

APP_MODULE = "cta.kafka.faust_entry"
# The Faust app id, which is also its consumer group (cta.processors.stations.GROUP_ID).
APP_ID = "stations-stream"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class FaustWorkerError(RuntimeError):
    """The worker process exited or never became ready."""


def worker_topics(app_id: str = APP_ID) -> list[TopicSpec]:
    """Every topic the worker needs before it starts."""
    return [*PIPELINE_TOPICS, TopicSpec(f"{app_id}-__assignor-__leader", partitions=1)]


def worker_command(datadir: Path, python: str = sys.executable) -> list[str]:
    return [
        python, "-m", "faust", "-A", APP_MODULE, "--datadir", str(datadir),
        "worker", "-l", "info", "--without-web",
    ]  # fmt: skip


def is_ready(admin: KafkaTopicAdmin, app_id: str = APP_ID) -> bool:
    """Joined (a stable group with a member) and caught up on the raw stations topic."""
    try:
        state, members = admin.group_members(app_id)
        if state != "STABLE" or members == 0:
            return False
        ends = admin.end_offsets(STATIONS_RAW)
        lag = admin.group_lag(app_id)
    except (TopicAdminError, KeyError, TimeoutError):
        return False
    return all(end == 0 or lag.get((STATIONS_RAW, p)) == 0 for p, end in ends.items())


class FaustWorker:
    """start() / wait_ready(timeout) / stop() around one worker process. ``command`` replaces
    the faust command line (tests); ``create_topics=False`` leaves the topics to the caller."""

    def __init__(
        self,
        settings: Settings,
        *,
        app_id: str = APP_ID,
        workdir: Path | None = None,
        python: str = sys.executable,
        command: Sequence[str] | None = None,
        create_topics: bool = True,
    ) -> None:
        self._settings = settings
        self._app_id = app_id
        self._workdir = workdir or Path(tempfile.mkdtemp(prefix="cta-faust-"))
        self._python = python
        self._command = list(command) if command else None
        self._create_topics = create_topics
        self._admin = KafkaTopicAdmin(settings.bootstrap_servers)
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self._workdir / "worker.log"

    def environment(self) -> dict[str, str]:
        # The worker runs in its own directory: make sure it imports this checkout's ``cta``.
        paths = [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        return {
            **os.environ,
            "CTA_BOOTSTRAP_SERVERS": self._settings.bootstrap_servers,
            "PYTHONPATH": os.pathsep.join(paths),
        }

    def start(self) -> FaustWorker:
        if self._process is not None:
            raise FaustWorkerError("worker already started")
        if self._create_topics:
            self._admin.create_topics(worker_topics(self._app_id))
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            self._command or worker_command(self._workdir / "data", self._python),
            cwd=self._workdir,
            env=self.environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        return self

    def returncode(self) -> int | None:
        """The exit code once the process has ended; None while it runs (or never started)."""
        return None if self._process is None else self._process.poll()

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text("utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _ready(self) -> bool:
        if self._process is None:
            raise FaustWorkerError("worker not started")
        code = self._process.poll()
        if code is not None:
            raise FaustWorkerError(f"faust worker exited with {code}:\n{self.log_tail()}")
        return is_ready(self._admin, self._app_id)

    def wait_ready(self, timeout: float = 60.0) -> None:
        try:
            wait_for(self._ready, timeout=timeout, interval=0.5, what="the faust worker")
        except TimeoutError as exc:
            raise FaustWorkerError(f"{exc}; worker log:\n{self.log_tail()}") from exc

    def stop(self, timeout: float = 20.0) -> int | None:
        """Stop gracefully (SIGTERM), killing it after ``timeout``; returns its exit code."""
        process, self._process = self._process, None
        code = None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout)
            code = process.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        self._admin.close()
        return code


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    settings = Settings.from_env()
    if args == ["check"]:
        return 0 if is_ready(KafkaTopicAdmin(settings.bootstrap_servers)) else 1
    if args == ["topics"]:
        KafkaTopicAdmin(settings.bootstrap_servers).create_topics(worker_topics())
        return 0
    print("usage: python -m cta.kafka.faust_worker check|topics", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
