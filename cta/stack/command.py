"""``cta stack up|down|status``: the command-line face of the stack (``cta.cli`` calls
``main``)."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import replace

from cta.config import Settings
from cta.stack.config import StackConfig, StackEndpoints
from cta.stack.lifecycle import down, up
from cta.stack.processes import StackError
from cta.stack.status import status


def _show_progress() -> None:
    """Progress lines on stderr whatever the root logger does: a cold ``up`` takes a while."""
    logger = logging.getLogger("cta.stack")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("stack: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def with_brokers(config: StackConfig, brokers: int | None) -> StackConfig:
    """``config`` with ``brokers`` nodes; None keeps what the last ``up`` of this state dir
    started (its endpoints list every node), so ``down`` and ``status`` need no option."""
    if brokers is not None:
        return replace(config, brokers=brokers)
    written = StackEndpoints.read(config.endpoints_file)
    if written is None or config.brokers > 1:
        return config
    listed = written.bootstrap_servers.split(",")
    # The peers' broker ports as written; their controllers one up, as our layout has them.
    peers = [int(address.rsplit(":", 1)[1]) for address in listed[1:]]
    return replace(
        config,
        brokers=len(listed),
        cluster_ports=tuple(p for port in peers for p in (port, port + 1)),
    )


def main(
    action: str,
    settings: Settings | None = None,
    *,
    brokers: int | None = None,
    watch: bool = False,
) -> int:
    """Run one action; returns the exit code. Ports come from the ``CTA_*`` settings; the number
    of Kafka nodes from ``brokers``, else from the last ``up``'s endpoints."""
    _show_progress()
    config = with_brokers(StackConfig.from_settings(settings or Settings.from_env()), brokers)
    if action == "status" and watch:
        from cta.stack.watch import watch_forever

        return watch_forever(config)
    try:
        if action == "up":
            began = time.monotonic()
            endpoints = up(config)
            print(endpoints.render_env_file(), end="")
            print(
                f"# stack up in {time.monotonic() - began:.1f}s; "
                f"endpoints in {config.endpoints_file}",
                file=sys.stderr,
            )
            return 0
        if action == "down":
            stopped = down(config)
            print("stopped: " + (", ".join(stopped) or "nothing was running"))
            return 0
        if action == "status":
            report = status(config)
            print(report.render())
            wanted = [s for s in report.services if s.state != "unavailable"]
            return 0 if all(s.state in ("running", "external") for s in wanted) else 1
    except StackError as exc:
        print(f"cta stack {action}: {exc}", file=sys.stderr)
        return 1
    print(f"cta stack: unknown action {action!r} (up, down, status)", file=sys.stderr)
    return 2
