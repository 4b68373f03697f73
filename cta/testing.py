"""Test support shared by the test folders: an in-process stack to compose a unit under test
from, a log expectation that fails when the expected record never comes, and listening sockets
without a bind-release race.

It lives in the package (not under ``tests/``) so benchmarks and other projects' tests can use
it too; nothing in ``cta`` imports it.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType

import requests

from cta import schemas
from cta.avro import AvroEncoder
from cta.http import Handler, in_process_session
from cta.memory.broker import MemoryBroker
from cta.memory.registry import MemorySchemaRegistry
from cta.memory.stations_db import MemoryStationDatabase
from cta.ports import Record
from cta.topics import PIPELINE_TOPICS, TopicSpec, subject_for


@dataclass
class InProcessStack:
    """The memory adapters a test composes its subject from: a broker (with the pipeline's
    topics unless told otherwise), a schema registry and a stations database, all empty."""

    broker: MemoryBroker = field(default_factory=MemoryBroker)
    registry: MemorySchemaRegistry = field(default_factory=MemorySchemaRegistry)
    stations_db: MemoryStationDatabase = field(default_factory=MemoryStationDatabase)

    @classmethod
    def create(
        cls, topics: Iterable[TopicSpec] = PIPELINE_TOPICS, *extra: TopicSpec
    ) -> InProcessStack:
        stack = cls()
        stack.broker.create_topics([*topics, *extra])
        return stack

    def encoder(self, topic: str, schema_name: str, *, is_key: bool = False) -> AvroEncoder:
        """An Avro encoder registering ``cta/schemas/<schema_name>.avsc`` under the topic's
        subject, as the producers do."""
        return AvroEncoder(
            self.registry, subject_for(topic, is_key=is_key), schemas.load(schema_name)
        )

    def records(self, topic: str) -> list[Record]:
        return self.broker.records(topic)

    @staticmethod
    def session(base_url: str, handler: Handler) -> requests.Session:
        """A requests session answered in process by an emulator's HTTP handler."""
        return in_process_session(base_url, handler)


class ExpectLog(logging.Filter):
    """Expect a log record on ``logger`` whose message matches ``pattern`` (cf. Tornado's
    ExpectLog): matching records are swallowed, so the suite's check for unexpected errors lets
    them pass, and with ``required`` (the default) leaving the block without one fails.

    The filter sits on the named logger itself: name the logger that emits the record."""

    def __init__(
        self,
        logger: str | logging.Logger,
        pattern: str,
        *,
        required: bool = True,
        level: int = logging.ERROR,
    ) -> None:
        super().__init__()
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self.pattern = re.compile(pattern)
        self.required = required
        self.level = level
        self.matched: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= self.level and self.pattern.search(record.getMessage()):
            self.matched.append(record)
            return False
        return True

    def __enter__(self) -> ExpectLog:
        self.logger.addFilter(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.logger.removeFilter(self)
        if exc_type is None and self.required and not self.matched:
            raise AssertionError(
                f"expected a log record on {self.logger.name!r} matching "
                f"{self.pattern.pattern!r} (level {logging.getLevelName(self.level)}+), got none"
            )


expect_log = ExpectLog


def listening_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A socket bound to a free port (or ``port``: a restarted server on the address its
    clients keep retrying) and listening: hand it to the server (Sanic's ``sock=``, or a child
    process's inherited fd), so no other process can take the port in between."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(100)
    return sock
