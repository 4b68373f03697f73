"""The in-process KSQL engine as a process of its own:

    python -m cta.kafka.ksql_process [--instance ksql-engine-2] [--metrics-port 9311]

It runs the project's KSQL set-up (``cta.ksql.project``: the turnstile value schema, then the
statement files of ``sql/ksql/``) against the real topics (``CTA_BOOTSTRAP_SERVERS``,
``CTA_SCHEMA_REGISTRY_URL``), then pumps its persistent queries until SIGTERM/SIGINT, when it
publishes what it has counted, commits and leaves its groups. A failing round is logged and
retried with backoff. Once its queries have started (their totals restored from the sink) it
writes its pid to ``CTA_KSQL_READY_FILE`` when that is set: the supervisor's readiness probe.

Several processes run side by side (``cta processors --instances N``): every one executes the
same statements, so its queries get the same ids and consumer groups, and Kafka shares the
partitions between them; when the group moves a partition to an instance, its query reads that
partition's totals back from the summary topic (``CountQuery``). ``--instance`` names the
process in its logs and as its consumers' ``client.id`` (what ``kafka-consumer-groups
--describe`` shows); ``--metrics-port`` serves its ``/metrics`` (records, dead letters, its
groups' lag). Its consumers use a short session timeout, so after a SIGKILL the group hands the
partitions to the survivors (or the restarted process) within seconds rather than after Kafka's
45 s default.

Its queries are exactly-once (one Kafka transaction per pump), and ``--instance`` is also their
transactional id's suffix: a restarted instance fences the killed one at once (its open
transaction aborted), so the supervisor always passes it. Without ``--instance`` (a process
started by hand) the transactional ids are random: two such processes never fence each other,
but a killed one's open transaction holds read_committed readers back until it times out (10 s).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from cta import topics
from cta.config import Settings
from cta.ksql.engine import KsqlEngine
from cta.ksql.project import apply_project_statements
from cta.metrics import process_metrics
from cta.runtime import BackgroundPump

log = logging.getLogger("cta.ksql")

CONSUMER_CONFIG = {"session.timeout.ms": 10_000, "heartbeat.interval.ms": 2_000}
READY_FILE_ENV = "CTA_KSQL_READY_FILE"
DEFAULT_INSTANCE = "ksql-engine"


def build_engine(settings: Settings, instance: str | None = None) -> KsqlEngine:
    """The engine with the project's statements applied; ``instance`` names it (logs, client.id)
    and makes its transactional ids stable across restarts (None: ids of its own)."""
    from cta.kafka.admin import KafkaTopicAdmin
    from cta.kafka.event_log import KafkaEventLog
    from cta.kafka.registry import HttpSchemaRegistry

    log_ = KafkaEventLog(
        settings.bootstrap_servers,
        consumer_config={**CONSUMER_CONFIG, "client.id": instance or DEFAULT_INSTANCE},
    )
    admin = KafkaTopicAdmin(settings.bootstrap_servers)
    registry = HttpSchemaRegistry(settings.schema_registry_url)
    admin.create_topics(topics.PIPELINE_TOPICS)
    engine = KsqlEngine(log_, admin, registry, instance_id=instance)
    apply_project_statements(registry, engine)
    metrics = process_metrics()
    metrics.watch_lag(admin, lambda: [q.group_id for q in engine.queries()])
    return engine


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cta.kafka.ksql_process")
    parser.add_argument(
        "--instance", default=None, help="this instance's stable id (default: ids of its own)"
    )
    parser.add_argument("--metrics-port", type=int, default=None, help="serve /metrics here")
    args = parser.parse_args(argv)
    name = args.instance or DEFAULT_INSTANCE
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s %(levelname)s %(name)s [{name}]: %(message)s"
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    settings = Settings.from_env()
    engine = build_engine(settings, args.instance)
    if args.metrics_port:
        process_metrics().serve(args.metrics_port, settings.dashboard_host)
    queries = [q.name for q in engine.queries()]
    log.info("KSQL engine running %s (pid %d)", ", ".join(queries) or "no queries", os.getpid())
    ready_file = os.environ.get(READY_FILE_ENV)
    if ready_file:
        Path(ready_file).write_text(str(os.getpid()), encoding="utf-8")
    runner = BackgroundPump(engine, poll_timeout=0.5).start()
    stop.wait()
    log.info("KSQL engine stopping: publishing and committing what it has counted")
    runner.stop(timeout=30)  # closes the engine: pending counts published, offsets committed
    return 0


if __name__ == "__main__":  # python -m cta.kafka.ksql_process
    sys.exit(main())
