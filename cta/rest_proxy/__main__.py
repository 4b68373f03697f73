"""Standalone REST Proxy: ``python -m cta.rest_proxy --port 8082 --bootstrap-servers ...
--schema-registry-url ...`` serves RestProxyApp (with Sanic) over real Kafka and a real
registry. ``--memory`` serves it over an in-process broker (pipeline topics created; topics
created on first use, as Kafka's default ``auto.create.topics.enable``) and registry.

Limits: ``--max-body-bytes`` (``CTA_REST_PROXY_MAX_BODY_BYTES``, default 8 MiB) and
``--max-record-bytes`` (``CTA_REST_PROXY_MAX_RECORD_BYTES``, default librdkafka's 1,000,000).
On Kafka, a missing topic is created on first produce when the broker's
``auto.create.topics.enable`` is true, else refused with 40401.
"""

from __future__ import annotations

import argparse
import logging
import os

from cta.config import Settings
from cta.ports import EventLog, SchemaRegistry, TopicAdmin
from cta.rest_proxy.app import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_RECORD_BYTES,
    ProxyLimits,
    RestProxyApp,
)
from cta.rest_proxy.server import create_server, run
from cta.topics import PIPELINE_TOPICS

log = logging.getLogger("cta.rest_proxy")

# A produce that the broker cannot take is failed by librdkafka after this long, so every
# request ends with a definite outcome per record instead of waiting out the 300 s default.
MESSAGE_TIMEOUT_MS = 2_500
# Topic metadata (and creation) waits no longer, so a broker that is away gives a 5xx in time.
ADMIN_TIMEOUT = 5.0


def _adapters(args: argparse.Namespace) -> tuple[EventLog, SchemaRegistry, TopicAdmin, bool]:
    if args.memory:
        from cta.memory.broker import MemoryBroker
        from cta.memory.registry import MemorySchemaRegistry

        broker = MemoryBroker(auto_create_topics=True)
        broker.create_topics(PIPELINE_TOPICS)
        return broker, MemorySchemaRegistry(), broker, True
    # Imported lazily: the real adapters pull in confluent-kafka.
    from cta.kafka.admin import KafkaTopicAdmin
    from cta.kafka.event_log import KafkaEventLog
    from cta.kafka.registry import HttpSchemaRegistry

    admin = KafkaTopicAdmin(args.bootstrap_servers, timeout=ADMIN_TIMEOUT)
    log_ = KafkaEventLog(
        args.bootstrap_servers, producer_config={"message.timeout.ms": MESSAGE_TIMEOUT_MS}
    )
    try:
        auto_create = admin.broker_config().get("auto.create.topics.enable") == "true"
    except Exception as exc:  # the broker away at start-up: ask again on the next start
        log.warning("cannot read the broker's auto.create.topics.enable (%s): assuming false", exc)
        auto_create = False
    return log_, HttpSchemaRegistry(args.schema_registry_url), admin, auto_create


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def main(argv: list[str] | None = None) -> None:
    defaults = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m cta.rest_proxy", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--bootstrap-servers", default=defaults.bootstrap_servers)
    parser.add_argument("--schema-registry-url", default=defaults.schema_registry_url)
    parser.add_argument("--memory", action="store_true", help="in-process broker and registry")
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=_env_int("CTA_REST_PROXY_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
    )
    parser.add_argument(
        "--max-record-bytes",
        type=int,
        default=_env_int("CTA_REST_PROXY_MAX_RECORD_BYTES", DEFAULT_MAX_RECORD_BYTES),
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    log_, registry, admin, auto_create = _adapters(args)
    limits = ProxyLimits(
        max_body_bytes=args.max_body_bytes,
        max_record_bytes=args.max_record_bytes,
        auto_create_topics=auto_create,
    )
    app = create_server(
        RestProxyApp(log_, registry, admin, limits), max_body_bytes=args.max_body_bytes
    )
    log.info(
        "REST Proxy v2 on http://%s:%d (auto-create topics: %s)", args.host, args.port, auto_create
    )
    run(app, args.host, args.port)


if __name__ == "__main__":
    main()
