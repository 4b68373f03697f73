"""The in-process KSQL engine as a process of its own: ``python -m cta.kafka.ksql_process``.

It registers the turnstile value schema (as ``Pipeline.setup`` does), executes the statement
files of ``sql/ksql/`` against the real topics (``CTA_BOOTSTRAP_SERVERS``,
``CTA_SCHEMA_REGISTRY_URL``), then pumps its persistent queries until SIGTERM/SIGINT, when it
publishes what it has counted, commits and leaves its groups. A failing round is logged and
retried with backoff. Once its queries have started (their totals restored from the sink) it
writes its pid to ``CTA_KSQL_READY_FILE`` when that is set: the supervisor's readiness probe.
Its consumers use a short session timeout, so after a SIGKILL the group hands the partitions
to the restarted process within seconds rather than after Kafka's 45 s default.

Its queries are exactly-once (one Kafka transaction per pump); ``CTA_KSQL_INSTANCE_ID`` names
the instance, so its transactional ids survive a restart and the restarted process fences the
killed one at once (its open transaction aborted). Give each instance of a scaled-out engine
its own id; without one an instance gets a random id, and a killed instance's open transaction
holds back read_committed readers until the transaction timeout (10 s).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from cta import schemas, topics
from cta.config import Settings
from cta.ksql.client import statement_files
from cta.ksql.engine import KsqlEngine
from cta.runtime import BackgroundPump

log = logging.getLogger("cta.ksql")

CONSUMER_CONFIG = {"session.timeout.ms": 10_000, "heartbeat.interval.ms": 2_000}
READY_FILE_ENV = "CTA_KSQL_READY_FILE"
INSTANCE_ENV = "CTA_KSQL_INSTANCE_ID"


def build_engine(settings: Settings) -> KsqlEngine:
    from cta.kafka.admin import KafkaTopicAdmin
    from cta.kafka.event_log import KafkaEventLog
    from cta.kafka.registry import HttpSchemaRegistry

    log_ = KafkaEventLog(settings.bootstrap_servers, consumer_config=CONSUMER_CONFIG)
    admin = KafkaTopicAdmin(settings.bootstrap_servers)
    registry = HttpSchemaRegistry(settings.schema_registry_url)
    admin.create_topics(topics.PIPELINE_TOPICS)
    registry.register(
        topics.subject_for(topics.TURNSTILES, is_key=False),
        schemas.load(schemas.TURNSTILE_VALUE),
    )
    engine = KsqlEngine(log_, admin, registry, instance_id=os.environ.get(INSTANCE_ENV) or None)
    for path in statement_files():
        engine.execute(
            path.read_text(encoding="utf-8"), {"ksql.streams.auto.offset.reset": "earliest"}
        )
    return engine


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    engine = build_engine(Settings.from_env())
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
