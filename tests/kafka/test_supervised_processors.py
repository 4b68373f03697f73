"""On the real stack: the Faust worker and the KSQL engine run supervised. ``kill -9`` of either
shows on /healthz (503, naming it), it is restarted, /healthz returns to 200, and the pipeline
works again without restarting anything else."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cta import topics
from cta.backend import Backend
from cta.config import Settings
from cta.dashboard.app import create_app
from cta.dashboard.state import DashboardState
from cta.domain.clock import CHICAGO
from cta.kafka.processors import FAUST, KSQL, hand_over_ksql, supervise
from cta.pipeline import Pipeline
from cta.processors.stations import decode_table_value
from cta.runtime import wait_for
from cta.supervisor import Supervisor
from cta.verify import read_all
from tests.test_settle import summary_total

log = logging.getLogger(__name__)


@pytest.fixture
def supervised(
    backend: Backend, settings: Settings, tmp_path: Path
) -> Iterator[tuple[Pipeline, Supervisor]]:
    if backend.name != "kafka":
        pytest.skip("supervision is for the real backend's processes")
    pipeline = Pipeline(backend, settings=settings)
    pipeline.setup(start_processors=False)
    hand_over_ksql(backend.ksql_engine)
    supervisor = supervise(settings, tmp_path)
    try:
        wait_for(lambda: supervisor.health()["ok"], timeout=180, interval=0.5, what="processors")
        yield pipeline, supervisor
    finally:
        supervisor.stop()
        for name in (FAUST, KSQL):
            path = tmp_path / f"{name}.log"
            if path.exists():
                log.info("%s log tail:\n%s", name, path.read_text()[-2000:])


def healthz(supervisor: Supervisor) -> tuple[int, dict[str, Any]]:
    app = create_app(DashboardState(), name=f"h{time.monotonic_ns()}", processors=supervisor.health)
    _, response = app.test_client.get("/healthz")
    return response.status, response.json


def kill_and_wait_back(supervisor: Supervisor, name: str) -> None:
    pid = supervisor.pid(name)
    assert pid is not None
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    wait_for(
        lambda: name in supervisor.health()["down"],
        timeout=30,
        interval=0.05,
        what=f"{name} reported down",
    )
    seen = time.monotonic() - killed
    status, body = healthz(supervisor)
    assert status == 503 and name in body["down"], body
    assert body["processors"][name]["last_exit"] == "killed by SIGKILL"
    wait_for(lambda: supervisor.health()["ok"], timeout=120, interval=0.2, what=f"{name} back")
    log.info(
        "%s: reported down %.2fs after SIGKILL, back after %.1fs",
        name,
        seen,
        time.monotonic() - killed,
    )
    assert healthz(supervisor)[0] == 200
    assert supervisor.pid(name) not in (None, pid)


def test_kill_9_of_the_faust_worker_is_reported_and_healed(
    supervised: tuple[Pipeline, Supervisor],
) -> None:
    pipeline, supervisor = supervised
    kill_and_wait_back(supervisor, FAUST)
    # Station updates reach the table again.
    db = pipeline.backend.stations_db
    row = next(r for r in db.rows() if r.stop_id == 30374)
    db.upsert(replace(row, station_name="Clark/Lake (after restart)"))

    def renamed() -> bool:
        table = [
            decode_table_value(r.value)
            for r in read_all(pipeline.backend, topics.STATIONS_TABLE)
            if r.value is not None
        ]
        return any(s.station_name == "Clark/Lake (after restart)" for s in table)

    wait_for(renamed, timeout=90, interval=0.5, what="the update to reach the stations table")


def test_kill_9_of_the_ksql_engine_is_reported_and_healed_with_exact_counts(
    supervised: tuple[Pipeline, Supervisor],
) -> None:
    pipeline, supervisor = supervised
    runner = pipeline.simulation(start=datetime(2026, 11, 23, 8, 0, tzinfo=CHICAGO), seed=5)
    try:
        runner.step()
        kill_and_wait_back(supervisor, KSQL)
        runner.step()
    finally:
        runner.close()
    entries = runner.progress.per_topic[topics.TURNSTILES]

    def counted() -> bool:
        return summary_total(read_all(pipeline.backend, topics.TURNSTILE_SUMMARY)) >= entries

    wait_for(counted, timeout=120, interval=0.5, what="the summary to count every entry")
    total = summary_total(read_all(pipeline.backend, topics.TURNSTILE_SUMMARY))
    log.info("summary %d, entries %d", total, entries)
