"""Standalone REST Proxy: ``python -m cta.rest_proxy --port 8082 --bootstrap-servers ...
--schema-registry-url ...`` serves RestProxyApp over real Kafka and a real registry.
``--memory`` serves it over an in-process broker (pipeline topics created) and registry."""

from __future__ import annotations

import argparse
import logging
import threading

from cta.config import Settings
from cta.http import serve
from cta.ports import EventLog, SchemaRegistry, TopicAdmin
from cta.rest_proxy.app import RestProxyApp
from cta.topics import PIPELINE_TOPICS

log = logging.getLogger("cta.rest_proxy")


def _adapters(args: argparse.Namespace) -> tuple[EventLog, SchemaRegistry, TopicAdmin]:
    if args.memory:
        from cta.memory.broker import MemoryBroker
        from cta.memory.registry import MemorySchemaRegistry

        broker = MemoryBroker()
        broker.create_topics(PIPELINE_TOPICS)
        return broker, MemorySchemaRegistry(), broker
    # Imported lazily: the real adapters pull in confluent-kafka.
    from cta.kafka.admin import KafkaTopicAdmin
    from cta.kafka.event_log import KafkaEventLog
    from cta.kafka.registry import HttpSchemaRegistry

    return (
        KafkaEventLog(args.bootstrap_servers),
        HttpSchemaRegistry(args.schema_registry_url),
        KafkaTopicAdmin(args.bootstrap_servers),
    )


def main(argv: list[str] | None = None) -> None:
    defaults = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m cta.rest_proxy", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--bootstrap-servers", default=defaults.bootstrap_servers)
    parser.add_argument("--schema-registry-url", default=defaults.schema_registry_url)
    parser.add_argument("--memory", action="store_true", help="in-process broker and registry")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    log_, registry, admin = _adapters(args)
    server, _ = serve(RestProxyApp(log_, registry, admin), args.host, args.port)
    log.info("REST Proxy v2 listening on http://%s:%d", args.host, server.server_address[1])
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
