"""FaustWorker: the command and topic list (pure), and a real worker on the real stack."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cta.config import Settings
from cta.data import load_station_rows
from cta.kafka.admin import KafkaTopicAdmin
from cta.kafka.event_log import KafkaEventLog
from cta.kafka.faust_worker import (
    APP_ID,
    APP_MODULE,
    FaustWorker,
    FaustWorkerError,
    main,
    worker_command,
    worker_topics,
)
from cta.processors.stations import GROUP_ID
from cta.runtime import wait_for
from cta.topics import PIPELINE_TOPICS, STATIONS_RAW, STATIONS_TABLE


def test_app_id_is_the_stations_group() -> None:
    assert APP_ID == GROUP_ID


def test_worker_topics_are_the_pipeline_plus_faust_leader_topic() -> None:
    topics = worker_topics()
    assert topics[: len(PIPELINE_TOPICS)] == list(PIPELINE_TOPICS)
    assert topics[-1].name == f"{APP_ID}-__assignor-__leader"
    assert topics[-1].partitions == 1
    assert STATIONS_TABLE in {t.name for t in topics if t.compacted}


def test_worker_command_runs_the_app_module_without_web(tmp_path: Path) -> None:
    command = worker_command(tmp_path / "data", python="py")
    assert command[:5] == ["py", "-m", "faust", "-A", APP_MODULE]
    assert command[command.index("--datadir") + 1] == str(tmp_path / "data")
    assert command[command.index("worker") :] == ["worker", "-l", "info", "--without-web"]


def test_environment_points_the_worker_at_the_broker_and_this_checkout(tmp_path: Path) -> None:
    worker = FaustWorker(Settings(bootstrap_servers="broker:1"), workdir=tmp_path)
    env = worker.environment()
    assert env["CTA_BOOTSTRAP_SERVERS"] == "broker:1"
    root = Path(__file__).resolve().parents[2]
    assert str(root) in env["PYTHONPATH"].split(":")


def test_wait_ready_before_start_is_an_error(tmp_path: Path) -> None:
    worker = FaustWorker(Settings(bootstrap_servers="127.0.0.1:9"), workdir=tmp_path)
    with pytest.raises(FaustWorkerError, match="not started"):
        worker.wait_ready(1)


def test_a_worker_that_dies_is_reported_with_its_log(tmp_path: Path) -> None:
    worker = FaustWorker(
        Settings(bootstrap_servers="127.0.0.1:9"),
        workdir=tmp_path,
        command=[sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"],
        create_topics=False,
    )
    worker.start()
    wait_for(lambda: worker.returncode() is not None, timeout=10, what="the process to exit")
    with pytest.raises(FaustWorkerError, match="exited with 3") as failure:
        worker.wait_ready(10)
    assert "boom" in str(failure.value)
    assert worker.stop() == 3


def test_main_rejects_unknown_commands() -> None:
    assert main(["nonsense"]) == 2


@pytest.mark.kafka
def test_worker_joins_and_turns_raw_rows_into_the_table(real_settings: Settings) -> None:
    # A row exactly as the connector writes it (same key and value), so the shared topic keeps
    # only data it would hold anyway.
    row = next(r for r in load_station_rows() if r.red)
    bootstrap = real_settings.bootstrap_servers
    admin = KafkaTopicAdmin(bootstrap)
    worker = FaustWorker(real_settings)
    worker.start()
    try:
        table_before = sum(admin.end_offsets(STATIONS_TABLE).values())
        producer = KafkaEventLog(bootstrap).producer()
        producer.produce(
            STATIONS_RAW,
            json.dumps(row.as_json()).encode(),
            key=json.dumps({"stop_id": row.stop_id}).encode(),
        )
        producer.flush(20)
        worker.wait_ready(90)
        assert admin.group_lag(APP_ID).get((STATIONS_RAW, 0)) == 0
        assert sum(admin.end_offsets(STATIONS_TABLE).values()) > table_before
        assert main(["check"]) == 0
    finally:
        assert worker.stop() == 0
        admin.close()
