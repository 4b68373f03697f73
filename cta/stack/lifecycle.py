"""Bringing the stack up in dependency order and taking it down again."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection

from cta.stack import cluster, connect, postgres, registry, rest_proxy
from cta.stack.config import StackConfig, StackEndpoints, port_in_use
from cta.stack.java import check_java
from cta.stack.processes import (
    StackError,
    is_healthy,
    read_pid,
    running_pid,
    start,
    stop,
    wait_healthy,
)
from cta.stack.service import Service, start_order

log = logging.getLogger(__name__)


def services(config: StackConfig) -> list[Service]:
    """Every service of the stack, dependencies first. Postgres goes first as it starts in a
    second; the JVMs start one after another since the machine has two cores."""
    return start_order(
        [
            postgres.service(config),
            *cluster.kafka_services(config),
            registry.service(config),
            connect.service(config),
            rest_proxy.service(config),
        ]
    )


def up(config: StackConfig, only: Collection[str] | None = None) -> StackEndpoints:
    """Start what is not running (reusing downloads and data), wait until each service is
    healthy, and write ``endpoints.env``. Services already running are kept. ``only`` names the
    services wanted (their dependencies come along); None means all."""
    check_java(config)
    for folder in (config.logs_dir, config.run_dir, config.data_dir, config.cache_dir):
        folder.mkdir(parents=True, exist_ok=True)
    for service in _selected(services(config), only):
        if service.unavailable is not None:
            log.warning("skipping %s: %s", service.name, service.unavailable)
            continue
        _ensure_running(service, config)
    endpoints = config.endpoints()
    endpoints.write(config.endpoints_file)
    return endpoints


def _selected(ordered: list[Service], only: Collection[str] | None) -> list[Service]:
    if only is None:
        return ordered
    by_name = {s.name: s for s in ordered}
    unknown = set(only) - set(by_name)
    if unknown:
        raise StackError(f"unknown services {sorted(unknown)}; known: {sorted(by_name)}")
    wanted: set[str] = set()
    pending = list(only)
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending.extend(by_name[name].depends_on)
    return [s for s in ordered if s.name in wanted]


def _ensure_running(service: Service, config: StackConfig) -> None:
    began = time.monotonic()
    if running_pid(config.run_dir, service.name) is not None:
        record = read_pid(config.run_dir, service.name)
        if record is not None and record.port not in (None, service.port):
            raise StackError(
                f"{service.name} is running on port {record.port}, not {service.port}: "
                "run `cta stack down` first to change ports"
            )
        log.info("%s already running", service.name)
        wait_healthy(service, config.run_dir, config.health_timeout)
    else:
        if service.port is not None and port_in_use(config.host, service.port):
            raise StackError(
                f"{service.name}: port {service.port} is taken by a process this stack did not "
                f"start; stop it or choose other ports"
            )
        if service.prepare is not None:
            service.prepare()
        log.info("starting %s", service.name)
        proc = start(service, config.run_dir)
        wait_healthy(service, config.run_dir, config.health_timeout, proc)
    if service.after_start is not None:
        service.after_start()
    log.info("%s healthy (%.1fs)", service.name, time.monotonic() - began)


def down(config: StackConfig) -> list[str]:
    """Stop every service, dependents first (SIGTERM, SIGKILL after ``stop_timeout``). Data
    and downloads stay. Returns the names of the services that were running."""
    stopped: list[str] = []
    nodes = set(cluster.node_names(config)) if config.brokers > 1 else set()
    for service in reversed(services(config)):
        if service.name in nodes:
            # All at once: a node stopped after the quorum lost its majority waits in vain.
            stopped += cluster.stop_nodes(config)
            nodes.clear()
            continue
        if config.brokers > 1 and service.name in cluster.node_names(config):
            continue  # stopped with the first node met
        if stop(service.name, config.run_dir, service.stop_signal, config.stop_timeout):
            log.info("stopped %s", service.name)
            stopped.append(service.name)
    config.endpoints_file.unlink(missing_ok=True)
    return stopped


def stop_service(config: StackConfig, name: str) -> bool:
    """Stop one service (SIGTERM, SIGKILL after ``stop_timeout``) and wait until its process is
    gone; its data stays, so ``up(config, only=[name])`` starts it again where it left off.
    Returns whether it was running. Dependents are not stopped (failure tests rely on that)."""
    by_name = {s.name: s for s in services(config)}
    service = by_name.get(name)
    if service is None:
        raise StackError(f"unknown service {name!r}; known: {sorted(by_name)}")
    stopped = stop(name, config.run_dir, service.stop_signal, config.stop_timeout)
    if stopped:
        log.info("stopped %s", name)
    return stopped


def service_state(service: Service, config: StackConfig) -> str:
    """``running``, ``unhealthy`` (process up, check failing), ``external`` (healthy but not
    started by us), ``stopped`` or ``unavailable``."""
    pid = running_pid(config.run_dir, service.name)
    healthy = is_healthy(service)
    if pid is not None:
        return "running" if healthy else "unhealthy"
    if healthy:
        return "external"
    return "unavailable" if service.unavailable is not None else "stopped"
