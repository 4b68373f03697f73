"""Standalone KSQL server: ``python -m cta.kafka.ksql_server --port 8088 --bootstrap-servers ...
--schema-registry-url ...`` serves the ksqlDB REST subset (``KsqlApp``) over the in-process
engine attached to real Kafka, and drives the queries it creates in a background thread.

It stands in for ksqlDB where Confluent's image cannot be had (the offline compose variant).
Unlike ksqlDB it keeps no command topic: statements live as long as the process (``cta setup``
applies them again, idempotently).
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from cta.config import Settings
from cta.http import serve
from cta.ksql.app import KsqlApp
from cta.ksql.engine import KsqlEngine
from cta.runtime import BackgroundPump

log = logging.getLogger("cta.ksql")
DEFAULT_PORT = 8088


def build_parser() -> argparse.ArgumentParser:
    defaults = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m cta.kafka.ksql_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--bootstrap-servers", default=defaults.bootstrap_servers)
    parser.add_argument("--schema-registry-url", default=defaults.schema_registry_url)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # Imported here: the real adapters pull in confluent-kafka.
    from cta.kafka.admin import KafkaTopicAdmin
    from cta.kafka.event_log import KafkaEventLog
    from cta.kafka.registry import HttpSchemaRegistry

    engine = KsqlEngine(
        KafkaEventLog(args.bootstrap_servers),
        KafkaTopicAdmin(args.bootstrap_servers),
        HttpSchemaRegistry(args.schema_registry_url),
    )
    # The engine is a pump over every query it runs, those created later included.
    queries = BackgroundPump(engine).start()
    server, _ = serve(KsqlApp(engine), args.host, args.port)
    log.info("KSQL (in-process engine) listening on http://%s:%d", args.host, args.port)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stop.wait()
    server.shutdown()
    queries.stop()


if __name__ == "__main__":
    main()
