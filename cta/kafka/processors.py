"""The real backend's processors as supervised processes: the Faust stations worker and the
KSQL engine (``python -m cta.kafka.ksql_process``), each with its readiness probe and its own
log file; N instances of each (``cta processors --instances N``), each its own supervised child
with a stable id (``faust-stations-2``, ``ksql-engine-2``), its own log, data dir and metrics port.

``cta demo --backend kafka`` and ``cta processors`` run them under ``cta.supervisor``; compose
runs the Faust worker as a service with ``restart:`` and a healthcheck instead (ksqlDB is a
server of its own there).
"""

from __future__ import annotations

import sys
from functools import partial
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
from cta.kafka.ksql_process import READY_FILE_ENV
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


def _faust_caught_up(bootstrap_servers: str) -> bool:
    """``is_ready`` through a client made for this one probe: a long-lived one could answer
    from metadata gone stale when the broker restarted (the worker then looked not ready for
    minutes after a broker SIGKILL, until librdkafka's periodic metadata refresh)."""
    admin = KafkaTopicAdmin(bootstrap_servers, timeout=5.0)
    try:
        return is_ready(admin, APP_ID)
    finally:
        admin.close()


def _faust_ready_and_joined(log_path: Path, bootstrap_servers: str, pid: int) -> bool:
    return _faust_ready(log_path, pid) and _faust_caught_up(bootstrap_servers)


def _pid_written(path: Path, pid: int) -> bool:
    try:
        return path.read_text(encoding="utf-8").strip() == str(pid)
    except OSError:
        return False


def instance_name(processor: str, index: int, instances: int) -> str:
    """The stable id of instance ``index`` (1-based): its supervisor name, log file, data dir
    and consumer ``client.id``. A single instance keeps the processor's plain name."""
    return processor if instances == 1 else f"{processor}-{index}"


def processor_specs(
    settings: Settings,
    workdir: Path,
    *,
    instances: int = 1,
    metrics_base_port: int | None = None,
) -> list[ProcessSpec]:
    """The processes to supervise: ``instances`` Faust workers always, and as many KSQL engine
    processes unless a ksqlDB server is configured (``CTA_KSQL_URL``), which then runs the
    queries itself. The instances of a processor share one consumer group: Kafka divides the
    partitions between them and moves them on a join, a stop or a crash.
    ``metrics_base_port``: each instance serves ``/metrics`` on a port of its own, the KSQL
    engines from the base port, then the Faust workers (Faust's web server)."""
    admin = KafkaTopicAdmin(settings.bootstrap_servers, timeout=5.0)
    # Faust declares no topics: they (and its assignor topic) must exist before it starts.
    admin.create_topics(worker_topics(APP_ID))
    admin.close()
    return instance_specs(settings, workdir, instances, metrics_base_port)


def instance_specs(
    settings: Settings, workdir: Path, instances: int, metrics_base_port: int | None
) -> list[ProcessSpec]:
    """``processor_specs`` once the topics exist (asks nothing of Kafka until a probe runs)."""
    if instances < 1:
        raise ValueError(f"instances must be at least 1, got {instances}")
    workdir.mkdir(parents=True, exist_ok=True)
    env = FaustWorker(settings, workdir=workdir).environment()
    env["CTA_SCHEMA_REGISTRY_URL"] = settings.schema_registry_url
    ksql = not settings.ksql_url
    specs = []
    for index in range(1, instances + 1):
        name = instance_name(FAUST, index, instances)
        command = worker_command(workdir / f"{name}-data")
        if metrics_base_port:
            # Faust's web server (where /metrics is) instead of --without-web.
            port = metrics_base_port + (instances if ksql else 0) + index - 1
            command = [c for c in command if c != "--without-web"] + ["--web-port", str(port)]
        log_path = workdir / f"{name}.log"
        specs.append(
            ProcessSpec(
                name,
                command,
                env=env,
                cwd=workdir,
                log_path=log_path,
                ready=partial(_faust_ready_and_joined, log_path, settings.bootstrap_servers),
                # One worker at a time: the stations topics have one partition, so a second
                # worker is a standby; joining while the first processes the station rows
                # leaves them uncommitted (Faust does not commit them again after the move).
                start_after=None if index == 1 else instance_name(FAUST, index - 1, instances),
            )
        )
    for index in range(1, instances + 1) if ksql else ():
        name = instance_name(KSQL, index, instances)
        # The instance id is also the transactional ids' suffix: a restart fences the killed one.
        command = [sys.executable, "-m", "cta.kafka.ksql_process", "--instance", name]
        if metrics_base_port:
            command += ["--metrics-port", str(metrics_base_port + index - 1)]
        ready_file = workdir / f"{name}.ready"
        specs.append(
            ProcessSpec(
                name,
                command,
                env={**env, READY_FILE_ENV: str(ready_file)},
                cwd=PROJECT_ROOT,
                log_path=workdir / f"{name}.log",
                ready=partial(_pid_written, ready_file),
            )
        )
    return specs


def default_workdir() -> Path:
    return PROJECT_ROOT / ".stack" / "processors"


def supervise(
    settings: Settings,
    workdir: Path | None = None,
    *,
    instances: int = 1,
    metrics_base_port: int | None = None,
) -> Supervisor:
    """A started Supervisor over ``processor_specs``; its logs go to ``workdir``."""
    specs = processor_specs(
        settings,
        workdir or default_workdir(),
        instances=instances,
        metrics_base_port=metrics_base_port,
    )
    return Supervisor(specs).start()


def hand_over_ksql(engine: KsqlEngine | None) -> None:
    """Stop the in-process KSQL queries ``Pipeline.setup`` created, so the supervised
    ``python -m cta.kafka.ksql_process`` process is the only member of their groups."""
    if engine is not None:
        engine.close()
