"""``cta demo --backend kafka`` stopped with Ctrl-C leaves nothing of its own behind: no Faust
worker process, and no consumer group with a member (the Faust worker's, the KSQL queries', the
dashboard feed's)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from confluent_kafka.admin import AdminClient

from cta.config import Settings
from cta.kafka.reset import KEPT_GROUP_PREFIXES, reset_pipeline
from cta.runtime import wait_for
from cta.stack.config import free_ports

pytestmark = pytest.mark.kafka


def children_of(pid: int) -> dict[int, str]:
    """Live child processes of ``pid``: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # ended while we looked
            continue
        # The command name may hold spaces or parentheses: the fields after the last ")".
        state, parent = stat.rpartition(")")[2].split()[:2]
        if int(parent) == pid and state != "Z":
            found[int(entry.name)] = command
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def pipeline_groups(admin: AdminClient) -> dict[str, int]:
    """The pipeline's consumer groups (Connect's kept aside) -> member count."""
    listed = admin.list_consumer_groups().result(timeout=30)
    names = [g.group_id for g in listed.valid if not g.group_id.startswith(KEPT_GROUP_PREFIXES)]
    if not names:
        return {}
    described = admin.describe_consumer_groups(names)
    return {name: len(done.result(timeout=30).members or []) for name, done in described.items()}


def test_ctrl_c_stops_the_faust_worker_and_every_group_leaves(settings: Settings) -> None:
    if settings.backend != "kafka":
        pytest.skip("runs with --backend kafka")
    reset_pipeline(settings)
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    (port,) = free_ports(1)
    env = {
        **os.environ,
        "CTA_BACKEND": "kafka",
        "CTA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "CTA_SCHEMA_REGISTRY_URL": settings.schema_registry_url,
        "CTA_REST_PROXY_URL": settings.rest_proxy_url,
        "CTA_CONNECT_URL": settings.connect_url,
        "CTA_KSQL_URL": settings.ksql_url,
        "CTA_DATABASE_URL": settings.database_url,
        "CTA_CONNECT_DATABASE_HOST": settings.connect_database_host,
        "CTA_CONNECT_DATABASE_PORT": str(settings.connect_database_port),
    }
    demo = subprocess.Popen(
        [sys.executable, "-c", "import sys; from cta.cli import main; sys.exit(main())",
         "demo", "--backend", "kafka", "--port", str(port), "--speed", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:

        def running() -> bool:
            assert demo.poll() is None, demo.communicate()[1][-3000:]
            try:
                up = requests.get(f"http://127.0.0.1:{port}/api/status", timeout=2).ok
            except requests.ConnectionError:
                return False
            groups = pipeline_groups(admin)
            ours = ("_confluent-ksql-", "cta-dashboard-", "stations-stream")
            # Each processor's group has a member. (A finished restore leaves an empty group of
            # its own, which Kafka expires later: it is not a processor that failed to join.)
            joined = all(
                any(g.startswith(prefix) and members > 0 for g, members in groups.items())
                for prefix in ours
            )
            return up and joined

        wait_for(running, timeout=300, interval=1.0, what="the demo with its processors")
        workers = {p: c for p, c in children_of(demo.pid).items() if "faust" in c}
        assert workers, "the demo runs no Faust worker: nothing to check"
        groups = pipeline_groups(admin)
        assert "stations-stream" in groups and any(g.startswith("cta-dashboard-") for g in groups)

        demo.send_signal(signal.SIGINT)
        out, err = demo.communicate(timeout=120)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode == 0, err[-3000:]
    assert "stopped." in out
    assert [pid for pid in workers if alive(pid)] == []
    # Left, not timed out: every group is empty at once, without waiting a session timeout.
    assert {g: n for g, n in pipeline_groups(admin).items() if n} == {}
