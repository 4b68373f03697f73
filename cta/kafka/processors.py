"""The real backend's processors as supervised processes: the Faust stations worker and the
KSQL engine (``python -m cta.kafka.ksql_process``), each with its readiness probe and its own
log file.

``cta demo --backend kafka`` and ``cta processors`` run them under ``cta.supervisor``; compose
runs the Faust worker as a service with ``restart:`` and a healthcheck instead (ksqlDB is a
server of its own there).
"""

from __future__ import annotations

import sys
from pathlib import Path

from cta.config import Settings
from cta.kafka.admin import KafkaTopicAdmin
from cta.kafka.faust_worker import (
    APP_ID,
    PROJECT_ROOT,
    FaustWorker,
    is_ready,
    worker_command,
    worker_topics,
)
from cta.kafka.ksql_process import INSTANCE_ENV, READY_FILE_ENV
from cta.ksql.engine import KsqlEngine
from cta.supervisor import ProcessSpec, Supervisor

FAUST = "faust-stations"
KSQL = "ksql-engine"


def _faust_ready(log_path: Path, pid: int) -> bool:
    """This very process logged ``[^Worker]: Ready`` (after its group join), not an earlier one
    whose dead member may still make the group look stable."""
    try:
        with log_path.open("rb") as log_file:
            log_file.seek(0, 2)
            log_file.seek(max(log_file.tell() - 256 * 1024, 0))
            tail = log_file.read().decode("utf-8", errors="replace")
    except OSError:
        return False
    return f"] [{pid}] [INFO] [^Worker]: Ready" in tail


def _pid_written(path: Path, pid: int) -> bool:
    try:
        return path.read_text(encoding="utf-8").strip() == str(pid)
    except OSError:
        return False


def _faust_caught_up(bootstrap_servers: str) -> bool:
    """``is_ready`` through a client made for this one probe: a long-lived one could answer
    from metadata gone stale when the broker restarted (the worker then looked not ready for
    minutes after a broker SIGKILL, until librdkafka's periodic metadata refresh)."""
    admin = KafkaTopicAdmin(bootstrap_servers, timeout=5.0)
    try:
        return is_ready(admin, APP_ID)
    finally:
        admin.close()


def processor_specs(settings: Settings, workdir: Path) -> list[ProcessSpec]:
    """The processes to supervise: Faust always; the KSQL engine unless a ksqlDB server is
    configured (``CTA_KSQL_URL``), which then runs the queries itself."""
    workdir.mkdir(parents=True, exist_ok=True)
    admin = KafkaTopicAdmin(settings.bootstrap_servers, timeout=5.0)
    # Faust declares no topics: they (and its assignor topic) must exist before it starts.
    admin.create_topics(worker_topics(APP_ID))
    env = FaustWorker(settings, workdir=workdir).environment()
    env["CTA_SCHEMA_REGISTRY_URL"] = settings.schema_registry_url
    faust_log = workdir / f"{FAUST}.log"
    specs = [
        ProcessSpec(
            FAUST,
            worker_command(workdir / "faust-data"),
            env=env,
            cwd=workdir,
            log_path=faust_log,
            ready=lambda pid: (
                _faust_ready(faust_log, pid) and _faust_caught_up(settings.bootstrap_servers)
            ),
        )
    ]
    if not settings.ksql_url:
        ready_file = workdir / "ksql-engine.ready"
        specs.append(
            ProcessSpec(
                KSQL,
                [sys.executable, "-m", "cta.kafka.ksql_process"],
                # One engine: instance 0, restarted under the same transactional ids.
                env={**env, READY_FILE_ENV: str(ready_file), INSTANCE_ENV: "0"},
                cwd=PROJECT_ROOT,
                log_path=workdir / f"{KSQL}.log",
                ready=lambda pid: _pid_written(ready_file, pid),
            )
        )
    return specs


def default_workdir() -> Path:
    return PROJECT_ROOT / ".stack" / "processors"


def supervise(settings: Settings, workdir: Path | None = None) -> Supervisor:
    """A started Supervisor over ``processor_specs``; its logs go to ``workdir``."""
    return Supervisor(processor_specs(settings, workdir or default_workdir())).start()


def hand_over_ksql(engine: KsqlEngine | None) -> None:
    """Stop the in-process KSQL queries ``Pipeline.setup`` created, so the supervised
    ``python -m cta.kafka.ksql_process`` process is the only member of their groups."""
    if engine is not None:
        engine.close()
