"""Several instances of each processor on the kafka backend, sharing partitions through their
consumer groups (Kafka does the sharing; nothing here coordinates them).

    python -m cta.scale ksql [--metrics-port 9310]       # one KSQL engine instance
    python -m cta.scale run --ksql 2 --faust 2 [--metrics-base-port 9310]

A KSQL instance runs the project's statements (idempotent: every instance gets the same query
id, hence the same group) and pumps its queries; when the group moves a partition to it, the
query reads the summary back so the state follows the partition (``CountQuery``). Its
``/metrics`` (``--metrics-port``) reports its records, dead letters and its groups' lag.
``run`` starts N KSQL instances and N Faust workers (each with its own data dir and web port,
where Faust serves ``/metrics``) as child processes and stops them all on Ctrl-C/SIGTERM.
A process supervisor (``cta processors``) may take over ``run``; ``ksql`` stays its unit.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from cta.config import Settings
from cta.metrics import process_metrics
from cta.runtime import BackgroundPump

log = logging.getLogger(__name__)


def _stop_event() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def run_ksql_instance(settings: Settings, metrics_port: int | None, stop: threading.Event) -> int:
    """One in-process KSQL engine over the real topics, until ``stop`` is set."""
    from cta.kafka.admin import KafkaTopicAdmin
    from cta.kafka.event_log import KafkaEventLog
    from cta.kafka.registry import HttpSchemaRegistry
    from cta.ksql.client import statement_files
    from cta.ksql.engine import OFFSET_RESET, KsqlEngine

    event_log = KafkaEventLog(settings.bootstrap_servers)
    admin = KafkaTopicAdmin(settings.bootstrap_servers)
    engine = KsqlEngine(event_log, admin, HttpSchemaRegistry(settings.schema_registry_url))
    for path in statement_files():
        engine.execute(path.read_text(encoding="utf-8"), {OFFSET_RESET: "earliest"})
    metrics = process_metrics()
    metrics.watch_lag(admin, lambda: [q.group_id for q in engine.queries()])
    if metrics_port:
        metrics.serve(metrics_port, settings.dashboard_host)
    runner = BackgroundPump(engine).start()
    log.info("ksql instance: queries %s", [q.name for q in engine.queries()])
    try:
        stop.wait()
    finally:
        runner.stop()
        engine.close()
    return 0


def instance_commands(
    ksql: int, faust: int, metrics_base_port: int | None, workdir: Path
) -> list[list[str]]:
    """The child processes of ``run``: ``ksql`` engine instances, then ``faust`` workers."""
    from cta.kafka.faust_worker import worker_command

    commands = []
    for index in range(ksql):
        command = [sys.executable, "-m", "cta.scale", "ksql"]
        if metrics_base_port:
            command += ["--metrics-port", str(metrics_base_port + index)]
        commands.append(command)
    for index in range(faust):
        command = worker_command(workdir / f"faust-{index + 1}")
        if metrics_base_port:
            # Faust's web server (where /metrics is) instead of --without-web.
            port = metrics_base_port + ksql + index
            command = [c for c in command if c != "--without-web"] + ["--web-port", str(port)]
        commands.append(command)
    return commands


def run_instances(
    settings: Settings, ksql: int, faust: int, metrics_base_port: int | None, stop: threading.Event
) -> int:
    from cta.kafka.admin import KafkaTopicAdmin
    from cta.kafka.faust_worker import worker_topics

    KafkaTopicAdmin(settings.bootstrap_servers).create_topics(worker_topics())
    workdir = Path(tempfile.mkdtemp(prefix="cta-scale-"))
    children: list[subprocess.Popen[bytes]] = []
    for command in instance_commands(ksql, faust, metrics_base_port, workdir):
        log_file = (workdir / f"instance-{len(children) + 1}.log").open("ab")
        children.append(subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT))
    print(f"{ksql} KSQL and {faust} Faust instances; logs in {workdir}", flush=True)
    try:
        while not stop.wait(1.0):
            for child in children:
                if child.poll() is not None:
                    log.error("instance %s exited with %s", child.args, child.returncode)
                    stop.set()
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0 if all(c.returncode in (0, -signal.SIGTERM) for c in children) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cta.scale", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ksql = sub.add_parser("ksql", help="one KSQL engine instance")
    ksql.add_argument("--metrics-port", type=int, default=None)
    run = sub.add_parser("run", help="N KSQL instances and N Faust workers")
    run.add_argument("--ksql", type=int, default=2)
    run.add_argument("--faust", type=int, default=2)
    run.add_argument("--metrics-base-port", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings.from_env()
    stop = _stop_event()
    if args.command == "ksql":
        return run_ksql_instance(settings, args.metrics_port, stop)
    return run_instances(settings, args.ksql, args.faust, args.metrics_base_port, stop)


if __name__ == "__main__":
    sys.exit(main())
