"""A private native stack (Kafka + the registry on free ports, a state dir of its own) for a
chaos run, with the broker's SIGKILL and restart. The shared stack is never touched."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from cta.config import Settings
from cta.runtime import wait_for
from cta.stack.config import StackConfig
from cta.stack.lifecycle import down, up
from cta.stack.processes import running_pid


@dataclass(frozen=True)
class ChaosStack:
    config: StackConfig
    settings: Settings

    def kill_broker(self) -> None:
        pid = running_pid(self.config.run_dir, "kafka")
        assert pid is not None, "the private broker is not running"
        os.kill(pid, signal.SIGKILL)
        wait_for(
            lambda: running_pid(self.config.run_dir, "kafka") is None,
            timeout=30,
            what="the broker gone after SIGKILL",
        )

    def restart_broker(self) -> None:
        up(self.config, only=["kafka"])


@contextmanager
def chaos_stack() -> Iterator[ChaosStack]:
    state = Path(tempfile.mkdtemp(prefix="cta-chaos-"))
    config = StackConfig(state_dir=state).with_free_ports()
    try:
        endpoints = up(config, only=["kafka", "registry"])
        settings = replace(
            Settings(),
            backend="kafka",
            bootstrap_servers=endpoints.bootstrap_servers,
            schema_registry_url=endpoints.schema_registry_url,
            ksql_url="",
        )
        yield ChaosStack(config, settings)
    finally:
        down(config)
        shutil.rmtree(state, ignore_errors=True)
