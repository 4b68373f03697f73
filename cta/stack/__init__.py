"""The native stack behind ``cta stack up|down|status``: Kafka (KRaft), Kafka Connect with
Debezium, Apicurio Registry, PostgreSQL and our REST Proxy, started from registry packages
(Maven Central, Debian) without Docker.

Logs go to ``.stack/logs/``, pids to ``.stack/run/``, data to ``.stack/data/``, downloads to
``.cache/stack/``; ``up`` writes the endpoints to ``.stack/endpoints.env``.
"""

from __future__ import annotations

from cta.stack.command import main
from cta.stack.config import StackConfig, StackEndpoints
from cta.stack.lifecycle import down, services, up
from cta.stack.processes import StackError
from cta.stack.status import StackStatus, status

__all__ = [
    "StackConfig",
    "StackEndpoints",
    "StackError",
    "StackStatus",
    "down",
    "main",
    "services",
    "status",
    "up",
]
