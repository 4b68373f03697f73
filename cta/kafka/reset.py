"""Resetting the real stack to an empty pipeline (tests, and ``cta stack reset``).

Deletes the ``stations`` connector together with its stored source offsets and its replication
slot, the pipeline's consumer groups and topics, so the next set-up snapshots the table again and
every topic starts empty: the same starting point as a fresh in-process backend.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import psycopg
import requests
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from cta import topics
from cta.config import Settings
from cta.connect.config import CONNECTOR_NAME, SLOT_NAME
from cta.runtime import wait_for

log = logging.getLogger(__name__)

# Topics the pipeline and its processors own (besides PIPELINE_TOPICS): Faust's internal topics
# and the KSQL engine's, named after their application / query ids.
OWNED_PREFIXES = ("stations-stream-", "_confluent-ksql-")
# Connect's own group and storage topics survive a reset: they hold every other connector.
KEPT_GROUP_PREFIXES = ("connect-", "cta-connect")


def reset_pipeline(settings: Settings, *, timeout: float = 90.0) -> None:
    _remove_connector(settings.connect_url, CONNECTOR_NAME, timeout=timeout)
    _drop_replication_slot(settings.database_url, SLOT_NAME)
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    _delete_groups(admin, timeout=timeout)
    _delete_topics(admin, timeout=timeout)


def _remove_connector(connect_url: str, name: str, *, timeout: float) -> None:
    """Stop the connector, drop its offsets (Connect 3.6+), then delete it."""
    base = f"{connect_url.rstrip('/')}/connectors/{name}"
    if requests.get(base, timeout=10).status_code == 404:
        return
    requests.put(f"{base}/stop", timeout=10).raise_for_status()
    wait_for(
        lambda: (
            requests.get(f"{base}/status", timeout=10).json()["connector"]["state"] == "STOPPED"
        ),
        timeout=timeout,
        interval=0.2,
        what=f"connector {name} to stop",
    )
    answer = requests.delete(f"{base}/offsets", timeout=30)
    if answer.status_code >= 400:
        raise RuntimeError(f"resetting the offsets of {name} failed: {answer.text}")
    requests.delete(base, timeout=10).raise_for_status()
    wait_for(
        lambda: requests.get(base, timeout=10).status_code == 404,
        timeout=timeout,
        interval=0.2,
        what=f"connector {name} to go",
    )


def _drop_replication_slot(dsn: str, slot: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        deadline = time.monotonic() + 30
        while True:
            row = connection.execute(
                "SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,)
            ).fetchone()
            if row is None:
                return
            if not row[0]:
                connection.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"replication slot {slot} is still in use")
            time.sleep(0.2)  # the connector task releases the slot as it stops


def _owned(names: Iterable[str]) -> list[str]:
    pipeline = {spec.name for spec in topics.PIPELINE_TOPICS}
    return [n for n in names if n in pipeline or n.startswith(OWNED_PREFIXES)]


def _delete_groups(admin: AdminClient, *, timeout: float) -> None:
    """Delete the pipeline's groups. A member of a process that died without leaving keeps
    its group "not empty" until its session times out, so that is waited for, then reported."""
    deadline = time.monotonic() + timeout
    while True:
        listed = admin.list_consumer_groups().result(timeout=30)
        groups = [
            g.group_id for g in listed.valid if not g.group_id.startswith(KEPT_GROUP_PREFIXES)
        ]
        if not groups:
            return
        busy: dict[str, str] = {}
        for group, future in admin.delete_consumer_groups(groups).items():
            try:
                future.result(timeout=30)
            except KafkaException as exc:
                busy[group] = str(exc)
        if not busy:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"consumer groups still in use after {timeout}s: {busy}")
        log.info("waiting for stale members to leave %s", sorted(busy))
        time.sleep(1.0)


def _delete_topics(admin: AdminClient, *, timeout: float) -> None:
    doomed = _owned(admin.list_topics(timeout=30).topics)
    if not doomed:
        return
    for future in admin.delete_topics(doomed, operation_timeout=30).values():
        future.result(timeout=60)
    wait_for(
        lambda: not set(doomed) & set(admin.list_topics(timeout=30).topics),
        timeout=timeout,
        interval=0.2,
        what="topics to be deleted",
    )
